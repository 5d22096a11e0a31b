"""Every figure takes ``ax=`` and returns the Axes it drew on (issue 18); iplot and coefplot draw the Results' own
numbers; the DAG drawing's edges never pass through another node's label box."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes

import causalspec as cs
from causalspec.errors import UnsupportedError
from causalspec.graph import DAG
from causalspec.report import coefplot, event_study_plot, iplot, love_plot, overlap_plot, plot_dag
from causalspec.report._cate_plots import cate_distribution_plot
from causalspec.report._dag_plot import dag_layout
from causalspec.report._figures import ROLE_STYLES, estimate_plot, figure_of, to_bytes
from causalspec.report._its_plots import its_plot
from causalspec.report._rd_plots import rd_bandwidth_plot, rd_plot
from causalspec.report._sc_plots import sc_gaps_plot, sc_path_plot, sc_weights_plot, sdid_trends_plot
from causalspec.robustness import specification_curve_plot
from causalspec.sensitivity import contour_plot, extreme_plot, parallel_trends_plot
from causalspec.sensitivity._plots import new_figure

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"


@pytest.fixture(scope="module")
def runs():
    names = ["feature_adoption", "mpdta_event_study", "mpdta_sun_abraham", "feature_psm", "rd_senate",
             "its_seatbelts", "mroz_iv"]
    return {n: cs.run(SPECS / f"{n}.yaml", refute=False) for n in names}


def _sc_result():
    """A synthetic-control result's extras, as the fit writes them (the fit itself takes seconds)."""
    path = [{"time": 2000 + t, "treated": 10.0 + t, "synthetic": 10.0 + 0.9 * t, "gap": 0.1 * t} for t in range(6)]
    plan = SimpleNamespace(outcome="y", name="sc")
    return SimpleNamespace(plan=plan, extras={
        "synthetic_control": {"path": path, "treatment_time": 2003, "treated_unit": "T",
                              "donors": [{"unit": "a", "weight": 0.7}, {"unit": "b", "weight": 0.3}]},
        "synthdid": {"trends": [{"time": 2000 + t, "treated": 5.0 + t, "sdid_control": 4.0 + t} for t in range(6)],
                     "time_weights": [{"time": 2001, "lambda": 0.4}, {"time": 2002, "lambda": 0.6}],
                     "unit_weights": [{"unit": "a", "sdid": 0.5, "sc": 0.6}, {"unit": "b", "sdid": 0.5, "sc": 0.4}],
                     "estimates": [{"estimator": "SDID", "estimate": -1.0, "std_error": 0.2}],
                     "treatment_time": 2003}})


def _drawers(runs):
    fa, es, psm = runs["feature_adoption"], runs["mpdta_event_study"], runs["feature_psm"]
    sc = _sc_result()
    return {
        "contour_plot": lambda ax: contour_plot(fa.sensitivity.ovb, ax=ax),
        "extreme_plot": lambda ax: extreme_plot(fa.sensitivity.ovb, ax=ax),
        "estimate_plot": lambda ax: estimate_plot(fa, ax=ax),
        "coefplot": lambda ax: coefplot([fa], ax=ax),
        "iplot": lambda ax: iplot([es, runs["mpdta_sun_abraham"]], ax=ax),
        "event_study_plot": lambda ax: event_study_plot(es, ax=ax),
        "love_plot": lambda ax: love_plot(psm, ax=ax),
        "rd_plot": lambda ax: rd_plot(runs["rd_senate"], ax=ax),
        "rd_bandwidth_plot": lambda ax: rd_bandwidth_plot(runs["rd_senate"], ax=ax),
        "its_plot": lambda ax: its_plot(runs["its_seatbelts"], ax=ax),
        "sc_path_plot": lambda ax: sc_path_plot(sc, ax=ax),
        "sc_gaps_plot": lambda ax: sc_gaps_plot(sc, ax=ax),
        "sc_weights_plot": lambda ax: sc_weights_plot(sc, ax=ax),
        "sdid_trends_plot": lambda ax: sdid_trends_plot(SimpleNamespace(plan=sc.plan, extras={
            "synthdid": sc.extras["synthdid"]}), ax=ax),
        "plot_dag": lambda ax: plot_dag(fa, ax=ax, layout="layered"),
    }


def test_every_single_panel_figure_draws_on_the_given_axes_and_returns_it(runs):
    for name, draw in _drawers(runs).items():
        fig = new_figure((6, 4))
        ax = fig.add_subplot(1, 1, 1)
        assert draw(ax) is ax, name
        assert len(fig.axes) == 1 and (ax.has_data() or ax.patches or ax.texts), name


def test_without_axes_each_figure_gets_a_new_figure_that_pyplot_never_holds(runs):
    before = plt.get_fignums()
    drawn = [draw(None) for draw in _drawers(runs).values()]
    assert all(isinstance(ax, Axes) for ax in drawn)
    assert len({id(ax.figure) for ax in drawn}) == len(drawn)  # one figure each
    assert plt.get_fignums() == before
    png = to_bytes(drawn[0], "png")
    assert png[:4] == b"\x89PNG" and to_bytes(drawn[0].figure, "svg").lstrip().startswith(b"<?xml")


def test_multi_panel_figures_take_one_axes_per_panel_and_refuse_a_wrong_number(runs):
    psm, es = runs["feature_psm"], runs["mpdta_event_study"]
    fig = new_figure((12, 4))
    pair = fig.subplots(1, 2)
    assert overlap_plot(psm, ax=pair) == tuple(pair)  # before and after matching
    with pytest.raises(UnsupportedError, match=r"ax: overlap_plot draws 2 panels; 1 Axes were given"):
        overlap_plot(psm, ax=pair[0])
    analyses = es.sensitivity.parallel_trends.analyses
    drawn = parallel_trends_plot(analyses)
    assert len(drawn) == len(analyses) == 2 and drawn[0].figure is drawn[1].figure
    with pytest.raises(UnsupportedError, match="parallel_trends_plot draws 2 panels; 3 Axes"):
        parallel_trends_plot(analyses, ax=new_figure().subplots(1, 3))
    with pytest.raises(UnsupportedError, match="ax: contour_plot draws on matplotlib Axes; got str"):
        contour_plot(runs["feature_adoption"].sensitivity.ovb, ax="left")
    assert figure_of(pair) is fig and to_bytes(tuple(pair), "png")[:4] == b"\x89PNG"


def test_the_specification_curve_draws_two_panels():
    curve = cs.run(SPECS / "feature_adoption.yaml", refute=False, all_adjustment_sets=True).specification_curve
    top, sets = specification_curve_plot(curve)
    assert top.figure is sets.figure and len(top.lines) >= 1
    with pytest.raises(UnsupportedError, match="draws 2 panels"):
        specification_curve_plot(curve, ax=new_figure().add_subplot(1, 1, 1))


def test_iplot_dodges_each_result_s_coefficients_and_marks_the_reference(runs):
    twfe, sa = runs["mpdta_event_study"], runs["mpdta_sun_abraham"]
    ax = iplot({"TWFE": twfe, "Sun-Abraham": sa}, sep=0.2)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["TWFE", "Sun-Abraham"]
    bars = [c for c in ax.containers]
    for bar, r, offset in zip(bars, (twfe, sa), (-0.1, 0.1)):
        rows = sorted(r.extras["event_study"], key=lambda row: row["relative_time"])
        line = bar.lines[0]
        assert list(line.get_xdata()) == pytest.approx([row["relative_time"] + offset for row in rows])
        assert list(line.get_ydata()) == pytest.approx([row["estimate"] for row in rows])
    refs = [ln for ln in ax.lines if list(ln.get_xdata()) == [-1, -1]]
    assert refs, "the reference period -1 is marked by a vertical line"
    assert "95% CI" in ax.get_ylabel()
    with pytest.raises(UnsupportedError, match="has no event-study coefficients"):
        iplot([twfe, runs["feature_adoption"]])


def test_coefplot_keeps_drops_and_renames_terms_like_etable(runs):
    fa, iv = runs["feature_adoption"], runs["mroz_iv"]
    ax = coefplot([fa, iv], names=["OLS", "IV"], keep=["feature", "exper"], drop=["sq$"],
                  dict={"feature_usage": "uses the feature"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["uses the feature", "exper"]
    ols = ax.containers[0].lines[0]
    assert list(ols.get_xdata()) == [fa.effect.estimate] and list(ols.get_ydata()) == [pytest.approx(-0.09)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["OLS", "IV"]
    with pytest.raises(UnsupportedError, match="keep / drop leave no term"):
        coefplot(fa, keep=["nothing_like_this"])
    with pytest.raises(UnsupportedError, match=r"keep\[0\]: '\(' is not a regular expression"):
        coefplot(fa, keep=["("])


# ------------------------------------------------------------------------------------------------ the DAG
def _crossings(lay):
    """(edge, node) pairs where a point of the drawn path lies inside another node's label box."""
    bad = set()
    for e in lay.edges:
        for p in e.points(40):
            for n, box in lay.boxes.items():
                if n not in (e.source, e.target) and box.contains(*p, margin=0.02):
                    bad.add((e.source, e.target, n))
    return bad


BUNDLED = sorted(p for p in SPECS.glob("*.yaml") if cs.load(p).dag is not None)
ENGINES = ["layered"] + (["dot"] if shutil.which("dot") else [])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_no_edge_of_a_bundled_dag_passes_through_another_node_s_label(path, engine):
    g = cs.load(path).graph
    lay = dag_layout(g.nodes, [(a, b) for a, op, b in g.edges if op == "->"],
                     [(a, b) for a, op, b in g.edges if op == "<->"], engine=engine)
    assert lay.engine == engine and set(lay.boxes) == set(g.nodes) and len(lay.edges) == len(g.edges)
    assert _crossings(lay) == set()
    for e in lay.edges:  # each path runs from its source's box to its target's box (dot rounds to 1/100 inch)
        first, last = e.points(1)[0], e.points(1)[-1]
        assert lay.boxes[e.source].contains(*first, margin=0.02) and lay.boxes[e.target].contains(*last, margin=0.02)


@pytest.mark.parametrize("seed", range(6))
def test_no_edge_of_a_random_dag_passes_through_a_label(seed):
    rng = random.Random(seed)
    names = [f"v{i}_{'x' * rng.randrange(0, 9)}" for i in range(rng.randrange(6, 14))]
    directed = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if rng.random() < 0.25]
    bidirected = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if rng.random() < 0.04]
    lay = dag_layout(names, directed, bidirected, engine="layered")
    assert _crossings(lay) == set()
    xs = {a: lay.boxes[a].x for a in names}
    assert all(xs[a] < xs[b] for a, b in directed)  # causal order left to right


def test_the_dag_colours_each_role_and_the_legend_names_them():
    spec = cs.Spec(name="m", treatment="x", outcome="y", dag={
        "edges": ["c -> x", "c -> y", "x -> m", "m -> y", "z -> x", "p -> y", "x -> k", "y -> k", "u -> m"],
        "latent": ["u"]})
    ax = plot_dag(spec, layout="layered")
    fill = {t.get_text(): None for t in ax.texts}
    for patch, text in zip(ax.patches[-len(fill):], ax.texts):
        fill[text.get_text()] = patch.get_facecolor()
    from matplotlib.colors import to_rgba

    want = {"x": "treatment", "y": "outcome", "c": "adjusted", "m": "mediator", "z": "instrument", "p": "precision",
            "k": "mediator", "u": "latent"}
    assert {n: fill[n] for n in want} == {n: to_rgba(ROLE_STYLES[c][0]) for n, c in want.items()}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["treatment", "outcome"] and "latent (unmeasured)" in labels
    with pytest.raises(UnsupportedError, match="dag: a Plan .* does not hold the DAG's edges"):
        plot_dag(cs.plan(spec))
    assert plot_dag(cs.plan(spec), dag=DAG.from_edges(["x -> y"]), layout="layered").texts


def test_the_plots_and_tables_page_runs_and_its_pictures_exist(tmp_path, monkeypatch, capsys):
    import re

    doc = (ROOT / "docs" / "plots-and-tables.md").read_text()
    for img in re.findall(r"\]\((figures/[^)]+)\)", doc):
        assert (ROOT / "docs" / img).is_file(), img
    code = "\n".join(re.findall(r"```python\n(.*?)```", doc, re.S))
    monkeypatch.chdir(ROOT)
    exec(compile(code.replace('savefig("', f'savefig("{tmp_path}/'), "docs/plots-and-tables.md", "exec"), {})
    printed = capsys.readouterr().out
    shown = re.search(r"```text\n(.*?)```", doc, re.S).group(1)
    assert printed.startswith(shown)  # the table on the page is the one the code prints
    assert (tmp_path / "iplot.png").stat().st_size > 5000

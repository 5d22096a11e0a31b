"""Figures for archives and reports: the DAG with each node's role, and the estimates; ``to_bytes`` renders any of
causalspec's figures.

Every plotting function draws on ``ax=`` and returns the Axes; :func:`dag_figure` and :func:`estimate_figure`
are the archive's and the report's hooks and return the whole Figure.
"""

from __future__ import annotations

import io
from typing import Any

from causalspec.designs import plan as make_plan
from causalspec.errors import UnsupportedError
from causalspec.graph import DAG
from causalspec.report._dag_plot import DagLayout, box_size, dag_layout
from causalspec.sensitivity._plots import new_axes, new_figure

__all__ = ["plot_dag", "dag_figure", "estimate_plot", "estimate_figure", "to_bytes", "figure_of", "dag_categories",
           "ROLE_STYLES"]

#: category -> (fill colour, legend label), in legend order (Okabe-Ito colours, distinct for colour-blind readers)
ROLE_STYLES: dict[str, tuple[str, str]] = {
    "treatment": ("#0072B2", "treatment"),
    "outcome": ("#009E73", "outcome"),
    "adjusted": ("#E69F00", "adjusted for (confounder)"),
    "precision": ("#F0E442", "precision covariate"),
    "instrument": ("#CC79A7", "instrument"),
    "mediator": ("#D55E00", "mediator / descendant of treatment"),
    "collider": ("#8C564B", "collider"),
    "latent": ("#FFFFFF", "latent (unmeasured)"),
    "unadjusted": ("#C8C8C8", "not adjusted for"),
}
ROLE_COLOURS = {k: v[0] for k, v in ROLE_STYLES.items()}  # the earlier name, kept for callers
_SAME = {"treatment", "outcome", "instrument", "collider", "latent", "precision"}


def dag_categories(plan, dag: DAG) -> dict[str, tuple[str, bool]]:
    """Each node's colour category and whether the plan adjusts for it (from the plan's own decisions)."""
    decided = {d.node: d for d in plan.decisions}
    out = {}
    for n in dag.nodes:
        d = decided.get(n)
        role, adjusted = (d.role, d.adjusted) if d is not None else ("latent" if n in dag.latent else "", False)
        if role in _SAME:
            category = role
        elif role in ("mediator", "descendant_of_treatment"):
            category = "mediator"
        else:
            category = "adjusted" if adjusted else "unadjusted"
        out[n] = (category, adjusted)
    return out


def _as_dag(dag) -> DAG:
    if isinstance(dag, DAG):
        return dag
    if isinstance(dag, str):
        return DAG.from_dagitty(dag)
    if hasattr(dag, "edges") and not isinstance(dag, (list, tuple)):  # the spec's dag: {edges, latent, nodes}
        return DAG.from_edges(dag.edges, latent=getattr(dag, "latent", ()), nodes=getattr(dag, "nodes", ()))
    return DAG.from_edges(list(dag))


def _resolve(source, dag) -> tuple[Any, DAG]:
    """(plan, DAG) from a Result, a Spec or a Plan (with ``dag=``)."""
    spec = None
    if hasattr(source, "decisions"):
        plan = source
    elif hasattr(source, "plan") and hasattr(source, "effect"):
        plan, spec = source.plan, getattr(source, "spec", None)
    elif hasattr(source, "graph") and hasattr(source, "treatment"):
        spec, plan = source, make_plan(source)
    else:
        raise UnsupportedError(f"plot_dag draws a Result, a Spec or a Plan, not {type(source).__name__}.",
                               loc="source", fix="Pass cs.run(...), cs.load(...) or cs.plan(...).")
    if dag is not None:
        return plan, _as_dag(dag)
    if spec is None:
        raise UnsupportedError("a Plan (or a Result fitted without its spec) does not hold the DAG's edges.",
                               loc="dag", fix="Pass dag= (the spec's dag, a causalspec DAG or a list of edges), or "
                                              "a Result from cs.run.")
    return plan, spec.graph


def _text_colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "black"


def _darker(hex_colour: str) -> str:
    if hex_colour.upper() == "#FFFFFF":
        return "#555555"
    return "#" + "".join(f"{int(int(hex_colour[i:i + 2], 16) * 0.6):02x}" for i in (1, 3, 5))


def plot_dag(source, ax=None, *, dag=None, layout: str = "auto", legend: bool = True, title: str | None = None):
    """The DAG with each node coloured by its role in the plan, and a legend of the roles.

    Roles: treatment, outcome, adjusted confounder, precision covariate, instrument, mediator or other descendant
    of the treatment, collider, latent, and nodes not adjusted for; adjusted nodes have a thick border, latent ones
    a dashed one, and ``a <-> b`` (an unobserved common cause) is a dashed double arrow.  Nodes are laid out left to
    right by causal order (graphviz ``dot`` when installed and ``layout="auto"`` or ``"dot"``, else the layered
    layout of :mod:`._dag_plot`); edges are routed so that none passes through another node's label.

    Parameters
    ----------
    source : a Result (from ``cs.run``), a Spec, or a Plan (then ``dag=`` is needed).
    ax : the Axes to draw on (a new figure sized to the graph when None).
    dag : the DAG to draw instead of the spec's: a causalspec DAG, dagitty text or a list of edges.
    layout : "auto", "dot" or "layered".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import causalspec as cs
    >>> ax = plot_dag(cs.load("specs/feature_adoption.yaml"), layout="layered")
    >>> sorted(t.get_text() for t in ax.texts)[:2]
    ['account_age', 'activity']
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path

    plan, graph = _resolve(source, dag)
    directed = [(a, b) for a, op, b in graph.edges if op == "->"]
    bidirected = [(a, b) for a, op, b in graph.edges if op == "<->"]
    lay: DagLayout = dag_layout(graph.nodes, directed, bidirected, engine=layout)
    x0, x1, y0, y1 = lay.extent
    pad = 0.25
    width, height = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    cats = dag_categories(plan, graph)
    used = [c for c in ROLE_STYLES if any(cat == c for cat, _ in cats.values())]
    if ax is None:  # one data unit is one inch, so the 9 pt labels fit the boxes exactly
        legend_w = 2.9 if legend else 0.0
        top = 0.4 if title else 0.0
        fig_w = width + legend_w
        fig_h = max(height, 0.26 * (len(used) + 1) + 0.3 if legend else 0) + top
        fig = new_figure((fig_w, fig_h), layout=None)
        ax = fig.add_axes((0, (fig_h - top - height) / fig_h / 2, width / fig_w, height / fig_h))
        scale = 1.0
    else:
        ax = new_axes(ax, what="plot_dag")
        fig = None
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if fig is None:  # a given Axes: shrink the labels to the scale it shows the graph at
        ax.apply_aspect()
        a, b = ax.transData.transform([(0, 0), (1, 0)])
        scale = min(1.0, (b[0] - a[0]) / ax.figure.dpi)
    for e in lay.edges:
        verts, codes = [e.segments[0][0]], [Path.MOVETO]
        for _, c1, c2, p1 in e.segments:
            verts += [c1, c2, p1]
            codes += [Path.CURVE4] * 3
        ax.add_patch(FancyArrowPatch(path=Path(verts, codes), arrowstyle="-|>" if e.kind == "directed" else "<|-|>",
                                     mutation_scale=11 * scale, lw=1.1, color="#444444" if e.kind == "directed"
                                     else "#aa3333", linestyle="-" if e.kind == "directed" else (0, (4, 2)),
                                     shrinkA=0, shrinkB=0, zorder=1))
    for n, box in lay.boxes.items():
        category, adjusted = cats[n]
        fill = ROLE_STYLES[category][0]
        ax.add_patch(FancyBboxPatch((box.x - box.w / 2, box.y - box.h / 2), box.w, box.h,
                                    boxstyle="round,pad=0,rounding_size=0.08", facecolor=fill,
                                    edgecolor=_darker(fill), lw=2.4 if adjusted else 1.0,
                                    linestyle=(0, (3, 2)) if category == "latent" else "-", zorder=2))
        ax.text(box.x, box.y, n, ha="center", va="center", fontsize=9 * scale, color=_text_colour(fill), zorder=3)
    if legend:
        handles = [Patch(facecolor=ROLE_STYLES[c][0], edgecolor=_darker(ROLE_STYLES[c][0]), label=ROLE_STYLES[c][1])
                   for c in used]
        if any(adj for _, adj in cats.values()):
            handles.append(Patch(facecolor="white", edgecolor="#333333", lw=2.4, label="thick border: in the "
                                 "adjustment set"))
        if bidirected:
            handles.append(Line2D([0], [0], color="#aa3333", ls=(0, (4, 2)), label="<-> unobserved common cause"))
        where = dict(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
        ax.legend(handles=handles, **where)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def dag_figure(plan, edges):
    """The archive's DAG figure (a Figure): :func:`plot_dag` of the plan with the spec's ``dag.edges``."""
    return plot_dag(plan, dag=edges).figure


def estimate_plot(result, *, ax=None):
    """Naive and adjusted estimates with their confidence intervals (and every adjustment set, if computed).
    Returns the Axes."""
    rows = [("naive (unadjusted)", result.naive), (f"{result.plan.estimator.value} (the plan)", result.effect)]
    curve = getattr(result, "specification_curve", None)
    for r in getattr(curve, "rows", ()):
        rows.append(("{" + ", ".join(r.adjustment_set) + "}", r))
    rows = [(label, e) for label, e in rows if e is not None]
    ax = new_axes(ax, (6.5, 0.55 * len(rows) + 1.2), what="estimate_plot")
    for i, (_, e) in enumerate(rows):
        ax.errorbar([e.estimate], [i], xerr=[[e.estimate - e.conf_low], [e.conf_high - e.estimate]], fmt="o",
                    color="#999999" if i == 0 else "#1f4e79", capsize=3)
    ax.axvline(0, color="#bbbbbb", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(f"effect of {result.plan.treatment} on {result.plan.outcome} ({result.plan.vcov.level:.0%} CI)")
    return ax


def estimate_figure(result):
    """The archive's and the report's estimates figure (a Figure): :func:`estimate_plot`."""
    return estimate_plot(result).figure


def figure_of(drawn):
    """The Figure that a causalspec plot drew on: given a Figure, an Axes or a sequence of Axes."""
    if hasattr(drawn, "savefig"):
        return drawn
    if hasattr(drawn, "figure"):
        return drawn.figure
    first = next(iter(drawn), None)
    if first is None or not hasattr(first, "figure"):
        raise UnsupportedError(f"cannot find the figure of {type(drawn).__name__}.",
                               fix="Pass a matplotlib Figure, Axes or a sequence of Axes.")
    return first.figure


def to_bytes(fig, fmt: str) -> bytes:
    """Render a figure (a Figure, an Axes or a sequence of Axes: the whole figure they are on) to PNG or SVG
    bytes."""
    buf = io.BytesIO()
    figure_of(fig).savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()

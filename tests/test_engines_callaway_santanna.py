"""Callaway & Sant'Anna from a spec on an engine (``engine: duckdb``) equals the in-memory spec path: every
aggregation's effect and SE, the event study, the pre-test, the naive contrast and the event-study covariance
that HonestDiD reads, to 1e-10 relative.  The engine works from cohort moments; ``aggte`` runs on pseudo-units
that carry those moments (causalspec/engines/_cs.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("duckdb", reason="the duckdb engine needs the duckdb package")

import causalspec as cs  # noqa: E402
from causalspec import engines as E  # noqa: E402
from causalspec.designs.event_study.callaway_santanna import fit_callaway_santanna  # noqa: E402
from causalspec.engines._cs import fit_callaway_santanna_engine, pseudo_units  # noqa: E402
from causalspec.errors import UnsupportedError  # noqa: E402
from test_engines_duckdb import SPECS, TOL, rel  # noqa: E402
from test_engines_spec import write_spec  # noqa: E402

NAME = "mpdta_callaway_santanna"
NO_COVARIATES = {"covariates": []}


def _design(**changes) -> dict:
    return {"design": {"type": "event_study", "unit": "countyreal", "time": "year", "first_treated": "first.treat",
                       "estimator": "callaway_santanna", **changes}, **NO_COVARIATES}


def assert_same_cs(eng, mem):
    assert rel([eng.effect.estimate, eng.effect.std_error, eng.naive.estimate, eng.naive.std_error],
               [mem.effect.estimate, mem.effect.std_error, mem.naive.estimate, mem.naive.std_error]) < TOL
    for a, b in zip(eng.extras["event_study"], mem.extras["event_study"], strict=True):
        assert a["relative_time"] == b["relative_time"]
        assert rel([a["estimate"], a["std_error"]], [b["estimate"], b["std_error"]]) < TOL
    for kind, agg in mem.extras["aggregations"].items():
        other = eng.extras["aggregations"][kind]
        assert rel([other["overall"]["att"], other["overall"]["se"]], [agg["overall"]["att"], agg["overall"]["se"]]) < TOL
        for x, y in zip(other.get("components", []), agg.get("components", []), strict=True):
            assert rel([x["att"], x["se"]], [y["att"], y["se"]]) < TOL
    gt_e = pd.DataFrame(eng.extras["att_gt"])
    gt_m = pd.DataFrame(mem.extras["att_gt"])
    assert rel(gt_e[["att", "se"]].to_numpy().ravel(), gt_m[["att", "se"]].to_numpy().ravel()) < TOL
    pe, pm = eng.extras["pretest"], mem.extras["pretest"]
    assert pe.get("df") == pm.get("df") and rel([pe["statistic"]], [pm["statistic"]]) < TOL
    assert eng.nobs == mem.nobs


@pytest.mark.parametrize("changes", [
    {},
    {"aggregation": "dynamic", "control_group": "not_yet_treated"},
    {"aggregation": "group", "base_period": "universal"},
    {"aggregation": "calendar", "anticipation": 1},
    {"aggregation": "dynamic", "min_e": -2, "max_e": 2, "balance_e": 1},
])
def test_the_spec_path_on_duckdb_equals_memory(tmp_path, changes):
    mem = cs.run(write_spec(tmp_path, NAME, _design(**changes)), refute=False)
    eng = cs.run(write_spec(tmp_path, NAME, _design(**changes), engine="duckdb"), refute=False)
    assert_same_cs(eng, mem)
    assert eng.extras["engine"] == "duckdb"
    assert any("cohort moments" in n for n in eng.notes)


def test_the_event_study_covariance_for_honestdid_equals_memory(tmp_path):
    plan = cs.plan(cs.load(write_spec(tmp_path, NAME, _design(base_period="universal"))))
    frame = pd.read_csv(SPECS / "data" / "mpdta.csv")
    mem = fit_callaway_santanna(plan, frame)
    eng = fit_callaway_santanna_engine(plan, E.duckdb.source(frame))
    assert mem.event_vcov.relative_times == eng.event_vcov.relative_times
    assert rel(eng.event_vcov.sigma.ravel(), mem.event_vcov.sigma.ravel()) < TOL
    assert rel(eng.event_vcov.beta, mem.event_vcov.beta) < TOL


def test_pseudo_units_carry_each_cohorts_count_mean_and_cross_products():
    rng = np.random.default_rng(7)
    frame = pd.read_csv(SPECS / "data" / "mpdta.csv")
    frame["lemp"] += rng.normal(0, 0.1, len(frame))
    cells = E.att_gt(E.duckdb.source(frame), "lemp", "year", "countyreal", "first.treat")
    inf, groups, w = pseudo_units(cells)
    assert w.sum() == pytest.approx(cells.n_units, rel=1e-14)
    # every cell's variance from the pseudo-units equals did's V from the moments
    V = inf.T @ (inf * w[:, None]) / cells.n_units
    assert rel(np.diag(V) / cells.n_units, cells.se ** 2) < TOL
    assert set(np.unique(groups)) == {2004.0, 2006.0, 2007.0, np.inf}


@pytest.mark.parametrize("changes,loc", [
    ({"covariates": ["lpop"]}, "covariates"),
    ({"design": {**_design()["design"], "bands": "uniform"}}, "design.bands"),
])
def test_what_the_engine_cannot_compute_for_callaway_santanna_is_refused_at_its_field(tmp_path, changes, loc):
    spec = {**_design(), **changes}
    with pytest.raises(UnsupportedError) as err:
        cs.plan(cs.load(write_spec(tmp_path, NAME, spec, engine="duckdb")))
    assert [p.loc for p in err.value.problems] == [loc]
    assert "engine: memory" in err.value.problems[0].fix

"""The DuckDB engine returns the in-memory numbers (1e-10 relative) for every estimator it offers, counts the
rows it drops as memory does, and refuses what it cannot compute with a located causalspec error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb", reason="the duckdb engine needs the duckdb package")

import causalspec as cs  # noqa: E402
from causalspec import engines as E  # noqa: E402
from causalspec.errors import CausalSpecError, DataError, UnsupportedError  # noqa: E402
from causalspec.estimators._experiment import difference_in_means as m_dim, lm_lin as m_lin  # noqa: E402
from causalspec.estimators.callaway_santanna import att_gt as m_att_gt  # noqa: E402
from causalspec.estimators.fixest import feols as m_feols  # noqa: E402
from causalspec.inference._fixest import fixest_vcov  # noqa: E402
from causalspec.power._abtest import cuped as m_cuped, prop_test as m_prop, srm_check  # noqa: E402

SPECS = Path(__file__).resolve().parents[1] / "specs"
TOL = 1e-10


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape and (np.isnan(a) == np.isnan(b)).all()
    ok = ~np.isnan(b)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300), initial=0.0))


def toy(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(5, 2, n)
    x = rng.binomial(1, 1 / (1 + np.exp(-(z - 5))), n).astype(float)
    w = rng.normal(size=n)
    y = 1 + 2 * x + 0.5 * z + w * x + rng.normal(size=n) * (1 + x)
    df = pd.DataFrame({"x": x, "y": y, "z": z, "w": w, "g": rng.integers(0, 40, n), "h": rng.integers(0, 7, n)})
    df.loc[:9, "y"] = np.nan
    df.loc[5:20, "z"] = np.nan
    return df


@pytest.fixture(scope="module")
def toy_source():
    df = toy()
    return df, E.duckdb.source(df)


@pytest.mark.parametrize("kind,cluster", [("iid", ()), ("HC0", ()), ("HC1", ()), ("HC2", ()), ("HC3", ()),
                                          ("CR0", ("g",)), ("CR1", ("g",)), ("CR1", ("g", "h")), ("stata", ("g",))])
def test_ols_equals_the_memory_fit(toy_source, kind, cluster):
    df, src = toy_source
    spec = cs.Spec(name="t", treatment="x", outcome="y", dag={"edges": ["z -> x", "z -> y", "x -> y", "w -> y"]},
                   inference={"vcov": kind, **({"cluster": list(cluster)} if cluster else {})})
    plan = cs.plan(spec)
    mem = cs.fit(plan, df).tidy()
    fit = E.ols(src, "y", [t for t in mem.term if t != "(Intercept)"], vcov=kind, cluster=cluster,
                columns=plan.columns)
    eng = fit.table().set_index("term").loc[list(mem.term)]
    for col in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        assert rel(eng[col], mem[col]) < TOL, col
    res = cs.fit(plan, df)
    assert (fit.nobs, fit.n_input, fit.dropped) == (res.nobs, res.n_input, res.dropped)
    assert fit.dropped == (("missing values in 'y'", 10), ("missing values in 'z'", 11))


def test_feols_equals_fixest_on_wagepan():
    spec = cs.load(SPECS / "wagepan_fe.yaml")
    plan = cs.plan(spec)
    df = pd.read_csv(SPECS / "data" / "wagepan.csv")
    res = cs.fit(plan, df)
    mem = res.tidy()
    fit = E.feols(E.duckdb.source(df), plan.outcome, list(mem.term), plan.settings.fixed_effects, vcov="CR1",
                  cluster=plan.vcov.cluster, columns=plan.columns)
    eng = fit.table().set_index("term").loc[list(mem.term)]
    for col in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        assert rel(eng[col], mem[col]) < TOL, col
    assert fit.nobs == res.nobs and fit.df == res.extras["degrees_freedom"]["t"]
    assert fit.extras["fixest_K"] == res.extras["degrees_freedom"]["k"]


def unbalanced(n=20000, seed=3):
    rng = np.random.default_rng(seed)
    a = rng.zipf(1.6, n) % 500
    b = (a // 7 + rng.integers(0, 30, n)) % 60
    c = rng.integers(0, 12, n)
    x1 = rng.normal(size=n) + 0.05 * a
    x2 = rng.normal(size=n) + 0.1 * b
    y = x1 - 0.5 * x2 + 0.01 * a + np.sin(b) + c * 0.1 + rng.normal(size=n)
    return pd.DataFrame(dict(y=y, x1=x1, x2=x2, a=a, b=b, c=c, cl=a % 37))


@pytest.fixture(scope="module")
def fe_source():
    df = unbalanced()
    return df, E.duckdb.source(df)


@pytest.mark.parametrize("fes", [("a",), ("a", "b"), ("a", "b", "c")])
@pytest.mark.parametrize("kind,cluster", [("iid", None), ("HC1", None), ("CR1", ("cl",)), ("CR1", ("a", "b"))])
def test_feols_equals_memory_with_one_two_and_three_unbalanced_fixed_effects(fe_source, fes, kind, cluster):
    df, src = fe_source
    mem = m_feols(df.y.values, df[["x1", "x2"]].values, ["x1", "x2"], df[list(fes)])
    V = fixest_vcov(mem, {"iid": "iid", "HC1": "hetero", "CR1": "cluster"}[kind],
                    None if cluster is None else df[list(cluster)])
    fit = E.feols(src, "y", ["x1", "x2"], fes, vcov=kind, cluster=cluster)
    assert rel(fit.coef, mem.coef) < TOL and rel(fit.se, V.se) < TOL
    assert fit.df == V.df_t and fit.extras["fixest_K"] == V.df_k
    assert list(fit.extras["iterations"][1:]) == list(mem.iterations[1:])  # the same iterations, not just the limit


def test_experiment_estimators_equal_memory():
    rng = np.random.default_rng(7)
    n = 5000
    d = rng.binomial(1, 0.3, n).astype(float)
    pre = rng.gamma(2.0, 10.0, n)
    y = 3 + 0.8 * pre + 2.5 * d + rng.normal(size=n) * (2 + d)
    conv = rng.binomial(1, 0.1 + 0.02 * d).astype(float)
    df = pd.DataFrame({"d": d, "y": y, "pre": pre, "conv": conv})
    df.loc[::97, "y"] = np.nan
    src = E.duckdb.source(df)
    keep = df.dropna()
    mem = m_dim(keep.y.values, keep.d.values)
    eng = E.difference_in_means(src, "y", "d", columns=("y", "d", "pre", "conv"))
    assert rel([eng.estimate, eng.std_error, eng.statistic, eng.df, eng.p_value, eng.conf_low, eng.conf_high],
               [mem.estimate, mem.std_error, mem.statistic, mem.df, mem.p_value, mem.conf_low, mem.conf_high]) < TOL
    assert eng.dropped == (("missing values in 'y'", 52),) and eng.nobs == len(keep)
    mc = m_cuped(keep.y.values, keep.pre.values, keep.d.values)
    ec = E.cuped(src, "y", "pre", "d")
    assert rel([ec.theta, ec.estimate, ec.std_error, ec.df, ec.p_value, ec.conf_low, ec.unadjusted_std_error,
                ec.variance_reduction], [mc.theta, mc.estimate, mc.std_error, mc.df, mc.p_value, mc.conf_low,
                                         mc.unadjusted_std_error, mc.variance_reduction]) < TOL
    ml = m_lin(keep.y.values, keep.d.values, keep[["pre"]], treatment="d")  # HC2, estimatr's default
    el = E.lm_lin(src, "y", "d", ["pre"])
    tab = el.table().set_index("term").loc[list(ml.table.term)]
    assert rel(tab.estimate, ml.table.estimate) < TOL and rel(tab.std_error, ml.table.std_error) < TOL
    assert rel(tab.p_value, ml.table.p_value) < TOL
    ms = srm_check([int((d == 0).sum()), int((d == 1).sum())], [0.7, 0.3])
    es = E.srm(E.duckdb.source(df[["d"]]), "d", 0.3)
    assert rel([es.statistic, es.p_value], [ms.statistic, ms.p_value]) < TOL
    for correct in (True, False):
        mp = m_prop([conv[d == 1].sum(), conv[d == 0].sum()], [int((d == 1).sum()), int((d == 0).sum())],
                    correct=correct)
        ep = E.prop_test(src, "conv", "d", correct=correct, columns=("conv", "d"))
        assert rel([ep.statistic, ep.p_value, *ep.conf_int, *ep.estimate],
                   [mp.statistic, mp.p_value, *mp.conf_int, *mp.estimate]) < TOL


def test_did_2x2_equals_the_memory_fit():
    spec = cs.load(SPECS / "injury_did.yaml")
    plan = cs.plan(spec)
    df = pd.read_csv(SPECS / "data" / "injury_ky.csv")
    res = cs.fit(plan, df)
    s = plan.settings
    fit = E.did_2x2(E.duckdb.source(df), plan.outcome, s.post, s.group, vcov=plan.vcov.kind, columns=plan.columns)
    eff = fit.table().set_index("term").loc[res.effect.term]
    assert rel([eff.estimate, eff.std_error, eff.p_value], [res.effect.estimate, res.effect.std_error,
                                                           res.effect.p_value]) < TOL
    assert (fit.nobs, fit.dropped) == (res.nobs, res.dropped)


@pytest.mark.parametrize("control", ["nevertreated", "notyettreated"])
@pytest.mark.parametrize("base", ["varying", "universal"])
def test_callaway_santanna_cells_and_analytical_ses_equal_memory(control, base):
    df = pd.read_csv(SPECS / "data" / "mpdta.csv")
    mem = m_att_gt(df, "lemp", "year", "countyreal", "first.treat", control_group=control, base_period=base)
    eng = E.att_gt(E.duckdb.source(df), "lemp", "year", "countyreal", "first.treat", control_group=control,
                   base_period=base)
    assert list(eng.group) == list(mem.group) and list(eng.time) == list(mem.time)
    assert np.nanmax(np.abs(eng.att - mem.att)) < TOL * np.nanmax(np.abs(mem.att))  # ATTs near 0: vs their scale
    assert rel(eng.se, mem.se) < TOL
    assert np.nanmax(np.abs(eng.vcov - mem.vcov)) < TOL * np.nanmax(np.abs(mem.vcov))


def test_parquet_glob_database_table_and_select_sources(tmp_path, toy_source):
    df, src = toy_source
    con = duckdb.connect()
    con.register("frame", df.assign(part=np.arange(len(df)) % 2))
    for part in (0, 1):
        con.sql(f"SELECT * EXCLUDE (part) FROM frame WHERE part = {part}").write_parquet(
            str(tmp_path / f"part-{part}.parquet"))
    con.close()
    con = duckdb.connect(str(tmp_path / "events.duckdb"))
    con.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?)", [str(tmp_path / "*.parquet")])
    con.close()
    base = E.ols(src, "y", ["x", "w", "z"], vcov="CR1", cluster="g")
    for source in (E.duckdb.source(str(tmp_path / "*.parquet")),
                   E.duckdb.source(str(tmp_path / "events.duckdb"), table="events"),
                   E.duckdb.source("SELECT * FROM read_parquet('" + str(tmp_path / "part-*.parquet") + "')")):
        fit = E.ols(source, "y", ["x", "w", "z"], vcov="CR1", cluster="g")
        assert rel(fit.coef, base.coef) < TOL and rel(fit.se, base.se) < TOL and fit.dropped == base.dropped


@pytest.mark.parametrize("query", ["DELETE FROM t", "SELECT 1; DROP TABLE t", "CREATE TABLE t AS SELECT 1",
                                   "SELEC x FROM t", "COPY t TO '/tmp/x.csv'"])
def test_anything_but_one_select_is_refused_before_it_runs(query):
    with pytest.raises(DataError) as err:
        E.duckdb.validate_select(query)
    assert err.value.problems[0].code == "engine_bad_query"


def test_what_the_engine_cannot_compute_is_refused_with_the_field_and_the_way_out(toy_source):
    df, src = toy_source
    with pytest.raises(UnsupportedError) as err:
        E.ols(src, "y", ["x", "z"], vcov="CR2", cluster="g")
    p = err.value.problems[0]
    assert p.loc == "inference.vcov" and "engine: memory" in p.fix and "CR1" in p.fix
    with pytest.raises(DataError) as err:
        E.ols(src, "y", ["x", "nope"])
    assert err.value.problems[0].code == "column_not_found"
    text = E.duckdb.source(pd.DataFrame({"y": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]}))
    with pytest.raises(UnsupportedError) as err:
        E.ols(text, "y", ["s"])
    assert err.value.problems[0].code == "engine_column_type"
    with pytest.raises(CausalSpecError):
        E.ols(E.duckdb.source(df.assign(x2=df.x * 2)), "y", ["x", "x2"])
    with pytest.raises(DataError):
        E.duckdb.source("/no/such/*.parquet")

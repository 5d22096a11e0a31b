"""The Spark engine (local[2]) sends the same SQL as DuckDB and returns the in-memory numbers (1e-10 relative).

One SparkSession for the module (the JVM start dominates); skipped, with the reason printed, where pyspark or a
Java runtime is missing.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the spark engine needs pyspark (pip install 'causalspec[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime (java on PATH or JAVA_HOME): Spark cannot start", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # pyspark's note about pandas 3

import causalspec as cs  # noqa: E402
from causalspec import engines as E  # noqa: E402
from causalspec.errors import DataError  # noqa: E402
from causalspec.estimators._experiment import difference_in_means as m_dim  # noqa: E402
from causalspec.estimators.callaway_santanna import att_gt as m_att_gt  # noqa: E402
from causalspec.power._abtest import cuped as m_cuped, prop_test as m_prop  # noqa: E402
from test_engines_callaway_santanna import NAME, _design, assert_same_cs  # noqa: E402
from test_engines_duckdb import SPECS, TOL, rel, toy  # noqa: E402
from test_engines_spec import write_spec  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    session = E.spark.local_session(cores=2)
    yield session
    session.stop()


def test_ols_with_every_variance_equals_memory(spark):
    df = toy()
    src = E.spark.source(spark.createDataFrame(df))
    edges = ["z -> x", "z -> y", "x -> y", "w -> y"]
    for kind, cluster in (("HC2", ()), ("CR1", ("g", "h"))):
        plan = cs.plan(cs.Spec(name="t", treatment="x", outcome="y", dag={"edges": edges},
                               inference={"vcov": kind, **({"cluster": list(cluster)} if cluster else {})}))
        res = cs.fit(plan, df)
        mem = res.tidy()
        fit = E.ols(src, "y", [t for t in mem.term if t != "(Intercept)"], vcov=kind, cluster=cluster,
                    columns=plan.columns)
        eng = fit.table().set_index("term").loc[list(mem.term)]
        for col in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
            assert rel(eng[col], mem[col]) < TOL, (kind, col)
        assert (fit.nobs, fit.n_input, fit.dropped) == (res.nobs, res.n_input, res.dropped)


def test_feols_two_way_fixed_effects_equals_memory(spark):
    plan = cs.plan(cs.load(SPECS / "wagepan_fe.yaml"))
    df = pd.read_csv(SPECS / "data" / "wagepan.csv")
    res = cs.fit(plan, df)
    mem = res.tidy()
    fit = E.feols(E.spark.source(spark.createDataFrame(df)), plan.outcome, list(mem.term),
                  plan.settings.fixed_effects, vcov="CR1", cluster=plan.vcov.cluster, columns=plan.columns)
    eng = fit.table().set_index("term").loc[list(mem.term)]
    assert rel(eng.estimate, mem.estimate) < TOL and rel(eng.std_error, mem.std_error) < TOL
    assert rel(eng.p_value, mem.p_value) < TOL and fit.df == res.extras["degrees_freedom"]["t"]


def test_experiment_estimators_equal_memory(spark):
    rng = np.random.default_rng(7)
    n = 4000
    d = rng.binomial(1, 0.3, n).astype(float)
    pre = rng.gamma(2.0, 10.0, n)
    df = pd.DataFrame({"d": d, "y": 3 + 0.8 * pre + 2.5 * d + rng.normal(size=n), "pre": pre,
                       "conv": rng.binomial(1, 0.1 + 0.02 * d).astype(float)})
    src = E.spark.source(spark.createDataFrame(df))
    mem = m_dim(df.y.values, df.d.values)
    eng = E.difference_in_means(src, "y", "d")
    assert rel([eng.estimate, eng.std_error, eng.df, eng.p_value], [mem.estimate, mem.std_error, mem.df,
                                                                     mem.p_value]) < TOL
    mc, ec = m_cuped(df.y.values, df.pre.values, df.d.values), E.cuped(src, "y", "pre", "d")
    assert rel([ec.theta, ec.estimate, ec.std_error, ec.df], [mc.theta, mc.estimate, mc.std_error, mc.df]) < TOL
    mp = m_prop([df.conv[d == 1].sum(), df.conv[d == 0].sum()], [int((d == 1).sum()), int((d == 0).sum())])
    ep = E.prop_test(src, "conv", "d")
    assert rel([ep.statistic, ep.p_value, *ep.conf_int], [mp.statistic, mp.p_value, *mp.conf_int]) < TOL


def test_callaway_santanna_equals_memory(spark):
    df = pd.read_csv(SPECS / "data" / "mpdta.csv")
    mem = m_att_gt(df, "lemp", "year", "countyreal", "first.treat")
    eng = E.att_gt(E.spark.source(spark.createDataFrame(df)), "lemp", "year", "countyreal", "first.treat")
    assert np.nanmax(np.abs(eng.att - mem.att)) < TOL * np.nanmax(np.abs(mem.att))
    assert rel(eng.se, mem.se) < TOL


def test_callaway_santanna_from_a_spec_equals_memory(spark, tmp_path):
    df = pd.read_csv(SPECS / "data" / "mpdta.csv")
    plan = cs.plan(cs.load(write_spec(tmp_path, NAME, _design(aggregation="dynamic"))))
    assert_same_cs(cs.fit(plan, E.spark.source(spark.createDataFrame(df))), cs.fit(plan, df))


def test_parquet_on_spark_and_a_missing_path_is_a_located_error(spark, tmp_path):
    pytest.importorskip("pyarrow")
    df = toy()
    df.to_parquet(tmp_path / "part-0.parquet")
    a = E.ols(E.spark.source(str(tmp_path / "*.parquet"), spark=spark), "y", ["x", "z"], vcov="HC1")
    b = E.ols(E.duckdb.source(df), "y", ["x", "z"], vcov="HC1")
    assert rel(a.coef, b.coef) < TOL and rel(a.se, b.se) < TOL and a.dropped == b.dropped
    with pytest.raises(DataError) as err:
        E.spark.source(str(tmp_path / "nothing-*.parquet"), spark=spark)
    assert err.value.problems[0].code == "engine_no_files"

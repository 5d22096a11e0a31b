"""An experiment spec fitted on an engine equals the in-memory fit: the effect, the naive contrast, and every check
the experiment family reports (sample-ratio mismatch, balance, arms and relative lift, CUPED, the proportion
test, the ratio metric, guardrails, the effect table, the decision), compared field by field in the Result's
JSON at 1e-10 relative.  A clustered experiment is refused at plan time, located at inference.cluster.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("duckdb", reason="the duckdb engine needs the duckdb package")

import causalspec as cs  # noqa: E402
from causalspec import engines as E  # noqa: E402
from causalspec.errors import CausalSpecError  # noqa: E402
from test_engines_duckdb import SPECS, TOL  # noqa: E402

# what differs by design between the two paths: the DAG's independence tests run on rows in memory only, the
# engine's note says where the fit ran, the data's label and the spec's engine field
EXPECTED = (".dag_tests", ".notes", ".data", ".design.engine")
EDGES = ["d -> y", "x -> y", "guard -> y", "d -> b", "x -> b"]


def frame(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    """A randomized test with a pre-period covariate, a 0/1 outcome, a ratio metric, a guardrail and missing y."""
    rng = np.random.default_rng(seed)
    d = (rng.random(n) < 0.5).astype(int)
    x = rng.normal(size=n)
    y = 1 + 0.3 * d + x + rng.normal(size=n)
    y[:7] = np.nan  # dropped and counted by both paths
    num = rng.poisson(3, n).astype(float)
    return pd.DataFrame({"d": d, "x": x, "y": y, "b": (rng.random(n) < 0.3 + 0.1 * d).astype(int), "num": num,
                         "den": num + rng.poisson(2, n) + 1, "guard": rng.normal(size=n)})


GUARD = [{"column": "guard", "direction": "increase", "threshold": 0.1}]
CASES = {
    "difference_in_means_srm": {"design": {"type": "experiment", "planned_split": 0.5}},
    "cuped_guardrail_decision": {"design": {"type": "experiment", "cuped": "x", "guardrails": GUARD,
                                            "decision": {"goal": "increase", "min_effect": 0.1}}},
    "lin_with_cuped": {"covariates": ["x"], "design": {"type": "experiment", "cuped": "x"}},
    "lin_two_covariates_hc1": {"covariates": ["x", "guard"], "inference": {"vcov": "HC1"},
                               "design": {"type": "experiment", "planned_split": 0.4}},
    "proportion": {"outcome": "b", "design": {"type": "experiment", "metric": {"type": "proportion"}}},
    "binary_mean": {"outcome": "b", "design": {"type": "experiment"}},
    "ratio_decision": {"design": {"type": "experiment", "decision": {"goal": "increase", "min_effect": 0.0},
                                  "metric": {"type": "ratio", "numerator": "num", "denominator": "den"}}},
}


def spec(case: str, **fields) -> cs.Spec:
    return cs.Spec.model_validate({"name": case, "treatment": "d", "outcome": "y", "dag": {"edges": EDGES},
                                   **CASES[case], **fields})


def flat(o, pre: str = ""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from flat(v, f"{pre}.{k}")
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from flat(v, f"{pre}[{i}]")
    else:
        yield pre, o


def assert_same_json(eng: cs.Result, mem: cs.Result) -> int:
    """Every field of the two Results' JSON equal (numbers to TOL relative), but those in EXPECTED; returns how
    many numbers were compared."""
    a, b = dict(flat(json.loads(mem.to_json()))), dict(flat(json.loads(eng.to_json())))
    keys = {k for k in set(a) | set(b) if not k.startswith(EXPECTED)}
    compared = 0
    for key in sorted(keys):
        va, vb = a.get(key, "<absent>"), b.get(key, "<absent>")
        if isinstance(va, float) and isinstance(vb, (int, float)) and not isinstance(vb, bool):
            assert abs(va - vb) <= TOL * abs(va) or va == vb, (key, va, vb)
            compared += 1
        else:
            assert va == vb, (key, va, vb)
    return compared


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_experiment_spec_on_duckdb_equals_memory_in_every_reported_number(case):
    df = frame()
    mem = cs.run(spec(case), data=df)
    eng = cs.run(spec(case, engine="duckdb"), data=E.duckdb.source(df))
    assert eng.extras["engine"] == "duckdb"
    assert assert_same_json(eng, mem) > 40
    assert (eng.nobs, eng.n_input, eng.dropped) == (mem.nobs, mem.n_input, mem.dropped)
    if CASES[case].get("outcome") != "b":
        assert eng.dropped == (("missing values in 'y'", 7),)


def test_the_checks_the_cases_exercise_are_all_there():
    """The comparison above is not vacuous: each check's output is in the engine's Result."""
    df = frame()
    got = {c: cs.run(spec(c, engine="duckdb"), data=E.duckdb.source(df)).extras for c in CASES}
    assert got["difference_in_means_srm"]["sample_ratio"]["p_value"] > 0
    assert got["cuped_guardrail_decision"]["cuped"]["variance_reduction"] > 0.3
    assert got["cuped_guardrail_decision"]["guardrails"][0]["verdict"] in ("pass", "fail", "inconclusive")
    assert got["cuped_guardrail_decision"]["decision"]["verdict"]
    assert got["lin_two_covariates_hc1"]["balance"][1]["covariate"] == "guard"
    assert got["proportion"]["proportion_test"]["correct"] is True
    assert got["binary_mean"]["proportion_test"]["correct"] is False
    assert got["ratio_decision"]["ratio_metric"]["std_error"] > 0
    assert all("relative_lift" in g and "arms" in g and "effects" in g for g in got.values())


def test_the_bundled_srm_spec_on_parquet_flags_the_mismatch_as_in_memory(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    mem = cs.run(SPECS / "ab_test_srm.yaml")
    con = duckdb.connect()
    con.register("frame", mem._data)
    con.execute("COPY frame TO ? (FORMAT parquet)", [str(tmp_path / "srm.parquet")])
    s = cs.load(SPECS / "ab_test_srm.yaml").model_copy(update={"engine": "duckdb"})
    eng = cs.run(s, data=str(tmp_path / "srm.parquet"))
    assert assert_same_json(eng, mem) > 40
    assert eng.warnings[0].startswith("SAMPLE RATIO MISMATCH") and eng.extras["decision"]["verdict"] == "no decision"


def test_a_clustered_experiment_is_refused_at_plan_time_at_inference_cluster():
    s = spec("difference_in_means_srm", engine="duckdb", inference={"cluster": ["guard"]})
    with pytest.raises(CausalSpecError) as err:
        cs.plan(s)
    hit = [p for p in err.value.problems if p.loc == "inference.cluster"]
    assert hit and hit[0].code == "engine_field_unsupported" and "engine: memory" in hit[0].fix


def test_a_text_covariate_is_refused_at_its_field_on_the_engine():
    df = frame().assign(country=lambda f: np.where(f.x > 0, "US", "DE"))
    s = cs.Spec.model_validate({"name": "t", "treatment": "d", "outcome": "y", "covariates": ["x", "country"],
                                "dag": {"edges": ["d -> y", "x -> y", "country -> y"]},
                                "design": {"type": "experiment"}, "engine": "duckdb"})
    with pytest.raises(CausalSpecError) as err:
        cs.run(s, data=E.duckdb.source(df))
    assert err.value.problems[0].loc == "covariates[1]" and err.value.problems[0].code == "engine_column_type"


def test_a_treatment_that_is_not_0_1_is_refused_on_the_engine():
    df = frame().assign(d=lambda f: f.d * 2)
    with pytest.raises(CausalSpecError) as err:
        cs.run(spec("difference_in_means_srm", engine="duckdb"), data=E.duckdb.source(df))
    assert err.value.problems[0].code == "treatment_not_binary"


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="the spark engine needs pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime (java on PATH or JAVA_HOME): Spark cannot start")
    session = E.spark.local_session(cores=2)
    yield session
    session.stop()


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("case", ["cuped_guardrail_decision", "lin_with_cuped", "proportion", "ratio_decision"])
def test_an_experiment_spec_on_spark_equals_memory(tmp_path, spark, case):
    duckdb = pytest.importorskip("duckdb")
    df = frame()
    con = duckdb.connect()
    con.register("frame", df)
    con.execute("COPY frame TO ? (FORMAT parquet)", [str(tmp_path / "ab.parquet")])
    mem = cs.run(spec(case), data=df)
    eng = cs.run(spec(case, engine="spark"), data=str(tmp_path / "ab.parquet"), spark=spark)
    assert eng.extras["engine"] == "spark"
    assert assert_same_json(eng, mem) > 40

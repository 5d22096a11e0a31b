"""The spec path through an engine (``engine: duckdb | spark``) equals the in-memory spec path, and what an engine
cannot compute is refused when the spec is planned, located at the field that asks for it.

Every comparison is the whole result: coefficients, SEs, statistics, p-values, intervals (1e-10 relative), nobs,
rows read and the rows dropped by reason (exactly).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("duckdb", reason="the duckdb engine needs the duckdb package")

import causalspec as cs  # noqa: E402
from causalspec import engines as E  # noqa: E402
from causalspec.errors import CausalSpecError, UnsupportedError  # noqa: E402
from test_engines_duckdb import SPECS, TOL, rel, toy  # noqa: E402

COLUMNS = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")
OFF = {"sensitivity": {"enabled": False}}

# (shipped spec, changes): every estimator the engines run from a spec, with the variances they offer
CASES = {
    "ols_hc1": ("feature_adoption", {"inference": {"vcov": "HC1"}}),
    "ols_hc3": ("feature_adoption", {"inference": {"vcov": "HC3"}}),
    "ols_iid": ("feature_adoption", {"inference": {"vcov": "iid"}}),
    "feols_cr1": ("wagepan_fe", {}),
    "feols_hc1": ("wagepan_fe", {"inference": {"vcov": "HC1"}}),
    "feols_twoway_cr1": ("wagepan_fe", {"inference": {"vcov": "CR1", "cluster": ["nr", "year"]}}),
    "did_2x2_hc1": ("injury_did", {}),
}


def write_spec(tmp: Path, name: str, changes: dict, **fields) -> Path:
    """The shipped spec with ``changes`` and its data path made absolute, as a file in ``tmp``."""
    d = yaml.safe_load((SPECS / f"{name}.yaml").read_text())
    d.update({**OFF, **changes, **fields})
    if isinstance(d.get("data"), str) and "/" in d["data"] and not os.path.isabs(d["data"]):
        d["data"] = str(SPECS / d["data"])
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def assert_same(eng, mem):
    a = eng.tidy().set_index("term")
    b = mem.tidy().set_index("term")
    assert sorted(a.index) == sorted(b.index)
    a = a.loc[b.index]
    for col in COLUMNS:
        if col == "p_value":  # a p-value of 1e-281 moves by t^2 times the statistic's relative error: its log
            pa, pb = a[col].to_numpy(), b[col].to_numpy()
            zero, tiny = pb < 1e-300, (pb >= 1e-300) & (pb < 1e-100)
            assert (pa[zero] < 1e-300).all() and rel(pa[~zero & ~tiny], pb[~zero & ~tiny]) < TOL
            assert rel(np.log(pa[tiny]), np.log(pb[tiny])) < TOL
            continue
        assert rel(a[col], b[col]) < TOL, col
    assert rel([eng.effect.estimate, eng.effect.std_error, eng.naive.estimate, eng.naive.std_error],
               [mem.effect.estimate, mem.effect.std_error, mem.naive.estimate, mem.naive.std_error]) < TOL
    assert (eng.nobs, eng.n_input, eng.dropped) == (mem.nobs, mem.n_input, mem.dropped)
    stats = dict(mem.fit_stats)
    assert [k for k, _ in eng.fit_stats] == [k for k, _ in mem.fit_stats]  # every statistic, none extra
    for key, value in eng.fit_stats:
        if key == "fstat_p_value" and stats[key] < 1e-300:
            assert value < 1e-300
            continue
        assert rel([value], [stats[key]]) < TOL, key


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_duckdb_engine_spec_path_equals_memory(tmp_path, case):
    name, changes = CASES[case]
    mem = cs.run(write_spec(tmp_path, name, changes))
    eng = cs.run(write_spec(tmp_path, name, changes, engine="duckdb"))
    assert_same(eng, mem)
    assert eng.extras["engine"] == "duckdb"


def test_rows_with_missing_values_are_counted_by_the_engine_as_in_memory(tmp_path):
    df = toy()
    con = pytest.importorskip("duckdb").connect()
    con.register("frame", df)
    con.execute("COPY frame TO ? (FORMAT parquet)", [str(tmp_path / "toy.parquet")])
    spec = {"name": "toy", "treatment": "x", "outcome": "y", "data": "toy.parquet",
            "dag": {"edges": ["z -> x", "z -> y", "x -> y", "w -> y"]},
            "inference": {"vcov": "CR1", "cluster": ["g", "h"]}, **OFF}
    df.to_csv(tmp_path / "toy.csv", index=False)  # memory reads CSV (Parquet needs pyarrow), the engine Parquet
    (tmp_path / "mem.yaml").write_text(yaml.safe_dump({**spec, "data": "toy.csv"}))
    (tmp_path / "eng.yaml").write_text(yaml.safe_dump({**spec, "engine": "duckdb"}))
    mem, eng = cs.run(tmp_path / "mem.yaml"), cs.run(tmp_path / "eng.yaml")
    assert_same(eng, mem)
    assert eng.dropped == (("missing values in 'y'", 10), ("missing values in 'z'", 11))


def test_a_parquet_glob_a_database_table_and_a_query_give_the_same_result(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    df = toy()
    con = duckdb.connect(str(tmp_path / "events.duckdb"))
    con.register("frame", df.assign(part=np.arange(len(df)) % 3))
    con.execute("CREATE TABLE events AS SELECT * EXCLUDE (part) FROM frame")
    for part in range(3):
        con.execute("COPY (SELECT * EXCLUDE (part) FROM frame WHERE part = ?) TO ? (FORMAT parquet)",
                    [part, str(tmp_path / f"part-{part}.parquet")])
    con.close()
    base = {"name": "toy", "treatment": "x", "outcome": "y", "dag": {"edges": ["z -> x", "z -> y", "x -> y",
                                                                              "w -> y"]},
            "inference": {"vcov": "HC1"}, **OFF}
    results = []
    for i, (data, engine) in enumerate([("part-*.parquet", "duckdb"),
                                        ({"path": "events.duckdb", "table": "events"}, "duckdb"),
                                        ({"path": "events.duckdb", "table": "events"}, "memory"),
                                        ({"path": "events.duckdb", "query": "SELECT * FROM events WHERE g >= 0"},
                                         "duckdb"),
                                        ({"path": "part-*.parquet", "query": "SELECT * FROM data"}, "auto")]):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(yaml.safe_dump({**base, "data": data, "engine": engine}))
        results.append(cs.run(path))
    for r in results[1:]:
        assert_same(r, results[0])
    assert results[4].extras.get("engine") == "duckdb" and "engine" not in results[2].extras


def test_auto_picks_duckdb_above_the_memory_budget(tmp_path, monkeypatch):
    path = write_spec(tmp_path, "wagepan_fe", {}, engine="auto")
    assert "engine" not in cs.run(path).extras  # small: in memory
    monkeypatch.setenv("CAUSALSPEC_MAX_DATA_BYTES", "1000")
    assert cs.run(path).extras["engine"] == "duckdb"


def _refusal(tmp_path, name, changes, **fields):
    with pytest.raises(UnsupportedError) as err:
        cs.plan(cs.load(write_spec(tmp_path, name, changes, **fields)))
    return err.value.problems


@pytest.mark.parametrize("name,changes,loc,code", [
    ("feature_adoption", {}, "inference.vcov", "engine_vcov_unsupported"),                     # HC2 default is fine
    ("feature_adoption", {"inference": {"vcov": "CR2", "cluster": "region_index"}}, "inference.vcov",
     "engine_vcov_unsupported"),
    ("wagepan_fe", {"inference": {"vcov": "CR2", "cluster": "nr"}}, "inference.vcov", "engine_vcov_unsupported"),
    ("wagepan_fe", {"design": {"type": "panel", "fixed_effects": ["nr", "year"], "singletons": "drop"}},
     "design.singletons", "engine_singletons"),
    ("feature_adoption", {"sensitivity": {"enabled": True}}, "sensitivity.enabled", "engine_sensitivity"),
    ("feature_adoption", {"design": {"type": "observational", "estimator": "ipw"}}, "engine",
     "engine_estimator_unsupported"),
    ("feature_adoption", {"weights": "activity"}, "weights", "engine_field_unsupported"),
    ("feature_psm", {}, "engine", "engine_estimator_unsupported"),
    ("mroz_iv", {}, "engine", "engine_estimator_unsupported"),
])
def test_what_the_engine_cannot_compute_is_refused_at_plan_time_with_its_field(tmp_path, name, changes, loc, code):
    if loc == "inference.vcov" and not changes:
        changes = {"inference": {"vcov": "CR2", "cluster": "region_index"}}
    problems = _refusal(tmp_path, name, changes, engine="duckdb")
    hit = [p for p in problems if p.loc == loc]
    assert hit and hit[0].code == code, problems
    assert "engine: memory" in hit[0].fix or "keep" in hit[0].fix


def test_check_reports_the_refusal_without_reading_the_data(tmp_path):
    path = write_spec(tmp_path, "wagepan_fe", {"inference": {"vcov": "CR2", "cluster": "nr"}}, engine="duckdb",
                      data=str(tmp_path / "absent" / "*.parquet"))
    with pytest.raises(UnsupportedError) as err:
        cs.check(path, read_data=False)
    assert err.value.problems[0].loc == "inference.vcov" and err.value.problems[0].file == str(path)


def test_a_glob_in_memory_is_refused_at_plan_time(tmp_path):
    path = write_spec(tmp_path, "feature_adoption", {"inference": {"vcov": "HC1"}}, data="events/*.parquet")
    with pytest.raises(UnsupportedError) as err:
        cs.plan(cs.load(path))
    assert err.value.problems[0].code == "engine_glob_in_memory"


def test_fit_takes_an_engine_source_and_the_archive_fingerprint_needs_no_frame(tmp_path):
    spec = cs.load(write_spec(tmp_path, "feature_adoption", {"inference": {"vcov": "HC1"}}))
    mem = cs.run(spec)
    src = E.duckdb.source(mem._data)
    assert_same(cs.fit(cs.plan(spec), src), mem)
    fp1, fp2 = E.fingerprint(src), E.fingerprint(E.duckdb.source(mem._data.iloc[::-1].reset_index(drop=True)))
    assert fp1.rows == len(mem._data) and fp1.sha256 == fp2.sha256  # order-free
    changed = mem._data.copy()
    changed.iloc[0, 1] += 1
    assert E.fingerprint(E.duckdb.source(changed)).sha256 != fp1.sha256


def test_archive_and_verify_on_the_engine(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    df = toy()
    con = duckdb.connect()
    con.register("frame", df)
    con.execute("COPY frame TO ? (FORMAT parquet)", [str(tmp_path / "toy.parquet")])
    spec = {"name": "toy", "treatment": "x", "outcome": "y", "data": "toy.parquet", "engine": "duckdb",
            "dag": {"edges": ["z -> x", "z -> y", "x -> y", "w -> y"]}, "inference": {"vcov": "HC1"}, **OFF}
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(spec))
    out = cs.archive(tmp_path / "toy.yaml", tmp_path / "arc")
    report = cs.verify(out)
    assert report.exit_code == 0, report
    con.execute("COPY (SELECT * REPLACE (y + 1 AS y) FROM frame) TO ? (FORMAT parquet)",
                [str(tmp_path / "toy.parquet")])
    assert cs.verify(out).data_changed


@pytest.fixture(scope="module")
def spark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("the spark engine needs pyspark (pip install 'causalspec[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime (java on PATH or JAVA_HOME): Spark cannot start")
    session = E.spark.local_session(cores=2)
    yield session
    session.stop()


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("case", ["ols_hc1", "feols_cr1", "did_2x2_hc1"])
def test_the_spark_engine_spec_path_equals_memory(tmp_path, spark, case):
    duckdb = pytest.importorskip("duckdb")
    name, changes = CASES[case]
    mem = cs.run(write_spec(tmp_path, name, changes))
    con = duckdb.connect()
    con.register("frame", mem._data)
    con.execute("COPY frame TO ? (FORMAT parquet)", [str(tmp_path / "data.parquet")])
    eng = cs.run(write_spec(tmp_path, name, changes, engine="spark", data=str(tmp_path / "data.parquet")),
                 spark=spark)
    assert_same(eng, mem)
    assert eng.extras["engine"] == "spark"


def test_refusals_are_causalspec_errors_not_tracebacks(tmp_path):
    with pytest.raises(CausalSpecError):
        cs.run(write_spec(tmp_path, "feature_adoption", {"inference": {"vcov": "HC1"}}, engine="duckdb",
                          data=str(tmp_path / "none-*.parquet")))


def test_the_large_example_spec_runs_on_data_the_tool_makes(tmp_path):
    """specs/scale/scale_events.yaml on a small data set from tools/make_scale_data.py (the README's steps), equal
    to the in-memory fit of the same rows."""
    duckdb = pytest.importorskip("duckdb")
    import runpy
    import shutil as sh

    tool = runpy.run_path(str(SPECS.parent / "tools" / "make_scale_data.py"))
    tool["main"](["--rows", "20000", "--out", str(tmp_path / "data")])
    sh.copy(SPECS / "scale" / "scale_events.yaml", tmp_path / "scale_events.yaml")
    eng = cs.run(tmp_path / "scale_events.yaml")
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'data' / '*.parquet'}')").df()
    body = cs.load(tmp_path / "scale_events.yaml").model_dump()
    body.update(engine="memory", data=None)
    mem = cs.run(cs.Spec(**body), data=frame)
    assert_same(eng, mem)
    assert eng.dropped and eng.dropped[0][0] == "missing values in 'y'"


def test_auto_refuses_at_run_time_what_the_engine_it_picks_cannot_compute(tmp_path, monkeypatch):
    path = write_spec(tmp_path, "wagepan_fe", {"sensitivity": {"enabled": True}}, engine="auto")
    cs.plan(cs.load(path))  # auto may still fit in memory: planning accepts it
    monkeypatch.setenv("CAUSALSPEC_MAX_DATA_BYTES", "1000")
    with pytest.raises(UnsupportedError) as err:
        cs.run(path)
    assert err.value.problems[0].loc == "sensitivity.enabled"


def test_a_query_is_parsed_at_plan_time_on_every_engine(tmp_path):
    for engine in ("memory", "auto", "duckdb"):
        path = write_spec(tmp_path, "feature_adoption", {"inference": {"vcov": "HC1"}}, engine=engine,
                          data={"path": "x.duckdb", "query": "SELECT * FROM t; DROP TABLE t"})
        with pytest.raises(CausalSpecError) as err:
            cs.plan(cs.load(path))
        assert [p.loc for p in err.value.problems] == ["data.query"], engine

"""Hostile ``data:`` for the engines: a spec file is untrusted text.

Loading, validating and planning a spec never runs its query (DuckDB's parser only); at fit time the query runs
on a connection that can read only the files the spec names, with external access off and the configuration
locked, so it cannot write, ATTACH, COPY, INSTALL or LOAD, read another file, or list a folder.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

duckdb = pytest.importorskip("duckdb", reason="the duckdb engine needs the duckdb package")

import causalspec as cs  # noqa: E402
from causalspec import cli  # noqa: E402
from causalspec.errors import CausalSpecError, DataError, UnsupportedError  # noqa: E402


@pytest.fixture()
def data_dir(tmp_path):
    rng = np.random.default_rng(0)
    con = duckdb.connect()
    x = rng.integers(0, 2, 200)
    con.register("frame", __import__("pandas").DataFrame({"x": x, "y": 1 + 2 * x + rng.normal(size=200)}))
    con.execute("COPY frame TO ? (FORMAT parquet)", [str(tmp_path / "events.parquet")])
    db = duckdb.connect(str(tmp_path / "events.duckdb"))
    db.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?)", [str(tmp_path / "events.parquet")])
    db.close()
    (tmp_path / "secret.csv").write_text("x,y\n1,2\n")
    return tmp_path


def spec_file(folder, data, engine="duckdb"):
    d = {"name": "hostile", "treatment": "x", "outcome": "y", "dag": {"edges": ["x -> y"]}, "engine": engine,
         "data": data, "inference": {"vcov": "HC1"}, "sensitivity": {"enabled": False}}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(d))
    return path


NOT_A_SELECT = [
    "DELETE FROM events",
    "INSERT INTO events VALUES (1, 2)",
    "CREATE TABLE t AS SELECT 1",
    "ATTACH '/tmp/other.duckdb' AS o",
    "COPY events TO '/tmp/out.csv'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "PRAGMA database_list",
    "SELECT 1; DROP TABLE events",
    "SELECT * FROM events; COPY events TO '/tmp/x.csv'",
    "EXPORT DATABASE '/tmp/dump'",
    "CALL pragma_version()",
]


@pytest.mark.parametrize("query", NOT_A_SELECT)
def test_a_query_that_is_not_one_select_is_refused_at_plan_time(data_dir, query):
    path = spec_file(data_dir, {"path": "events.duckdb", "query": query})
    with pytest.raises(CausalSpecError) as err:
        cs.plan(cs.load(path))  # parsing only: nothing has run
    assert err.value.problems[0].loc == "data.query" and err.value.problems[0].code == "engine_bad_query"
    assert not (data_dir / "out.csv").exists()


READS_ELSEWHERE = [
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM '{secret}'",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM read_parquet('{folder}/*.parquet')",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "SELECT * FROM query('ATTACH ''{folder}/x.duckdb''')",
    "SELECT * FROM events, (SELECT * FROM read_blob('{secret}'))",
]


@pytest.mark.parametrize("query", READS_ELSEWHERE)
def test_a_select_cannot_read_files_the_spec_does_not_name(data_dir, query):
    q = query.format(secret=data_dir / "secret.csv", folder=data_dir)
    for data in ({"path": "events.duckdb", "query": q}, {"path": "events.parquet", "query": q}):
        path = spec_file(data_dir, data)
        cs.plan(cs.load(path))  # a SELECT: planning accepts it, without running it
        with pytest.raises(CausalSpecError) as err:
            cs.run(path)
        assert err.value.problems[0].loc.startswith("data")
    assert not (data_dir / "x.duckdb").exists()


def test_the_named_files_can_be_queried(data_dir):
    path = spec_file(data_dir, {"path": "events.parquet", "query": "SELECT * FROM data WHERE y > -100"})
    result = cs.run(path)
    assert result.nobs == 200


def test_the_database_is_opened_read_only(data_dir):
    # a SELECT cannot write; and the file itself is opened read-only, so nothing can be changed
    path = spec_file(data_dir, {"path": "events.duckdb", "table": "events"})
    before = (data_dir / "events.duckdb").read_bytes()
    cs.run(path)
    assert (data_dir / "events.duckdb").read_bytes() == before


@pytest.mark.parametrize("table", ["events; DROP TABLE events", "events'--", "../events", "a.b.c"])
def test_a_table_name_is_an_identifier_checked_when_loaded(data_dir, table):
    with pytest.raises(CausalSpecError) as err:
        cs.load(spec_file(data_dir, {"path": "events.duckdb", "table": table}))
    assert err.value.problems[0].loc.startswith("data.table")


def test_a_path_with_sql_in_it_is_a_path(data_dir):
    path = spec_file(data_dir, "x'); COPY (SELECT 1) TO 'pwned.csv'; --*.parquet")
    with pytest.raises(DataError) as err:
        cs.run(path)
    assert err.value.problems[0].code == "engine_no_files"
    assert not (data_dir / "pwned.csv").exists()


def test_validate_on_the_cli_refuses_without_a_traceback(data_dir, capsys):
    path = spec_file(data_dir, {"path": "events.duckdb", "query": "COPY events TO 'x.csv'"})
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "data.query" in text and "Traceback" not in text


def test_spark_refuses_a_query_at_plan_time(data_dir):
    path = spec_file(data_dir, {"path": "events.duckdb", "query": "SELECT * FROM events"}, engine="spark")
    with pytest.raises(UnsupportedError) as err:
        cs.plan(cs.load(path))
    assert err.value.problems[0].loc == "data"

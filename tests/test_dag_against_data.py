"""The DAG against the data (issue 11): implied independencies tested as dagitty::localTests does, omitted
confounders flagged, and DAG nodes that are not columns refused unless declared latent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import DataError
from causalspec.sensitivity._local_tests import local_tests

FEATURE_EDGES = ["account_age -> activity", "account_age -> feature_usage", "account_age -> spend", "activity -> feature_usage",
                 "activity -> spend", "feature_usage -> spend"]


def test_the_partial_correlation_is_the_correlation_of_regression_residuals():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(500, 2))
    a = z @ [1.0, -0.5] + rng.normal(size=500)
    b = z @ [0.3, 0.8] + 0.2 * a + rng.normal(size=500)
    frame = pd.DataFrame({"a": a, "b": b, "z1": z[:, 0], "z2": z[:, 1]})
    t = local_tests(frame, [("a", "b", ("z1", "z2"))]).tests[0]
    Z = np.column_stack([np.ones(500), z])
    ra = a - Z @ np.linalg.lstsq(Z, a, rcond=None)[0]
    rb = b - Z @ np.linalg.lstsq(Z, b, rcond=None)[0]
    assert t.estimate == pytest.approx(np.corrcoef(ra, rb)[0, 1], rel=1e-10)
    df = 500 - 2 - 3
    from scipy import stats
    assert t.p_value == pytest.approx(2 * stats.norm.sf(abs(np.arctanh(t.estimate)) * np.sqrt(df)), rel=1e-10)
    assert t.conf_low < t.estimate < t.conf_high


def test_a_complete_dag_passes_and_a_wrong_independence_is_rejected():
    good = cs.run(Path(__file__).resolve().parents[1] / "specs" / "feature_adoption.yaml", refute=False)
    assert good.dag_tests.tests and not good.dag_tests.failed and not good.warnings
    rng = np.random.default_rng(2)
    n = 2000
    z = rng.normal(size=n)
    w = z + rng.normal(size=n)  # the DAG below claims w and z are independent
    x = (z + rng.normal(size=n) > 0).astype(float)
    data = pd.DataFrame({"x": x, "z": z, "w": w, "y": x + z + w + rng.normal(size=n)})
    spec = cs.Spec(name="w", treatment="x", outcome="y", dag={"edges": ["z -> x", "z -> y", "w -> y", "x -> y"]})
    bad = cs.run(spec, data=data, refute=False)
    assert [t.text for t in bad.dag_tests.failed] == ["w _||_ x", "w _||_ z"]  # w is tied to z, a cause of x
    assert "w _||_ z" in bad.summary()
    assert bad.to_dict()["dag_tests"]["failed"] == ["w _||_ x", "w _||_ z"]


def test_a_confounder_left_out_of_the_dag_is_flagged_first():
    spec = cs.Spec(name="gs", treatment="feature_usage", outcome="spend", data="feature_adoption",
                   dag={"edges": ["account_age -> feature_usage", "account_age -> spend", "feature_usage -> spend"]})
    result = cs.run(spec, refute=False)
    assert result.warnings and result.warnings[0].startswith("'activity' is in the data but not in the DAG")
    assert result.to_dict()["dag_tests"]["omitted_confounders"] == ["activity"]


def test_a_dag_node_that_is_not_a_column_must_be_declared_latent():
    spec = cs.Spec(name="l", treatment="feature_usage", outcome="spend",
                   dag={"edges": FEATURE_EDGES + ["nudge -> feature_usage"]})
    with pytest.raises(DataError, match=r"dag.latent: 'nudge' is a node of the DAG but not a column"):
        cs.fit(cs.plan(spec), cs.datasets.feature_adoption())
    latent = cs.Spec(name="l", treatment="feature_usage", outcome="spend",
                     dag={"edges": FEATURE_EDGES + ["nudge -> feature_usage"], "latent": ["nudge"]})
    assert cs.fit(cs.plan(latent), cs.datasets.feature_adoption()).effect.estimate == pytest.approx(10, abs=0.6)


def test_validate_with_data_reports_the_dag_check(tmp_path, capsys):
    from causalspec.cli import main

    path = tmp_path / "gs.yaml"
    path.write_text("name: gs\ndata: feature_adoption\ntreatment: feature_usage\noutcome: spend\ndag:\n"
                    "  edges: [account_age -> feature_usage, account_age -> spend, feature_usage -> spend]\n")
    assert main(["validate", str(path)]) == 0  # advice, not a failure
    out = capsys.readouterr().out
    assert "WARNING: 'activity' is in the data but not in the DAG" in out
    assert main(["validate", "--format", "github", str(path)]) == 0
    assert "::warning file=" in capsys.readouterr().out

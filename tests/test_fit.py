"""Fitting a plan: sample accounting, naive vs adjusted, variance changes, data errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import DataError, EstimationError

EDGES = ["z -> x", "z -> y", "x -> y"]


def toy(n=400, seed=1):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = rng.binomial(1, 1 / (1 + np.exp(-z)))
    y = 2.0 * x + 3.0 * z + rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z, "g": rng.integers(0, 20, size=n)})


def plan(**kw):
    return cs.plan(cs.Spec(name="t", treatment="x", outcome="y", dag={"edges": EDGES}, **kw))


def test_missing_values_are_dropped_and_counted_by_column():
    df = toy()
    df.loc[:9, "y"] = np.nan
    df.loc[5:14, "z"] = np.nan  # rows 5-9 miss both: counted once, under the first column the plan uses
    result = cs.fit(plan(), df)
    assert result.nobs == 385
    assert dict(result.dropped) == {"missing values in 'y'": 10, "missing values in 'z'": 5}
    assert "NOTE: 10 observations removed because of missing values in 'y'." in result.summary()
    assert (result.naive.df, result.effect.df) == (385 - 2, 385 - 3)  # naive and adjusted use the same rows


def test_naive_and_adjusted_estimates_are_ols_on_the_same_rows():
    df = toy()
    result = cs.fit(plan(inference={"vcov": "iid"}), df)
    X = np.column_stack([np.ones(len(df)), df.x, df.z])
    beta = np.linalg.lstsq(X, df.y, rcond=None)[0]
    assert result.effect.estimate == pytest.approx(beta[1], rel=1e-12)
    naive = df.y[df.x == 1].mean() - df.y[df.x == 0].mean()
    assert result.naive.estimate == pytest.approx(naive, rel=1e-12)
    resid = df.y - X @ beta
    sigma2 = resid @ resid / (len(df) - 3)
    se = math.sqrt(sigma2 * np.linalg.solve(X.T @ X, np.eye(3))[1, 1])
    assert result.effect.std_error == pytest.approx(se, rel=1e-10)


def test_with_vcov_returns_a_new_result_and_keeps_the_first():
    df = toy()
    first = cs.fit(plan(), df)
    other = first.with_vcov("CR1", cluster="g")
    assert first.plan.vcov.kind == "HC2" and other.plan.vcov.kind == "CR1"
    assert other.plan.vcov.cluster == ("g",)
    assert other.effect.estimate == first.effect.estimate
    assert other.effect.std_error != first.effect.std_error
    assert other.plan.vcov.r_equivalent == 'sandwich::vcovCL(cluster = ~g, type = "HC1")'


def test_with_vcov_refuses_a_clustered_kind_without_cluster():
    with pytest.raises(cs.errors.SpecError, match=r"clustered but no cluster column"):
        cs.fit(plan(), toy()).with_vcov("CR2")


def test_missing_column_names_the_field_and_suggests():
    df = toy().rename(columns={"z": "zz"})
    with pytest.raises(DataError, match=r"column 'z' .* is not in the data\. .*Did you mean 'zz'\?"):
        cs.fit(plan(), df)


def test_non_numeric_treatment_is_refused():
    df = toy()
    df["x"] = np.where(df.x == 1, "yes", "no")
    with pytest.raises(DataError, match=r"treatment column 'x' is not numeric"):
        cs.fit(plan(), df)


def test_constant_treatment_is_refused():
    df = toy()
    df["x"] = 1
    with pytest.raises(DataError, match=r"treatment 'x' takes a single value"):
        cs.fit(plan(), df)


def test_all_rows_missing_is_an_estimation_error():
    df = toy()
    df["z"] = np.nan
    with pytest.raises(EstimationError, match=r"no rows are left"):
        cs.fit(plan(), df)


def test_collinear_precision_covariate_is_dropped_with_a_note():
    df = toy()
    df["w"] = 2 * df.z
    spec = cs.Spec(name="t", treatment="x", outcome="y", dag={"edges": EDGES + ["w -> y"]}, adjustment=["z", "w"])
    result = cs.fit(cs.plan(spec), df)
    # the set is sorted (w, z); like lm, the later collinear column is the one dropped
    row = {e.term: e for e in result.coefficients}["z"]
    assert math.isnan(row.estimate)
    assert any("'z'" in n for n in result.notes), result.notes
    assert result.effect.estimate == pytest.approx(cs.fit(plan(), df).effect.estimate, rel=1e-10)


def test_logical_treatment_is_estimated():
    df = toy()
    df["x"] = df.x.astype(bool)
    result = cs.fit(plan(), df)
    assert result.effect.term == "xTRUE"


def test_result_tidy_and_json_round_trip():
    import json

    result = cs.fit(plan(), toy())
    tidy = result.tidy()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    assert list(tidy.term) == ["(Intercept)", "x", "z"]
    data = json.loads(result.to_json())
    assert data["effect"]["estimate"] == result.effect.estimate
    assert data["vcov"]["terms"] == ["(Intercept)", "x", "z"]


def test_run_reads_a_csv_relative_to_the_spec(tmp_path):
    toy().to_csv(tmp_path / "toy.csv", index=False)
    (tmp_path / "spec.yaml").write_text(
        "name: t\ndata: toy.csv\ntreatment: x\noutcome: y\ndag:\n  edges: ['z -> x', 'z -> y', 'x -> y']\n")
    result = cs.run(tmp_path / "spec.yaml")
    assert result.nobs == 400
    assert result.data_source == "toy.csv"


def test_run_with_data_override_and_missing_file():
    spec = cs.load("specs/feature_adoption.yaml")
    with pytest.raises(DataError, match=r"does not exist"):
        cs.run(spec, data="no/such/file.csv")

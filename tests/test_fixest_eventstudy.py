"""i() relative-time dummies and sunab(): names, references, never/always-treated cohorts, aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError
from causalspec.estimators.fixest import feols, i_dummies, sunab, sunab_aggregate
from causalspec.inference._fixest import fixest_vcov


def test_i_dummies_drop_the_reference_and_use_fixest_names():
    X, names = i_dummies([-2, -1, 0, 1, 0], [1, 1, 1, 1, 0], ref=[-1], var_name="rel_time", treat_name="treat")
    assert names == ["rel_time::-2:treat", "rel_time::0:treat", "rel_time::1:treat"]
    assert X[:, 1].tolist() == [0, 0, 1, 0, 0]


@pytest.fixture(scope="module")
def staggered():
    rng = np.random.default_rng(5)
    units, years = 120, np.arange(2000, 2008)
    cohort = rng.choice([2003, 2005, 0, 2000], size=units)  # 0 never treated, 2000 always treated
    rows = []
    for u in range(units):
        for t in years:
            treated = cohort[u] > 0 and t >= cohort[u]
            effect = (1.0 + 0.5 * (t - cohort[u])) if treated else 0.0
            rows.append((u, t, cohort[u], 0.1 * u + 0.2 * (t - 2000) + effect + rng.normal(scale=0.1)))
    return pd.DataFrame(rows, columns=["unit", "year", "cohort", "y"])


def test_sunab_gives_never_treated_no_dummy_and_removes_always_treated(staggered):
    d = sunab(staggered["cohort"], staggered["year"], period_name="year")
    assert not any(name.endswith("cohort::0") for name in d.names)
    always = (staggered["cohort"] == 2000).to_numpy()
    assert np.isnan(d.X[always]).all() and not np.isnan(d.X[~always]).any()
    assert "year::-1:cohort::2003" not in d.names and "year::0:cohort::2003" in d.names


def test_sunab_aggregates_recover_the_true_dynamic_effects(staggered):
    d = sunab(staggered["cohort"], staggered["year"], period_name="year")
    fit = feols(staggered["y"], d.X, d.names, staggered[["unit", "year"]])
    v = fixest_vcov(fit)
    per = sunab_aggregate(fit, v, d, "period").set_index("term")["estimate"]
    assert abs(per["year::0"] - 1.0) < 0.05 and abs(per["year::2"] - 2.0) < 0.05
    assert abs(per["year::-3"]) < 0.05
    att = sunab_aggregate(fit, v, d, "att")
    assert att["term"].tolist() == ["ATT"]
    coh = sunab_aggregate(fit, v, d, "cohort")
    assert coh["term"].tolist() == ["cohort::2003", "cohort::2005"]
    with pytest.raises(DataError, match="agg = 'calendar' is not one of"):
        sunab_aggregate(fit, v, d, "calendar")

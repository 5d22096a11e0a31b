"""The event study's joint pre-trend test (issue 12): fixest::wald(fit, keep = "::-") — and its term names
follow the user's columns, as fixest writes them."""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.estimators.fixest import feols, i_dummies
from parity._cases import case_data, load_case

ROOT = __import__('pathlib').Path(__file__).resolve().parents[1]


def _spec(**design) -> cs.Spec:
    spec = cs.load(str(ROOT / "specs/mpdta_event_study.yaml")).model_dump()
    spec["design"] = {**spec["design"], **design}
    spec["sensitivity"] = {"enabled": False}
    return cs.Spec(**spec)


def test_with_iid_errors_the_lead_wald_is_the_restricted_vs_unrestricted_f_test():
    frame = case_data(load_case("cs_mpdta_nevertreated_nocov"))
    result = cs.run(_spec().model_copy(update={"inference": cs.Spec(**{**_spec().model_dump(), "inference": {
        "vcov": "iid"}}).inference}), data=frame, refute=False)
    pre = result.extras["pretest"]
    # the same model with and without the lead dummies, fitted independently
    ft = frame["first.treat"].to_numpy(float)
    treated = (ft > 0).astype(float)
    rel = np.where(treated == 1, frame["year"].to_numpy(float) - ft, 0).astype(int)
    X, names = i_dummies(rel, treated, ref=[-1], var_name="rel_time", treat_name="treat")
    y = frame["lemp"].to_numpy(float)
    fe = frame[["countyreal", "year"]]
    full = feols(y, X, names, fe)
    keep = [i for i, n in enumerate(names) if "::-" not in n]
    short = feols(y, X[:, keep], [names[i] for i in keep], fe)
    ssr_u, ssr_r = float(full.resid @ full.resid), float(short.resid @ short.resid)
    q = len(names) - len(keep)
    f = ((ssr_r - ssr_u) / q) / (ssr_u / (full.nobs - full.nparams))
    assert pre["df1"] == q == 3 and pre["df2"] == full.nobs - full.nparams
    assert pre["statistic"] == pytest.approx(f, rel=1e-9)
    assert pre["terms"] == ["rel_time::-4:treat", "rel_time::-3:treat", "rel_time::-2:treat"]


def test_the_default_variance_and_json():
    result = cs.run(_spec(), data=case_data(load_case("cs_mpdta_nevertreated_nocov")), refute=False)
    pre = result.to_dict()["extras"]["pretest"] if "extras" in result.to_dict() else result.extras["pretest"]
    assert 0 <= pre["p_value"] <= 1 and pre["statistic"] > 0 and "Clustered" in pre["vcov_type"]
    # fixest's numbers for an event study too: 500 counties, 5 years, clustered by county (G - 1 = 499 t df)
    assert result.extras["fixed_effects"] == {"countyreal": 500, "year": 5}
    assert result.extras["clusters"] == {"countyreal": 500} and result.extras["degrees_freedom"]["t"] == 499


def test_terms_are_named_after_the_user_s_columns():
    frame = case_data(load_case("cs_mpdta_nevertreated_nocov"))
    frame["ever"] = (frame["first.treat"] > 0).astype(int)
    frame["since"] = np.where(frame["ever"] == 1, frame["year"] - frame["first.treat"], 0)
    result = cs.run(_spec(first_treated=None, relative_time="since", treated="ever"), data=frame, refute=False)
    terms = [e["term"] for e in result.extras["event_study"]]
    assert "since::-2:ever" in terms and "since::0:ever" in terms

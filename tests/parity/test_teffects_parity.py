"""Stata's teffects, every number statsmodels ships (issue 13): RA, IPW, IPW-RA, AIPW and AIPW-WLS on Cattaneo's
(2010) birth-weight data, ATE and ATET, each row of r(table) (the effect, POmean:0 and every outcome- and
treatment-model parameter: b, se, z, pvalue, ll, ul) from the stacked estimating equations.
Reference: statsmodels/treatment/tests/results/results_teffects.py, extracted by
tools/reference/build_teffects_cases.py; the propensity MLE is also checked against R's glm (glm_lalonde_links)."""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.estimators._propensity import fit_propensity
from causalspec.estimators._teffects import propensity_mle, stata_table, teffects

from ._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = case_ids("teffects_cattaneo2_", family="teffects")
OUTCOME = ["prenatal1_", "mmarried_", "mage", "fbaby_"]
TREATMENT = ["mmarried_", "mage", "mage2", "fbaby_", "medu"]
OME = ["prenatal1", "mmarried", "mage", "fbaby", "_cons"]  # Stata's names, constant last
TME = ["mmarried", "mage", "c.mage#c.mage", "fbaby", "medu", "_cons"]
CRIT = 1.9599639845401  # r(table)'s crit, as shipped


def _fit(case, effect):
    data = case_data(case)
    one = np.ones((len(data), 1))
    Xo = np.hstack([data[OUTCOME].to_numpy(float), one])
    Xp = np.hstack([data[TREATMENT].to_numpy(float), one])
    return teffects(data["bweight"].to_numpy(float), data["mbsmoke_"].to_numpy(float), Xo, Xp,
                    method=case["model"]["method"], estimand={"ATE": "ATE", "ATET": "ATT"}[effect],
                    link="probit", outcome_names=OME, propensity_names=TME)


def _ours(row, fit):
    if row["equation"] in ("ATE", "ATET"):
        return fit.names[0]
    return "POmean:0" if row["equation"] == "POmean" else f"{row['equation']}:{row['term']}"


def _params():
    return [pytest.param(c, e, id=f"{c}-{e}") for c in CASES for e in load_case(c)["expected"]]


def test_every_method_and_estimand_stata_ships_has_a_case():
    assert {c: sorted(load_case(c)["expected"]) for c in CASES} == {
        "teffects_cattaneo2_aipw": ["ATE"], "teffects_cattaneo2_aipw_wls": ["ATE"],
        "teffects_cattaneo2_ipw": ["ATE", "ATET"], "teffects_cattaneo2_ipwra": ["ATE", "ATET"],
        "teffects_cattaneo2_ra": ["ATE", "ATET"]}


@pytest.mark.parametrize("case_id,effect", _params())
def test_effect_and_control_potential_outcome_mean_are_statas(case_id, effect):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    assert rel <= 1e-8
    fit = _fit(case, effect)
    effect_row, pomean_row = case["expected"][effect]["rows"][:2]
    assert_close([fit.estimate, fit.std_error, fit.statistic, fit.p_value],
                 [effect_row[k] for k in ("b", "se", "z", "pvalue")], rel=rel, abs_=abs_,
                 what=f"{case_id} {effect} effect (b, se, z, p)")
    assert_close([fit.po_means[0], fit.po_std_errors[0]], [pomean_row["b"], pomean_row["se"]], rel=rel,
                 abs_=abs_, what=f"{case_id} {effect} POmean:0")
    # POmean:1 is not shipped; it is the effect plus POmean:0
    assert fit.po_means[1] == pytest.approx(effect_row["b"] + pomean_row["b"], rel=rel)


@pytest.mark.parametrize("case_id,effect", _params())
def test_every_shipped_number_of_r_table_is_statas(case_id, effect):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    fit = _fit(case, effect)
    rows = case["expected"][effect]["rows"]
    table = stata_table(fit)
    assert sorted(table) == sorted(_ours(r, fit) for r in rows)  # the same parameters, none missing or extra
    for row in rows:
        got, what = table[_ours(row, fit)], f"{case_id} {effect} {row['equation']}:{row['term']}"
        assert_close([got[k] for k in ("b", "se", "z")], [row[k] for k in ("b", "se", "z")], rel=rel, abs_=abs_,
                     what=what)
        # p = 2 Phi(-|z|) has d log p ~ z^2 d log z; the printed p carries 10 significant digits at least
        z = abs(row["z"])
        assert_close(got["pvalue"], row["pvalue"], rel=rel * max(1.0, z * z) + 5e-10, abs_=abs_, what=f"{what} p")
        # b -/+ crit se cancels when a limit is near zero: compare on the scale of its terms
        scale = abs(row["b"]) + CRIT * row["se"]
        for k in ("ll", "ul"):
            assert_close(got[k], row[k], rel=0.0, abs_=rel * scale, what=f"{what} {k}")


def test_the_probit_block_is_the_same_robust_sandwich_in_every_method():
    """The stacked system is block triangular, so TME1's covariance is the probit's own H^-1 S'S H^-1 whatever
    follows; Stata's printed SEs of it differ between commands by up to 7e-10 relative -- its own noise."""
    shipped, ours = [], []
    for case_id in CASES:
        case = load_case(case_id)
        for effect, block in case["expected"].items():
            se = {r["term"]: r["se"] for r in block["rows"] if r["equation"] == "TME1"}
            if not se:
                continue
            fit = _fit(case, effect)
            table = stata_table(fit)
            shipped.append([se[t] for t in TME])
            ours.append([table[f"TME1:{t}"]["se"] for t in TME])
    shipped, ours = np.array(shipped), np.array(ours)
    assert len(shipped) == 6
    assert np.ptp(ours, axis=0).max() / ours[0].max() < 1e-12  # ours: one number
    spread = (np.ptp(shipped, axis=0) / shipped.mean(axis=0)).max()
    assert 1e-11 < spread < 1e-9  # Stata's: the same number up to its numerical noise


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_propensity_mle_is_the_maximum_rs_glm_stops_near(link):
    """R's glm stops on the relative change of its deviance (1e-8).  For the canonical logit (IRLS is Newton) that
    is the maximum to 1e-10; for probit and cloglog (Fisher scoring) glm stops short by 1.7e-6 and 4.2e-5 relative
    in the coefficients on lalonde, with a deviance above the maximum's: the kernel's Newton steps reach it."""
    case = load_case("glm_lalonde_links")
    exp = case["expected"][link]
    formula = "treat ~ married + nodegree + race + re74 + re75 + age + I(age^2) + educ"
    model = fit_propensity(formula, case_data(case), link=link)
    t = model.treat.astype(float)
    ps = propensity_mle(t, model.X, link)
    assert list(model.terms) == list(exp["coef"])
    r_coef = [exp["coef"][term] for term in model.terms]
    assert_close(ps.coef, r_coef, rel=1e-8 if link == "logit" else 1e-4, abs_=0.0, what=f"{link} coef")
    deviance = -2.0 * np.sum(t * np.log(ps.score) + (1 - t) * np.log1p(-ps.score))
    assert deviance <= exp["deviance"] + 1e-9 * exp["deviance"]

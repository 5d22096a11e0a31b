"""Callaway & Sant'Anna standard errors: Stata's csdid uses did's convention, so there is only one (issue 12).

Issue 12 asked for a Stata convention (csdid / drdid dividing the influence-function variance by n - 1)
selectable beside did's (n).  The Stata code has no such convention to select:

- drdid 1.36+ and csdid 1.0+ (friosavila/csdid_drdid ``code/drdid.ado`` and ``code/csdid.ado``, Mata
  ``make_tbl``; the same in friosavila/stpackages ``csdid/`` and ``csdid2/csdid_stats.mata``) compute
  ``quadcrossdev(rif, bb, rif, bb) :/ nobs^2``, the centred RIF's cross-product over n^2, which is did's
  ``crossprod(inf) / n^2``; with ``cluster()`` the cluster sums are also divided by n^2 (``nc/(nc-1)`` is commented
  out).  drdid.ado says so at each estimator: "Variance should be divided by n not n-1".
- Only the May 2021 betas (drdid <= 1.35, csdid 0.x) used Mata's ``variance(att_inf_func)/nn`` (n - 1), and over
  each ATT(g,t)'s own 2x2 sample (the cohort and its comparison units), not over the panel; they had no
  aggregations and no pre-test.  So ``sqrt(n / (n - 1))`` with n the panel's units matches no Stata version.
- The wild bootstrap (``wboot``) has no n - 1 either: draws ``mean(v * (rif - mean(rif)))``, SE = IQR / 1.349.  It
  differs from did only in its quantile rule (order statistic ``ceil((B + 1) p)``, not R's type 1) and defaults
  (999 draws), and Stata's draws cannot be reproduced in any case.

Reference output (Stata's printed digits, each compared at the precision printed), from Fernando Rios-Avila's
pages in friosavila/playingwithstata, on mpdta with ``csdid lemp lpop, ivar(countyreal) time(year)
gvar(first_treat) method(dripw)`` (did's ``est_method = "dr"``, ``xformla = ~lpop``, never-treated comparisons):

- csdid 1.x: ``drdid/csdid_stata.md`` (commit 3abcb1b, "CSDID Version 1.6"; the same numbers appear on its 1.0
  and 1.5 pages): the ATT(g,t) table and ``estat pretrend / simple / calendar / group / event``.
- csdid 0.1 with drdid 1.35: ``drdid/DRDID_for_Stata.md`` (commit 04f77b6, 2021-05-18), the ATT(g,t) table.

The values are kept in this file rather than in ``tests/parity/cases`` because they are Stata's, not R's, and
the parity cases are R output with their R call.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import causalspec as cs
from causalspec.estimators.callaway_santanna import aggte, att_gt
from parity._cases import case_data, load_case

# ATT(g,t) in did's order (cohort 2004, 2006, 2007 x period 2004..2007): estimate, SE as csdid 1.x prints them.
CSDID_1_ATT_GT = [
    ("-.0145297", ".0221292"), ("-.0764219", ".0286713"), ("-.1404483", ".0353782"), ("-.1069039", ".0328865"),
    ("-.0004721", ".0222234"), ("-.0062025", ".0184957"), (".0009606", ".0194002"), ("-.0412939", ".0197211"),
    (".0267278", ".0140657"), ("-.0045766", ".0157178"), ("-.0284475", ".0181809"), ("-.0287814", ".016239"),
]
# estat simple / calendar (T2004..T2007) / group (G2004, G2006, G2007) / event (T-3..T+3)
CSDID_1_ESTAT = {
    "simple": [("-.0417518", ".0115028")],
    "calendar": [("-.0145297", ".0221292"), ("-.0764219", ".0286713"), ("-.0461757", ".0212107"),
                 ("-.0395822", ".0129299")],
    "group": [("-.0845759", ".0245649"), ("-.0201666", ".0174696"), ("-.0287814", ".016239")],
    "dynamic": [(".0267278", ".0140657"), ("-.0036165", ".0129283"), ("-.023244", ".0144851"),
                ("-.0210604", ".0114942"), ("-.0530032", ".0163465"), ("-.1404483", ".0353782"),
                ("-.1069039", ".0328865")],
}
CSDID_1_PRETREND = {"chi2": 6.841824981670454, "df": 5, "p": 0.2326722805724242}
# csdid 0.1 on drdid 1.35: the ATT(g,t) SEs of the beta that divided by n - 1.
CSDID_01_SE = [".0221629", ".028715", ".035432", ".0329366", ".0222553", ".0185223", ".019428", ".0197495",
               ".0140817", ".0157357", ".0182016", ".0162574"]


def _printed(text: str) -> tuple[float, float]:
    """A number as Stata printed it and half a unit of its last printed digit."""
    decimals = len(text.split(".")[1])
    return float(text), 0.5 * 10.0 ** -decimals


def _assert_as_printed(values, printed, what: str) -> None:
    """Every value rounds to the number Stata printed."""
    assert len(values) == len(printed), what
    for i, (v, text) in enumerate(zip(values, printed)):
        ref, half = _printed(text)
        assert abs(v - ref) <= half, f"{what}[{i}]: {v:.10f} does not print as {text}"


@pytest.fixture(scope="module")
def fit():
    case = load_case("cs_mpdta_nevertreated_lpop")
    return att_gt(case_data(case), "lemp", "year", "countyreal", "first.treat", xformla="~lpop",
                  control_group="nevertreated", est_method="dr")


def test_att_gt_standard_errors_are_csdids_as_printed(fit):
    _assert_as_printed(fit.att, [a for a, _ in CSDID_1_ATT_GT], "ATT(g,t)")
    _assert_as_printed(fit.se, [s for _, s in CSDID_1_ATT_GT], "se(ATT(g,t))")


@pytest.mark.parametrize("kind", ["simple", "calendar", "group", "dynamic"])
def test_every_aggregation_has_csdid_estat_standard_errors(fit, kind):
    agg = aggte(fit, kind)
    est = [agg.overall_att] if kind == "simple" else agg.att_egt
    se = [agg.overall_se] if kind == "simple" else agg.se_egt
    _assert_as_printed(est, [a for a, _ in CSDID_1_ESTAT[kind]], f"estat {kind}")
    _assert_as_printed(se, [s for _, s in CSDID_1_ESTAT[kind]], f"estat {kind} se")


def test_the_pretest_is_csdids_estat_pretrend(fit):
    # csdid prints chi2 to 16 digits; the two logits agree to about 1e-12, so the statistic does too.
    assert fit.pretest_df == CSDID_1_PRETREND["df"]
    assert fit.pretest_W == pytest.approx(CSDID_1_PRETREND["chi2"], rel=1e-9)
    assert stats.chi2.sf(fit.pretest_W, fit.pretest_df) == pytest.approx(CSDID_1_PRETREND["p"], rel=1e-9)


def test_the_n_minus_1_beta_divided_each_cell_by_its_own_sample_not_the_panel(fit):
    """drdid 1.35's n - 1 was per 2x2 cell: se * sqrt(n_gt / (n_gt - 1)) reproduces it, the panel's n does not."""
    never = np.isinf(fit.unit_group)
    n_gt = np.array([np.sum(fit.unit_group == g) + never.sum() for g in fit.group])
    assert sorted(set(n_gt.tolist())) == [329, 349, 440]  # 20, 40, 131 treated counties + 309 never treated
    _assert_as_printed(fit.se * np.sqrt(n_gt / (n_gt - 1)), CSDID_01_SE, "csdid 0.1 se")
    n = fit.n_units
    panel_wide = fit.se * math.sqrt(n / (n - 1))
    assert any(abs(v - _printed(t)[0]) > _printed(t)[1] for v, t in zip(panel_wide, CSDID_01_SE))


def test_the_plan_names_the_convention_and_the_packages_it_matches():
    plan = cs.plan(cs.load("specs/mpdta_callaway_santanna.yaml"))
    text = plan.vcov.r_equivalent
    assert "divided by the number of units" in text
    assert "did::att_gt" in text and "csdid" in text and "drdid" in text
    assert text in plan.explain()

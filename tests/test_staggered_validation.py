"""Bad input to att_gt / aggte fails with located, actionable causalspec errors; sample changes are noted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError, EstimationError, SpecError
from causalspec.estimators.callaway_santanna import aggte, att_gt
from parity._cases import case_data, load_case

LAYOUT = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return case_data(load_case("cs_mpdta_nevertreated_nocov"))


def test_missing_outcome_column_is_named(mpdta):
    with pytest.raises(DataError, match=r"yname: column 'lemps' is not in the data\. Set yname to one of"):
        att_gt(mpdta, **{**LAYOUT, "yname": "lemps"})


def test_covariate_missing_from_data_is_named(mpdta):
    with pytest.raises(DataError, match=r"xformla: variable\(s\) 'lpopp' are not in the data"):
        att_gt(mpdta, **LAYOUT, xformla="~ lpopp")


def test_two_sided_covariate_formula_is_refused(mpdta):
    with pytest.raises(SpecError, match=r"xformla: .* must be one-sided"):
        att_gt(mpdta, **LAYOUT, xformla="lemp ~ lpop")


def test_unbalanced_panel_is_refused_with_the_fix(mpdta):
    data = mpdta.drop(index=mpdta.index[(mpdta["countyreal"] == 8001) & (mpdta["year"] == 2005)])
    with pytest.raises(DataError, match=r"countyreal: the panel is unbalanced: 1 of 500 units .*balance_panel=True"):
        att_gt(data, **LAYOUT)


def test_balance_panel_drops_incomplete_units_and_says_so(mpdta):
    data = mpdta.drop(index=mpdta.index[(mpdta["countyreal"] == 8001) & (mpdta["year"] == 2005)])
    res = att_gt(data, **LAYOUT, balance_panel=True)
    assert res.n_units == 499
    assert any("Dropped 1 units not observed in every period" in note for note in res.notes)


def test_group_that_changes_within_a_unit_is_refused(mpdta):
    data = mpdta.copy()
    data.loc[(data["countyreal"] == 8001) & (data["year"] == 2007), "first.treat"] = 0
    with pytest.raises(DataError, match=r"first\.treat: 'first\.treat' is not constant within unit .*irreversible"):
        att_gt(data, **LAYOUT)


def test_duplicated_unit_period_rows_are_refused(mpdta):
    data = pd.concat([mpdta, mpdta.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match=r"countyreal: unit 8001 has 1 duplicated row\(s\)"):
        att_gt(data, **LAYOUT)


def test_non_numeric_time_is_refused(mpdta):
    data = mpdta.assign(year=mpdta["year"].astype(str))
    with pytest.raises(DataError, match=r"year: tname column 'year' must be numeric"):
        att_gt(data, **LAYOUT)


def test_unknown_options_are_all_reported_at_once(mpdta):
    with pytest.raises(SpecError) as err:
        att_gt(mpdta, **LAYOUT, control_group="never", est_method="ols", base_period="fixed")
    text = str(err.value)
    assert "control_group: 'never'" in text and "est_method: 'ols'" in text and "base_period: 'fixed'" in text


def test_missing_values_drop_whole_units_and_are_counted(mpdta):
    data = mpdta.copy()
    data.loc[data.index[:3], "lemp"] = np.nan  # three rows of one county
    res = att_gt(data, **LAYOUT)
    assert res.n_units == 499
    assert any("Dropped 3 rows with missing values" in note for note in res.notes)


def test_units_treated_in_the_first_period_are_dropped_with_a_note(mpdta):
    data = mpdta.copy()
    data.loc[data["countyreal"] == 8001, "first.treat"] = 2003
    res = att_gt(data, **LAYOUT)
    assert res.n_units == 499 and 2003 not in res.groups
    assert any("already treated in the first period" in note for note in res.notes)


def test_bootstrap_without_a_generator_is_refused(mpdta):
    with pytest.raises(SpecError, match=r"rng: the multiplier bootstrap needs a seeded numpy\.random\.Generator"):
        att_gt(mpdta, **LAYOUT, bstrap=True)


def test_uniform_band_without_bootstrap_is_refused(mpdta):
    with pytest.raises(SpecError, match=r"cband: a uniform confidence band needs the multiplier bootstrap"):
        att_gt(mpdta, **LAYOUT, cband=True)


def test_unknown_aggregation_is_refused(mpdta):
    res = att_gt(mpdta, **LAYOUT)
    with pytest.raises(SpecError, match=r"type: 'event' is not an aggregation\. Use 'simple', 'dynamic'"):
        aggte(res, type="event")


def test_aggte_refuses_na_cells_unless_asked_to_drop_them(mpdta):
    # A covariate that is constant among the never treated of one cohort's cells: the comparison
    # regression of est_method="reg" cannot be run, so did reports those ATT(g,t) as NA.
    data = mpdta.assign(z=np.where(mpdta["first.treat"] == 0, 1.0, mpdta["lpop"]))
    res = att_gt(data, **LAYOUT, xformla="~ z", est_method="reg")
    assert np.isnan(res.att).all()
    assert all("NA" in note for note in res.notes)
    with pytest.raises(EstimationError, match=r"att_gt: 12 group-time ATTs are NA .*na_rm=True"):
        aggte(res, type="simple")
    with pytest.raises(EstimationError, match=r"every ATT\(g,t\) is NA"):
        aggte(res, type="simple", na_rm=True)


def test_aggte_with_na_rm_aggregates_the_remaining_cells(mpdta):
    full = att_gt(mpdta, **LAYOUT)
    # Knock out one post-treatment cell by hand through a result with NaN there.
    att = np.array(full.att)
    att[1] = np.nan
    import dataclasses
    holed = dataclasses.replace(full, att=att)
    agg = aggte(holed, type="simple", na_rm=True)
    keep = (full.group <= full.time) & ~np.isnan(att)
    w = np.array([np.mean(full.unit_group == g) for g in full.group[keep]])
    assert agg.overall_att == pytest.approx(np.sum(w * att[keep]) / w.sum(), rel=1e-12)


def test_too_small_never_treated_group_is_refused_with_the_not_yet_treated_fix(mpdta):
    never = mpdta.loc[mpdta["first.treat"] == 0, "countyreal"].unique()
    data = mpdta[~mpdta["countyreal"].isin(never[5:])]  # keep 5 never-treated counties
    with pytest.raises(DataError, match=r"first\.treat: the never-treated group has only 5 units, fewer than the "
                                        r"6 did requires .*control_group='notyettreated'"):
        att_gt(data, **LAYOUT, xformla="~ lpop")
    res = att_gt(data, **LAYOUT, xformla="~ lpop", control_group="notyettreated")
    assert any("Small groups" in note and "never treated (5 units)" in note for note in res.notes)


def test_perfectly_predicted_treatment_gives_na_cells_with_an_overlap_note(mpdta):
    # A covariate equal to the cohort separates treated from comparison units perfectly.
    data = mpdta.assign(s=(mpdta["first.treat"] > 0).astype(float) + 0.01 * mpdta["lpop"])
    with np.errstate(all="raise"):
        res = att_gt(data, **LAYOUT, xformla="~ s", est_method="ipw")
    assert np.isnan(res.att).all()
    assert all("overlap condition violated" in note for note in res.notes)

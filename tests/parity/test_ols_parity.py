"""OLS parity: every ``ols_*`` case (lm + sandwich/lmtest, or estimatr::lm_robust) against R's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.formula._materialize import materialize
from causalspec.estimators._linear import fit_ols
from causalspec.inference import coef_table, vcov
from parity._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance

CASES = [c for c in case_ids("ols_") if "vcov_variants" in load_case(c)["expected"]]
DESIGN_CASES = [c for c in case_ids("ols_") if "designs" in load_case(c)["expected"]]


def _variant_kind(name: str, model: dict) -> tuple[str, tuple[str, ...] | None, str]:
    """Map a case's variant label to (kind, cluster columns, flavour), from the case's own naming."""
    kind, cl = _kind_and_cluster(name, model)
    return kind, cl, "estimatr" if name.startswith("CR0_") else "sandwich"


def _kind_and_cluster(name: str, model: dict) -> tuple[str, tuple[str, ...] | None]:
    cluster = model.get("cluster")
    cl = None if cluster is None else ((cluster,) if isinstance(cluster, str) else tuple(cluster))
    if name in ("iid", "HC0", "HC1", "HC2", "HC3"):
        return name, None
    if name == "HC2_default":
        return "HC2", None
    if name.startswith("vcovCL_"):
        return {"HC0": "CR0", "HC1": "CR1"}[name.split("_", 1)[1]], cl
    if name.startswith("CR2"):
        return "CR2", cl
    if name.startswith("stata"):
        return "stata", cl
    if name.startswith("CR0_"):  # estimatr's CR0: no small-sample factor, G - 1 df
        return "CR0", cl
    raise AssertionError(f"unknown variant {name!r}")


def _fit(case):
    data = case_data(case)
    model = case["model"]
    design = materialize(model["formula"], data)
    weights = None
    if model.get("weights"):
        weights = data.loc[design.rows, model["weights"]].to_numpy(float)
    return data, design, fit_ols(design.y, design.X, design.terms, weights=weights)


def _variants():
    for cid in CASES:
        for name in load_case(cid)["expected"]["vcov_variants"]:
            yield pytest.param(cid, name, id=f"{cid}-{name}")


@pytest.mark.parametrize("case_id", CASES)
def test_ols_fit_matches_r(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]
    _, design, fit = _fit(case)
    assert_named_close(dict(zip(design.terms, fit.coef)), exp["coef"], rel=rel, abs_=abs_, what="coef")
    assert fit.nobs == exp["nobs"]
    if "n_dropped_na" in exp:
        assert design.n_dropped == exp["n_dropped_na"]
    if "rank" in exp:
        assert fit.rank == exp["rank"]
        assert fit.df_resid == exp["df_residual"]
    for key in ("r2", "adj_r2", "sigma"):
        if key in exp:
            assert_close(getattr(fit, key), exp[key], rel=rel, abs_=abs_, what=key)
    if "fstat" in exp:
        f = exp["fstat"]
        assert_close([fit.fstat.value, fit.fstat.numdf, fit.fstat.dendf, fit.fstat.p_value],
                     [f["value"], f["numdf"], f["dendf"], f["pvalue"]], rel=rel, abs_=abs_, what="fstat")


@pytest.mark.parametrize("case_id,variant", list(_variants()))
def test_ols_inference_matches_r(case_id, variant):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["vcov_variants"][variant]
    data, design, fit = _fit(case)
    kind, cluster, flavour = _variant_kind(variant, case["model"])
    cl = None if cluster is None else data.loc[design.rows, list(cluster)]
    V = vcov(fit, kind, cl, flavour=flavour, multiway=bool(case["model"].get("multiway")))
    level = case["expected"].get("conf_level", 1 - case["model"].get("alpha", 0.05))
    tab = coef_table(fit.coef, V, level).set_index("term")
    terms = list(exp["coef"])
    for ours, theirs in (("estimate", "coef"), ("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
        assert_named_close({t: tab.loc[t, ours] for t in terms}, exp[theirs], rel=rel, abs_=abs_, what=theirs)
    ci = {t: [tab.loc[t, "conf_low"], tab.loc[t, "conf_high"]] for t in terms}
    assert_close([ci[t] for t in terms], [exp["conf_int"][t] for t in terms], rel=rel, abs_=abs_, what="conf_int")
    df = dict(zip(V.terms, V.df_for()))
    exp_df = exp["df"] if isinstance(exp["df"], dict) else {t: exp["df"] for t in terms}
    assert_named_close({t: df[t] for t in terms}, exp_df, rel=rel, abs_=abs_, what="df")
    vt, vm = V.kept()
    rterms = exp["vcov"]["terms"]
    idx = [vt.index(t) if t in vt else None for t in rterms]
    mine = np.array([[vm[i, j] if i is not None and j is not None else np.nan for j in idx] for i in idx])
    assert_close(mine, exp["vcov"]["matrix"], rel=rel, abs_=abs_, what="vcov")
    if "nclusters" in exp and exp["nclusters"] is not None:
        assert V.n_clusters == exp["nclusters"]
    for key in ("r2", "adj_r2"):
        if key in exp:
            assert_close(getattr(fit, key), exp[key], rel=rel, abs_=abs_, what=key)


def _designs():
    for cid in DESIGN_CASES:
        for i, d in enumerate(load_case(cid)["expected"]["designs"]):
            yield pytest.param(cid, i, id=f"{cid}-{d['formula']}")


@pytest.mark.parametrize("case_id,index", list(_designs()))
def test_design_names_and_aliasing_match_lm(case_id, index):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["designs"][index]
    design = materialize(exp["formula"], case_data(case))
    assert list(design.terms) == list(exp["terms"])
    fit = fit_ols(design.y, design.X, design.terms)
    assert fit.rank == exp["rank"] and fit.nobs == exp["nobs"]
    assert_close(fit.coef, exp["coef"], rel=rel, abs_=abs_, what=exp["formula"])

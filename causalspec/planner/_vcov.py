"""The one table from variance type to the R call it matches, and the shared variance rules of the families.

Each family's ``vcov(inference, plan)`` (``causalspec.designs``) picks from these; :meth:`Result.with_vcov`
goes through the same function, so a re-labelled variance is impossible.
"""

from __future__ import annotations

from causalspec.errors import Problem, UnsupportedError
from causalspec.planner._records import VcovPlan

__all__ = ["LM_R_CALLS", "regression_vcov", "fixest_vcov_plan", "iv_vcov_plan", "unsupported_vcov", "fe_columns"]

# lm-type fits (OLS regression adjustment, 2x2 DiD): the R call each variance kind reproduces.
LM_R_CALLS = {
    "iid": "stats::vcov(lm())",
    "HC0": 'sandwich::vcovHC(type = "HC0")',
    "HC1": 'sandwich::vcovHC(type = "HC1")',
    "HC2": 'sandwich::vcovHC(type = "HC2"); estimatr::lm_robust() default',
    "HC3": 'sandwich::vcovHC(type = "HC3")',
    "CR0": 'sandwich::vcovCL(cluster = ~{cl}, type = "HC0")',
    "CR0_estimatr": 'estimatr::lm_robust(clusters = {cl}, se_type = "CR0")',
    "CR1": 'sandwich::vcovCL(cluster = ~{cl}, type = "HC1")',
    "CR2": 'estimatr::lm_robust(clusters = {cl}, se_type = "CR2")',
    "stata": 'estimatr::lm_robust(clusters = {cl}, se_type = "stata")',
}


def unsupported_vcov(kind: str, what: str, supported: str, fix: str = "") -> UnsupportedError:
    """The located refusal of a variance type a design does not offer, listing the ones it does."""
    return UnsupportedError(Problem(
        "inference.vcov", f"{kind} is not available for {what}; it supports {supported}.",
        fix=fix or f"Set inference.vcov to one of {supported}, or leave it out for the design's default.",
        code="unsupported_vcov"))


def regression_vcov(inference) -> VcovPlan:
    """A linear regression's variance: estimatr::lm_robust's defaults (HC2, CR2 with a cluster) when unset."""
    kind = inference.vcov if inference.vcov is not None else ("CR2" if inference.cluster else "HC2")
    if len(inference.cluster) > 1 and kind not in ("CR0", "CR1"):  # CR0_estimatr is one-way, as estimatr
        raise UnsupportedError(Problem(
            "inference.cluster", f"{kind} takes one cluster column; {len(inference.cluster)} are given. Several "
            "columns mean multi-way clustering (Cameron, Gelbach & Miller 2011), which sandwich::vcovCL computes "
            "for CR0 and CR1.", fix="Use vcov: CR1 (or CR0) for multi-way clustering, or name one cluster column.",
            code="multiway_unsupported"))
    cl = " + ".join(inference.cluster)
    return VcovPlan(kind, tuple(inference.cluster), inference.level, LM_R_CALLS[kind].format(cl=cl))


def fe_columns(fes) -> tuple[str, ...]:
    """The data columns behind fixed-effect terms (``firm^year`` is two columns)."""
    return tuple(dict.fromkeys(c.strip() for fe in fes for c in fe.split("^")))


def fixest_vcov_plan(inference, fes: tuple[str, ...]) -> VcovPlan:
    """The inference as a fixest vcov; an unset vcov means fixest's default (cluster by the first FE)."""
    inf = inference
    explicit = inf.vcov is not None
    kind = inf.vcov if explicit else ("CR1" if inf.cluster else None)
    if kind is None and fes:
        first = fe_columns(fes[:1])
        return VcovPlan("CR1", first, inf.level, f"fixest::feols() default: vcov = ~{'^'.join(first)}")
    if kind == "iid":
        return VcovPlan("iid", (), inf.level, 'fixest::feols(vcov = "iid")')
    if kind == "HC1":
        return VcovPlan("HC1", (), inf.level, 'fixest::feols(vcov = "hetero")')
    if kind == "CR1":
        return VcovPlan("CR1", tuple(inf.cluster), inf.level,
                        f"fixest::feols(vcov = ~{' + '.join(inf.cluster)})")
    if kind == "CR0":
        raise UnsupportedError(Problem(
            "inference.vcov", "CR0 is sandwich::vcovCL(type = \"HC0\") (with the G/(G-1) factor), which causalspec "
            "does not compute with fixed effects; estimatr's CR0 (no small-sample factor, G - 1 df) is vcov: "
            "CR0_estimatr.", fix="Write vcov: CR0_estimatr for estimatr::lm_robust(fixed_effects = , se_type = "
            "\"CR0\"), or CR1 for fixest's clustered variance.", code="ambiguous_vcov"))
    if kind in ("CR0_estimatr", "CR2", "stata") and len(inf.cluster) == 1:
        se_type = "CR0" if kind == "CR0_estimatr" else kind
        return VcovPlan(kind, tuple(inf.cluster), inf.level,
                        f"estimatr::lm_robust(fixed_effects = ~{' + '.join(fes)}, clusters = {inf.cluster[0]}, "
                        f'se_type = "{se_type}")')
    raise UnsupportedError(Problem(
        "inference.vcov", f"{kind} is not available with fixed effects in this version"
        + (" (CR0_estimatr, CR2 and stata take one cluster column)" if kind in ("CR0_estimatr", "CR2", "stata")
           else "")
        + "; fixed-effects designs support iid, HC1, CR1 (one or more cluster columns), and CR0 / CR2 / stata "
          "(one cluster column).",
        fix='Use iid, HC1 (fixest "hetero"), CR1 with cluster (fixest ~cluster, two-way with two columns), or '
            "CR0_estimatr / CR2 / stata with one cluster column (estimatr); leave vcov out for fixest's default.",
        code="unsupported_vcov"))


def iv_vcov_plan(inference) -> VcovPlan:
    """2SLS without fixed effects: AER::ivreg with sandwich's HC variances, or fixest's clustered one."""
    inf = inference
    if inf.wild_bootstrap is not None:
        raise UnsupportedError(Problem("inference.wild_bootstrap", "the wild bootstrap is not available for IV.",
                                       fix="Remove wild_bootstrap.", code="wild_unsupported"))
    kind = inf.vcov or ("CR1" if inf.cluster else "iid")
    if kind in ("iid", "HC0", "HC1", "HC2", "HC3"):
        return VcovPlan(kind, (), inf.level, f'AER::ivreg(); sandwich::vcovHC(type = "{kind}")' if kind != "iid"
                        else "AER::ivreg() summary (iid)")
    if kind == "CR1":
        return VcovPlan("CR1", tuple(inf.cluster), inf.level, f"fixest::feols(vcov = ~{' + '.join(inf.cluster)})")
    raise unsupported_vcov(kind, "IV in this version", "iid, HC0, HC1, HC2, HC3 and CR1")

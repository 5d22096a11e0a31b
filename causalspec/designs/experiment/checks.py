"""Design plug-in: the experiment's own checks, run after the fit and reported before the effect.

* Sample-ratio mismatch: Pearson chi-square of the arm sizes against ``design.planned_split``
  (``stats::chisq.test(counts, p = planned)``); a p-value below ``design.srm_alpha`` (default 0.001, the
  usual threshold, since any real mismatch is large) means the assignment or the logging is broken and the
  arms are not comparable — the warning is the first thing the summary prints.
* Covariate balance: standardized mean differences of the covariates between arms (pooled SD); with
  randomization they are noise, so |SMD| > 0.1 is reported as a note.
* The primary metric as the spec types it (``design.metric``): a proportion is also tested with
  ``stats::prop.test``; a ratio metric is compared by the delta method; ``design.cuped`` adds the CUPED estimate.
* Guardrails (``design.guardrails``): each metric's difference in means (``estimatr::difference_in_means``) and a
  non-inferiority verdict against its threshold; a failed guardrail is a warning.
* The decision rule (``design.decision``): ship / do not ship / inconclusive with the reasons, and no verdict at
  all while the sample-ratio check flags the test as broken.

The checks run in the order of ``FAMILY.checks`` and read only ``plan.settings``; each adds to ``extras``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from causalspec.errors import DataError, Problem
from causalspec.estimators._experiment import difference_in_means
from causalspec.power._abtest import cuped, prop_test, ratio_metric, srm_check

__all__ = ["sample_ratio_check", "balance_check", "metric_check", "guardrail_check", "decision_check"]


def sample_ratio_check(plan, frame: pd.DataFrame, out):

    split = plan.settings.planned_split
    if split is None:
        return out
    t = frame[plan.treatment].astype(float).to_numpy()
    counts = [int((t == 0).sum()), int((t == 1).sum())]
    test = srm_check(counts, [1 - split, split])
    extras = {**out.extras, "sample_ratio": {
        "control": counts[0], "treatment": counts[1], "planned_split": split,
        "observed_split": counts[1] / max(sum(counts), 1), "chi_square": test.statistic, "p_value": test.p_value,
        "alpha": plan.settings.srm_alpha, "r_equivalent": "stats::chisq.test(counts, p = planned)"}}
    warnings = out.warnings
    if test.p_value < plan.settings.srm_alpha:
        warnings = (f"SAMPLE RATIO MISMATCH: {counts[1]:,} treated and {counts[0]:,} control units "
                    f"({counts[1] / sum(counts):.1%} treated) where {split:.0%} was planned; chi-square "
                    f"{test.statistic:.1f}, p = {test.p_value:.2g}. Assignment or logging is broken and the arms "
                    "are not comparable: do not read the effect below until the cause is found.",) + warnings
    return replace(out, extras=extras, warnings=warnings)


def balance_check(plan, frame: pd.DataFrame, out):
    covs = [c for c in plan.covariates if pd.api.types.is_numeric_dtype(frame[c])]
    if not covs:
        return out
    t = frame[plan.treatment].astype(float).to_numpy() == 1
    rows, notes = [], list(out.notes)
    for c in covs:
        x = frame[c].to_numpy(float)
        sd = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
        smd = float((x[t].mean() - x[~t].mean()) / sd) if sd > 0 else 0.0
        rows.append({"covariate": c, "mean_treatment": float(x[t].mean()), "mean_control": float(x[~t].mean()),
                     "smd": smd})
        if abs(smd) > 0.1:
            notes.append(f"covariate {c!r} is imbalanced between arms (standardized mean difference {smd:+.2f}).")
    return replace(out, extras={**out.extras, "balance": rows}, notes=tuple(notes))


def _numeric(frame: pd.DataFrame, column: str, loc: str) -> np.ndarray:
    if column not in frame.columns:
        raise DataError(Problem(loc, f"column {column!r} is not in the data.",
                                fix="Fix the column name in the spec, or add the column to the data.",
                                code="missing_column"))
    if not pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
        raise DataError(Problem(loc, f"column {column!r} is not numeric (dtype {frame[column].dtype}).",
                                fix="Use a numeric metric column.", code="metric_not_numeric"))
    return frame[column].to_numpy(float)


def _arms(plan, frame: pd.DataFrame) -> np.ndarray:
    return frame[plan.treatment].astype(float).to_numpy()


def metric_check(plan, frame: pd.DataFrame, out):
    """The primary metric as typed in the spec: prop.test for a proportion, the delta method for a ratio, CUPED."""

    s = plan.settings
    metric = s.metric.model_dump(mode="json")
    level = plan.vcov.level
    t = _arms(plan, frame)
    extras = dict(out.extras)
    if metric["type"] == "proportion":
        y = _numeric(frame, plan.outcome, "outcome")
        if not np.isin(y, (0.0, 1.0)).all():
            raise DataError(Problem("design.metric.type", f"a proportion metric needs a 0/1 outcome; "
                                    f"{plan.outcome!r} takes other values (e.g. {sorted(set(y[~np.isin(y, (0, 1))]))[0]:g}).",
                                    fix="Recode the outcome as 0/1, or set design.metric.type to mean.",
                                    code="metric_not_binary"))
        x, n = [y[t == 1].sum(), y[t == 0].sum()], [int((t == 1).sum()), int((t == 0).sum())]
        correct = bool(metric.get("continuity_correction", True))
        test = prop_test(x, n, correct=correct, conf_level=level)  # treatment first: the interval is for p1 - p0
        extras["proportion_test"] = {
            "successes": {"treatment": x[0], "control": x[1]}, "n": {"treatment": n[0], "control": n[1]},
            "proportion_treatment": test.estimate[0], "proportion_control": test.estimate[1],
            "difference": test.estimate[0] - test.estimate[1], "chi_square": test.statistic, "p_value": test.p_value,
            "conf_int": list(test.conf_int), "method": test.method,
            "r_equivalent": f"stats::prop.test(c(x_treatment, x_control), c(n_treatment, n_control), "
                            f"correct = {str(correct).upper()})"}
    elif metric["type"] == "ratio":
        num = _numeric(frame, metric["numerator"], "design.metric.numerator")
        den = _numeric(frame, metric["denominator"], "design.metric.denominator")
        r = ratio_metric(num, den, t, level=level)
        extras["ratio_metric"] = {
            "numerator": metric["numerator"], "denominator": metric["denominator"],
            "ratio_treatment": r.ratio_treated, "ratio_control": r.ratio_control, "estimate": r.estimate,
            "std_error": r.std_error, "statistic": r.statistic, "p_value": r.p_value,
            "conf_int": [float(r.conf_low), float(r.conf_high)], "relative_lift": r.relative_lift,
            "variance": "first-order delta method per arm (Deng, Knoblich & Lu 2018), normal reference"}
    if s.cuped:
        y = _numeric(frame, plan.outcome, "outcome")
        x = _numeric(frame, s.cuped, "design.cuped")
        c = cuped(y, x, t, level=level)
        extras["cuped"] = {
            "covariate": s.cuped, "theta": c.theta, "estimate": c.estimate, "std_error": c.std_error, "df": c.df,
            "p_value": c.p_value, "conf_int": [float(c.conf_low), float(c.conf_high)],
            "unadjusted_std_error": c.unadjusted_std_error, "variance_reduction": c.variance_reduction,
            "method": "y - theta (x - mean x), theta = cov(y, x) / var(x) pooled; Welch SE (Deng et al. 2013)"}
    return replace(out, extras=extras)


def _harm_verdict(lo: float, hi: float, direction: str, threshold: float) -> str:
    # the change in the harmful direction: non-inferiority by the whole interval (Schuirmann-style margin)
    harm_lo, harm_hi = (lo, hi) if direction == "increase" else (-hi, -lo)
    if harm_hi < threshold:
        return "pass"
    if harm_lo > threshold:
        return "fail"
    return "inconclusive"


def guardrail_check(plan, frame: pd.DataFrame, out):
    """Each guardrail's difference in means and its verdict; a failed guardrail is a warning."""

    guardrails = [g.model_dump(mode="json") for g in plan.settings.guardrails]
    if not guardrails:
        return out
    t = _arms(plan, frame)
    rows, warnings, notes = [], list(out.warnings), list(out.notes)
    pct = f"{plan.vcov.level:.0%}"
    for i, g in enumerate(guardrails):
        y = _numeric(frame, g["column"], f"design.guardrails[{i}].column")
        res = difference_in_means(y, t, level=plan.vcov.level, term=g["column"])
        r = res.table.iloc[0]
        lo, hi = float(r["conf_low"]), float(r["conf_high"])
        verdict = _harm_verdict(lo, hi, g["direction"], g["threshold"])
        rows.append({"column": g["column"], "direction": g["direction"], "threshold": g["threshold"],
                     "estimate": float(r["estimate"]), "std_error": float(r["std_error"]),
                     "p_value": float(r["p_value"]), "conf_int": [lo, hi], "df": float(r["df"]),
                     "mean_treatment": res.mean_treated, "mean_control": res.mean_control, "verdict": verdict,
                     "r_equivalent": "estimatr::difference_in_means()"})
        bound = g["threshold"] if g["direction"] == "increase" else -g["threshold"]
        text = (f"guardrail {g['column']!r} (must not {g['direction']} by more than {g['threshold']:g}): "
                f"{float(r['estimate']):+.4g} ({pct} CI {lo:.4g} to {hi:.4g}) against the limit {bound:+g}")
        if verdict == "fail":
            warnings.append(f"GUARDRAIL FAILED: {text}: the whole interval is beyond the limit.")
        elif verdict == "inconclusive":
            notes.append(f"{text}: inconclusive (the interval crosses the limit).")
    return replace(out, extras={**out.extras, "guardrails": rows}, warnings=tuple(warnings), notes=tuple(notes))


def _primary(plan, out) -> tuple[str, float, float, float]:
    """The primary metric's estimate and interval the decision uses: the ratio metric, CUPED, or the effect."""
    if "ratio_metric" in out.extras:
        r = out.extras["ratio_metric"]
        return "ratio metric (delta method)", r["estimate"], *r["conf_int"]
    if "cuped" in out.extras:
        c = out.extras["cuped"]
        return f"CUPED on {c['covariate']!r}", c["estimate"], *c["conf_int"]
    e = out.effect
    return f"the {plan.estimator.value} estimate", e.estimate, e.conf_low, e.conf_high


def decision_check(plan, frame: pd.DataFrame, out):
    """The spec's decision rule applied to the primary metric and the guardrails (after the other checks)."""
    rule = None if plan.settings.decision is None else plan.settings.decision.model_dump(mode="json")
    if rule is None:
        return out
    goal, min_effect = rule["goal"], float(rule["min_effect"])
    basis, est, lo, hi = _primary(plan, out)
    sign = 1.0 if goal == "increase" else -1.0
    g_lo, g_hi = sorted((sign * lo, sign * hi))  # the change in the goal direction
    pct = f"{plan.vcov.level:.0%}"
    text = (f"goal: {goal} by more than {min_effect:g}; every guardrail must pass; no sample-ratio mismatch")
    srm = out.extras.get("sample_ratio")
    reasons = []
    if srm is not None and srm["p_value"] < srm["alpha"]:
        verdict = "no decision"
        reasons.append(f"the sample-ratio check flags the test as broken (p = {srm['p_value']:.2g}): fix the "
                       "assignment or logging and rerun before deciding")
    else:
        guards = out.extras.get("guardrails") or []
        failed = [g["column"] for g in guards if g["verdict"] == "fail"]
        unclear = [g["column"] for g in guards if g["verdict"] == "inconclusive"]
        where = f"{basis}: {est:+.4g} ({pct} CI {lo:.4g} to {hi:.4g})"
        if g_lo > min_effect:
            reasons.append(f"{where}: the whole interval is beyond {min_effect:g} in the goal direction")
            primary = "win"
        elif g_hi < min_effect:
            reasons.append(f"{where}: the whole interval is short of {min_effect:g} in the goal direction")
            primary = "loss"
        else:
            reasons.append(f"{where}: the interval includes changes smaller than {min_effect:g}")
            primary = "unclear"
        if failed:
            reasons.append(f"guardrails failed: {', '.join(failed)}")
        if unclear:
            reasons.append(f"guardrails inconclusive: {', '.join(unclear)}")
        if failed or primary == "loss":
            verdict = "do not ship"
        elif primary == "win" and not unclear:
            verdict = "ship"
        else:
            verdict = "inconclusive"
    decision = {"verdict": verdict, "rule": text, "goal": goal, "min_effect": min_effect, "basis": basis,
                "reasons": reasons}
    notes = tuple(out.notes) + (f"DECISION (design.decision): {verdict.upper()}: {'; '.join(reasons)}.",)
    return replace(out, extras={**out.extras, "decision": decision}, notes=notes)


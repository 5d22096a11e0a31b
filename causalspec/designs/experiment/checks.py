"""Design plug-in: the experiment's own checks, run after the fit and reported before the effect.

* Sample-ratio mismatch: Pearson chi-square of the arm sizes against ``design.planned_split``
  (``stats::chisq.test(table(d), p = c(1 - s, s))``), with its df and the observed and expected counts per arm;
  a p-value below ``design.srm_alpha`` (default 0.001, the usual threshold, since any real mismatch is large)
  means the assignment or the logging is broken and the arms are not comparable — the warning is the first
  thing the summary prints.  With ``inference.cluster`` and every cluster in one arm (clustered assignment) the
  test counts clusters, the units that were randomized; counting their members would overstate the evidence
  as many times over as the clusters are large.
* Covariate balance: standardized mean differences of the covariates between arms (pooled SD); with
  randomization they are noise, so |SMD| > 0.1 is reported as a note.
* The primary metric as the spec types it (``design.metric``): a proportion is also tested with
  ``stats::prop.test`` (not with clusters: it assumes independent units); a ratio metric is compared by the
  delta method (on cluster totals under clustered assignment); ``design.cuped`` adds the CUPED estimate.
* Guardrails (``design.guardrails``): each metric's difference in means (``estimatr::difference_in_means``,
  clustered like the effect) and a non-inferiority verdict against its threshold; a failed guardrail is a warning.
* The effect table (``extras["effects"]``): every estimate the experiment reports — the effect, the unadjusted
  contrast, Welch's t test, CUPED, the ratio metric, the proportion test, the guardrails — one row each, with
  its method label and R call.
* The decision rule (``design.decision``): ship / do not ship / inconclusive with the reasons, and no verdict at
  all while the sample-ratio check flags the test as broken.

The checks run in the order of ``FAMILY.checks`` and read only ``plan.settings`` and ``plan.vcov``; each adds
to ``extras``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from causalspec._values import num
from causalspec.designs._common import find_row, treatment_terms
from causalspec.designs.experiment.data import arm_data
from causalspec.designs.experiment.fit import effect_method, lin_method, naive_method
from causalspec.errors import DataError, Problem
from causalspec.planner import Estimator
from causalspec.power._abtest import RatioMoments, _moments, prop_test, ratio_from_moments, srm_check

__all__ = ["sample_ratio_check", "balance_check", "metric_check", "guardrail_check", "effects_check",
           "decision_check"]


def _cluster_arms(t: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Each cluster's arm (every member shares it under clustered assignment)."""
    arm = np.empty(n_groups)
    arm[codes] = t
    return arm


def _ratio_moments(numer: np.ndarray, den: np.ndarray, arm: np.ndarray) -> tuple[RatioMoments, RatioMoments]:
    """(control, treated) moments of the clusters' totals."""
    return tuple(_moments(numer[arm == a], den[arm == a]) for a in (0.0, 1.0))


def sample_ratio_check(plan, frame, out):
    """Pearson chi-square of the arm sizes against the planned split, as
    ``stats::chisq.test(table(d), p = c(1 - s, s))``; Fabijan et al. (2019).  Counts clusters under clustered
    assignment (``chisq.test`` on the cluster-level assignment), else units."""
    split = plan.settings.planned_split
    if split is None:
        return out
    data = arm_data(plan, frame)
    units = list(data.arm_sizes())
    clusters, notes = data.clusters(), list(out.notes)
    r_call = "stats::chisq.test(table(d), p = c(1 - s, s))"
    counted, counts, name = "units", units, "units"
    if clusters is not None:
        cl, nested = clusters
        g = ", ".join(plan.vcov.cluster)
        if nested:
            arm = _cluster_arms(data.t, cl.codes, cl.n_groups)
            counts = [int((arm == 0).sum()), int((arm == 1).sum())]
            counted, name = "clusters", f"clusters of {g}"
            r_call = f"stats::chisq.test(table(d of each {g}), p = c(1 - s, s))"
            notes.append(f"sample-ratio check: counted the {cl.n_groups:,} clusters of {g} that were assigned "
                         f"({counts[1]:,} treated, {counts[0]:,} control), not the {data.nobs:,} units: members of a "
                         "cluster share their arm, so counting units would overstate the evidence of a mismatch.")
        else:
            notes.append(f"sample-ratio check: counted units, not the clusters of {g}: some clusters have units "
                         "in both arms, so the clusters were not the units of assignment.")
    test = srm_check(counts, [1 - split, split])
    expected = dict(zip(("control", "treatment"), test.expected))
    srm = {
        "control": counts[0], "treatment": counts[1], "planned_split": split,
        "observed_split": counts[1] / max(sum(counts), 1), "chi_square": test.statistic, "df": test.df,
        "p_value": test.p_value, "observed": {"control": counts[0], "treatment": counts[1]},
        "expected": expected, "counted": counted, "cluster": list(plan.vcov.cluster),
        "units": {"control": units[0], "treatment": units[1]}, "method": test.method,
        "test_warnings": list(test.warnings), "alpha": plan.settings.srm_alpha, "r_equivalent": r_call}
    warnings = out.warnings
    if test.p_value < plan.settings.srm_alpha:
        warnings = (f"SAMPLE RATIO MISMATCH: {counts[1]:,} treated and {counts[0]:,} control {name} "
                    f"({counts[1] / sum(counts):.1%} treated) where {split:.0%} was planned "
                    f"({expected['treatment']:,.1f} treated expected); chi-square {test.statistic:.1f} on "
                    f"{test.df:g} df, p = {test.p_value:.2g}. Assignment or logging is broken and the arms are not "
                    "comparable: do not read the effect below until the cause is found.",) + warnings
    return replace(out, extras={**out.extras, "sample_ratio": srm}, warnings=warnings, notes=tuple(notes))


def balance_check(plan, frame, out):
    data = arm_data(plan, frame)
    covs = data.numeric_covariates()
    if not covs:
        return out
    rows, notes = [], list(out.notes)
    for c in covs:
        control, treated = data.arm_moments(data.column(c, "covariates"))
        sd = np.sqrt((treated.var + control.var) / 2)
        smd = float((treated.mean - control.mean) / sd) if sd > 0 else 0.0
        rows.append({"covariate": c, "mean_treatment": treated.mean, "mean_control": control.mean, "smd": smd})
        if abs(smd) > 0.1:
            notes.append(f"covariate {c!r} is imbalanced between arms (standardized mean difference {smd:+.2f}).")
    return replace(out, extras={**out.extras, "balance": rows}, notes=tuple(notes))


def metric_check(plan, frame, out):
    """The primary metric as typed in the spec: prop.test for a proportion (and for a 0/1 outcome of a mean
    metric, without the continuity correction), the delta method for a ratio.  (CUPED is fitted: fit.py.)"""

    s = plan.settings
    metric = s.metric.model_dump(mode="json")
    level = plan.vcov.level
    data = arm_data(plan, frame)
    extras = dict(out.extras)
    clusters = data.clusters()
    y = data.outcome()
    bad = data.non_binary(y)
    binary = metric["type"] == "mean" and bad is None  # a 0/1 outcome: its rates are compared by prop.test too
    if (metric["type"] == "proportion" or binary) and clusters is not None:
        extras["proportion_test"] = {
            "computed": False,
            "reason": f"stats::prop.test treats the {data.nobs:,} units as independent draws, which they are not when "
                      f"the variance is clustered by {', '.join(plan.vcov.cluster)}; the effect (a difference in "
                      "proportions with a cluster-robust standard error) is the test."}
    elif metric["type"] == "proportion" or binary:
        if bad is not None:
            raise DataError(Problem("design.metric.type", f"a proportion metric needs a 0/1 outcome; "
                                    f"{plan.outcome!r} takes other values (e.g. {bad:g}).",
                                    fix="Recode the outcome as 0/1, or set design.metric.type to mean.",
                                    code="metric_not_binary"))
        (s0, s1), (n0, n1) = data.arm_sums(y), data.arm_sizes()
        x, n = [s1, s0], [n1, n0]
        # metric.type proportion: the spec's choice (R's default, correct = TRUE); a 0/1 outcome of a mean metric:
        # the plain Pearson chi-square (correct = FALSE), the square of the pooled two-proportion z test
        correct = bool(metric.get("continuity_correction", True)) and not binary
        test = prop_test(x, n, correct=correct, conf_level=level)  # treatment first: the interval is for p1 - p0
        extras["proportion_test"] = {
            "successes": {"treatment": x[0], "control": x[1]}, "n": {"treatment": n[0], "control": n[1]},
            "proportion_treatment": test.estimate[0], "proportion_control": test.estimate[1],
            "difference": test.estimate[0] - test.estimate[1], "chi_square": test.statistic, "df": test.df,
            "p_value": test.p_value, "conf_int": list(test.conf_int), "method": test.method,
            "correct": correct, "why": "design.metric.type: proportion" if not binary else "the outcome is 0/1",
            "r_equivalent": f"stats::prop.test(c(x_treatment, x_control), c(n_treatment, n_control), "
                            f"correct = {str(correct).upper()})"}
    elif metric["type"] == "ratio":
        numer = data.column(metric["numerator"], "design.metric.numerator")
        den = data.column(metric["denominator"], "design.metric.denominator")
        variance = "first-order delta method per arm (Deng, Knoblich & Lu 2018), normal reference"
        if clusters is not None and clusters[1]:
            # Deng et al.'s delta method is over the randomization units: here the clusters, by their totals
            # (a ratio of sums is the same over units or over cluster totals)
            cl = clusters[0]
            numer, den = (np.bincount(cl.codes, weights=v, minlength=cl.n_groups) for v in (numer, den))
            moments = _ratio_moments(numer, den, _cluster_arms(data.t, cl.codes, cl.n_groups))
            variance += f", over the {cl.n_groups:,} clusters' totals (the units of assignment)"
        else:
            moments = data.ratio_moments(numer, den)
            if clusters is not None:
                variance += ", over units (the clusters do not carry the assignment)"
        r = ratio_from_moments(moments[1], moments[0], level=level)
        extras["ratio_metric"] = {
            "numerator": metric["numerator"], "denominator": metric["denominator"],
            "ratio_treatment": r.ratio_treated, "ratio_control": r.ratio_control, "estimate": r.estimate,
            "std_error": r.std_error, "statistic": r.statistic, "p_value": r.p_value,
            "conf_int": [float(r.conf_low), float(r.conf_high)], "relative_lift": r.relative_lift,
            "variance": variance}
    return replace(out, extras=extras)


def _harm_verdict(lo: float, hi: float, direction: str, threshold: float) -> str:
    # the change in the harmful direction: non-inferiority by the whole interval (Schuirmann-style margin)
    harm_lo, harm_hi = (lo, hi) if direction == "increase" else (-hi, -lo)
    if harm_hi < threshold:
        return "pass"
    if harm_lo > threshold:
        return "fail"
    return "inconclusive"


def guardrail_check(plan, frame, out):
    """Each guardrail's difference in means and its verdict; a failed guardrail is a warning."""

    guardrails = [g.model_dump(mode="json") for g in plan.settings.guardrails]
    if not guardrails:
        return out
    data = arm_data(plan, frame)
    rows, warnings, notes = [], list(out.warnings), list(out.notes)
    pct = f"{plan.vcov.level:.0%}"
    for i, g in enumerate(guardrails):
        y = data.column(g["column"], f"design.guardrails[{i}].column")
        res = data.dim(y, term=g["column"], nested=False)
        r = res.table.iloc[0]
        lo, hi = float(r["conf_low"]), float(r["conf_high"])
        verdict = _harm_verdict(lo, hi, g["direction"], g["threshold"])
        rows.append({"column": g["column"], "direction": g["direction"], "threshold": g["threshold"],
                     "estimate": float(r["estimate"]), "std_error": float(r["std_error"]),
                     "p_value": float(r["p_value"]), "conf_int": [lo, hi], "df": float(r["df"]),
                     "mean_treatment": res.mean_treated, "mean_control": res.mean_control, "verdict": verdict,
                     "method": res.method, "r_equivalent": _dim_r_call(plan)})
        bound = g["threshold"] if g["direction"] == "increase" else -g["threshold"]
        text = (f"guardrail {g['column']!r} (must not {g['direction']} by more than {g['threshold']:g}): "
                f"{float(r['estimate']):+.4g} ({pct} CI {lo:.4g} to {hi:.4g}) against the limit {bound:+g}")
        if verdict == "fail":
            warnings.append(f"GUARDRAIL FAILED: {text}: the whole interval is beyond the limit.")
        elif verdict == "inconclusive":
            notes.append(f"{text}: inconclusive (the interval crosses the limit).")
    return replace(out, extras={**out.extras, "guardrails": rows}, warnings=tuple(warnings), notes=tuple(notes))


def _dim_r_call(plan) -> str:
    """The R call of a difference in means with the plan's variance."""
    vc = plan.vcov
    if not vc.cluster:
        return "estimatr::difference_in_means()"
    g = ", ".join(vc.cluster)
    se_type = "CR0" if vc.kind == "CR0_estimatr" else vc.kind
    call = f'estimatr::lm_robust(y ~ d, clusters = {g}, se_type = "{se_type}")'
    if vc.kind == "CR2":
        call += f" (= estimatr::difference_in_means(clusters = {g}) when every cluster is in one arm)"
    return call


def _row(role: str, metric: str, term: str, method: str, r_call: str, estimate, std_error, statistic, p_value,
         conf_low, conf_high, df) -> dict:
    return {"role": role, "metric": metric, "term": term, "estimate": num(estimate), "std_error": num(std_error),
            "statistic": num(statistic), "p_value": num(p_value), "conf_low": num(conf_low),
            "conf_high": num(conf_high), "df": num(df), "method": method, "r_equivalent": r_call}


def effects_check(plan, frame, out):
    """The experiment's effect table: each estimate it reports as one row with its method label and R call."""
    e, x = out.effect, plan.treatment
    r_call = (_dim_r_call(plan) + " on y - theta (x - mean(x))") if plan.settings.cuped else plan.vcov.r_equivalent
    rows = [_row("effect", plan.outcome, e.term, effect_method(plan), r_call, e.estimate,
                 e.std_error, e.statistic, e.p_value, e.conf_low, e.conf_high, e.df)]
    if plan.estimator is Estimator.LIN or plan.settings.cuped:  # the effect is adjusted: the unadjusted beside it
        n = out.naive
        rows.append(_row("unadjusted", plan.outcome, n.term, naive_method(plan), _dim_r_call(plan), n.estimate,
                         n.std_error, n.statistic, n.p_value, n.conf_low, n.conf_high, n.df))
    if plan.estimator is Estimator.LIN and plan.settings.cuped:  # CUPED is the effect: Lin's estimate beside it
        n = find_row(out.rows, *treatment_terms(x))
        rows.append(_row("lin", plan.outcome, n.term, lin_method(plan), plan.vcov.r_equivalent, n.estimate,
                         n.std_error, n.statistic, n.p_value, n.conf_low, n.conf_high, n.df))
    if not plan.vcov.cluster:  # with clusters t.test's independent units do not hold: the rows above replace it
        data = arm_data(plan, frame)
        w = data.welch(data.outcome())
        rows.append(_row("welch_t_test", plan.outcome, x, "Welch t-test", "stats::t.test(y[d == 1], y[d == 0])",
                         w.estimate[0] - w.estimate[1], w.stderr, w.statistic, w.p_value, *w.conf_int, w.df))
    ex = out.extras
    if "cuped" in ex:
        c = ex["cuped"]
        rows.append(_row("cuped", plan.outcome, x, f"CUPED on {c['covariate']!r}: {c['method']}",
                         _dim_r_call(plan) + " on y - theta (x - mean(x))", c["estimate"], c["std_error"],
                         c["estimate"] / c["std_error"], c["p_value"], *c["conf_int"], c["df"]))
    if "ratio_metric" in ex:
        r = ex["ratio_metric"]
        rows.append(_row("ratio_metric", f"{r['numerator']} / {r['denominator']}", x,
                         f"ratio metric: {r['variance']}", "none (Deng, Knoblich & Lu 2018)", r["estimate"],
                         r["std_error"], r["statistic"], r["p_value"], *r["conf_int"], None))
    if ex.get("proportion_test", {}).get("computed", True) and "proportion_test" in ex:
        p = ex["proportion_test"]
        rows.append(_row("proportion_test", plan.outcome, x, f"two-proportion test: {p['method']}",
                         p["r_equivalent"], p["difference"], None, None, p["p_value"], *p["conf_int"], None))
    for g in ex.get("guardrails") or []:
        rows.append(_row("guardrail", g["column"], g["column"], g["method"], g["r_equivalent"], g["estimate"],
                         g["std_error"], g["estimate"] / g["std_error"], g["p_value"], *g["conf_int"], g["df"]))
    return replace(out, extras={**out.extras, "effects": rows})


def _primary(plan, out) -> tuple[str, float, float, float]:
    """The primary metric's estimate and interval the decision uses: the ratio metric, else the effect (which is
    CUPED when design.cuped is given)."""
    if "ratio_metric" in out.extras:
        r = out.extras["ratio_metric"]
        return "ratio metric (delta method)", r["estimate"], *r["conf_int"]
    e = out.effect
    basis = f"CUPED on {plan.settings.cuped!r}" if plan.settings.cuped else f"the {plan.estimator.value} estimate"
    return basis, e.estimate, e.conf_low, e.conf_high


def decision_check(plan, frame, out):
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


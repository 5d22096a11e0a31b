"""Text rendering of results, laid out like R's ``summary.lm`` (no timestamps, so two runs diff clean)."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Sequence
from dataclasses import replace

from causalspec._values import Estimate
from causalspec.result._sensitivity import bound_verdict

if TYPE_CHECKING:  # pragma: no cover
    from causalspec.result import Result


def _fmt(value: float, digits: int = 5) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    a = abs(value)
    if a != 0 and (a < 1e-4 or a >= 1e7):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def _p(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return "<2e-16" if value < 2e-16 else f"{value:.3g}"


def _stars(p: float) -> str:
    if p is None or math.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def coefficient_table(rows: Sequence["Estimate"], level: float, p_label: str | None = None) -> str:
    """R-style table: Estimate, Std. Error, t value, Pr(>|t|), and the confidence interval.  ``p_label`` names a
    p-value that is not a t or z test's (Synth's permutation p: "p (permutation)")."""

    pct = f"{level:.0%}"
    z = bool(rows) and all(math.isinf(r.df) for r in rows)  # a normal reference (IPW, AIPW, did): R says z
    stat, prob = ("z value", "Pr(>|z|)") if z else ("t value", "Pr(>|t|)")
    prob = p_label or prob
    header = ["", "Estimate", "Std. Error", stat, prob, "", f"{pct} CI low", f"{pct} CI high"]
    body = [[r.term, _fmt(r.estimate), _fmt(r.std_error), _fmt(r.statistic), _p(r.p_value), _stars(r.p_value),
             _fmt(r.conf_low), _fmt(r.conf_high)] for r in rows]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    def line(row):
        first = str(row[0]).ljust(widths[0])
        rest = [str(c).rjust(w) if i != 4 else str(c).ljust(w) for i, (c, w) in enumerate(zip(row[1:], widths[1:]), 1)]
        return "  ".join([first, *rest]).rstrip()
    return "\n".join(line(r) for r in [header, *body])


def summary(result: "Result") -> str:
    """The text summary of a Result."""
    plan = result.plan
    out = [f"causalspec: {plan.name}", ""]
    adj = ", ".join(plan.adjustment_set) or "nothing"
    out.append(f"Effect of {plan.treatment} on {plan.outcome} ({plan.estimand}), {plan.strategy.value}")
    if plan.strategy.value == "backdoor adjustment":
        out.append(f"Adjusted for: {adj}")
    if plan.covariates:
        out.append(f"Covariates:   {', '.join(plan.covariates)}")
    cuped = result.extras.get("cuped") if plan.design == "experiment" and hasattr(result, "extras") else None
    how = f", CUPED on {cuped['covariate']} (the effect)" if cuped else ""
    out.append(f"Estimator:    {plan.estimator.value}{how}   Model: {plan.formula}")
    vc = plan.vcov
    out.append(f"Std. errors:  {vc.kind}" + (f" clustered by {', '.join(vc.cluster)}" if vc.cluster else "")
               + f" (matches {vc.r_equivalent})")
    for warning in result.warnings:  # a broken test or poor overlap is said before any effect
        out += ["", textwrap.fill(f"WARNING: {warning}", 100, subsequent_indent="  ")]
    out += ["", headline(result), "", "Naive vs adjusted:"]
    label_naive = "naive (unadjusted)"
    label_adj = "adjusted" if plan.strategy.value == "backdoor adjustment" else plan.estimator.value
    extras = result.extras if hasattr(result, "extras") else {}
    effect_rows = [_relabel(result.naive, label_naive)]
    if cuped:  # CUPED is the effect; Lin's estimate, when it was fitted too, stands between
        label_adj = f"CUPED ({cuped['covariate']})"
        effect_rows += [_relabel(_row_estimate(r), "lin") for r in extras.get("effects") or () if r["role"] == "lin"]
    effect_rows.append(_relabel(result.effect, label_adj))
    p_label = "p (permutation)" if vc.kind == "permutation" else None  # Synth: the placebo rank, not a z test
    out.append(textwrap.indent(coefficient_table(effect_rows, vc.level, p_label), "  "))
    if plan.design == "experiment":
        out += _experiment_lines(extras, vc.level)
    out += ["", "Coefficients:"]
    out.append(textwrap.indent(coefficient_table(result.coefficients, vc.level, p_label), "  "))
    out.append("---")
    out.append("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
    stats = dict(result.fit_stats)
    line = f"Observations: {result.nobs:,}"
    if "r2" in stats:
        adj = stats.get("adj_r2", stats.get("ar2"))
        line += f"   R-squared: {stats['r2']:.4g}" + (f"   Adj. R-squared: {adj:.4g}" if adj is not None else "")
    if "wr2" in stats:  # fixed effects: the within R² is the share the regressors explain (fixest's r2(, "wr2"))
        line += f"   Within R-squared: {stats['wr2']:.4g}"
    if "sigma" in stats:
        line += f"   Residual std. error: {stats['sigma']:.4g}"
    out.append(line)
    sizes = result.extras.get("fixed_effects") if hasattr(result, "extras") else None
    if isinstance(sizes, dict) and sizes:
        out.append("Fixed effects: " + ", ".join(f"{name} ({int(n):,} levels)" for name, n in sizes.items()))
    for reason, count in result.dropped:
        out.append(f"NOTE: {count:,} observation{'s' if count != 1 else ''} removed because of {reason}.")
    for note in result.notes:
        out.append(f"NOTE: {note}")
    fitstat = result.extras.get("fitstat") if hasattr(result, "extras") else None
    if isinstance(fitstat, dict):
        labels = [(k, f"first-stage F ({k.split('::', 1)[1]})") for k in fitstat if k.startswith("ivf1::")]
        labels += [("wh", "Wu-Hausman"), ("sargan", "Sargan")]
        parts = [f"{label} = {fitstat[k]['stat']:.4g} (p = {fitstat[k]['p']:.3g})" for k, label in labels
                 if isinstance(fitstat.get(k), dict) and fitstat[k].get("stat") is not None]
        if parts:
            out.append("IV diagnostics (fixest::fitstat): " + "; ".join(parts))
    out += _heterogeneity_lines(result.extras.get("heterogeneity") if hasattr(result, "extras") else None,
                                vc.level)
    out += _cate_lines(result.extras.get("cate") if hasattr(result, "extras") else None, vc.level)
    out += _synthetic_control_lines(result.extras if hasattr(result, "extras") else {})
    wb = result.extras.get("wild_bootstrap") if hasattr(result, "extras") else None
    if wb:
        how = (f"all {wb['draws']:,} {wb['weights']} weight vectors (exact)" if wb["enumerated"]
               else f"{wb['draws']:,} {wb['weights']} draws, seed {wb['seed']}")
        out.append(f"Wild cluster bootstrap (restricted, {wb['n_clusters']} clusters, {how}): "
                   f"p = {wb['p_value']:.4g}, {wb['level']:.0%} CI {wb['conf_low']:.4g} to {wb['conf_high']:.4g}")
    sens = result.sensitivity
    if hasattr(sens, "summary_lines"):
        out += ["", "Sensitivity to unobserved confounding:"]
        out += [textwrap.fill(s, 100, initial_indent="  ", subsequent_indent="    ") for s in sens.summary_lines()]
    elif getattr(sens, "reason", ""):
        out += ["", f"Sensitivity: not computed ({sens.reason})."]
    checks = result.dag_tests
    if hasattr(checks, "summary_lines"):
        out += [""] + [textwrap.fill(s, 100, subsequent_indent="    ") if not s.startswith("  ") else s
                       for s in checks.summary_lines()]
    ref = result.refutations
    if hasattr(ref, "table"):
        # no run time: the summary is rendered into report.html, which verify compares line by line
        out += ["", f"Refutation tests (seed {ref.seed}, {ref.simulations} replications each):", ref.table()]
    curve = result.specification_curve
    if hasattr(curve, "table"):
        out += ["", "Specification curve (every valid adjustment set):", curve.table(),
                textwrap.fill(("WARNING: " if curve.verdict == "warn" else "") + curve.message, 100,
                              initial_indent="  ", subsequent_indent="  ")]
    return "\n".join(out) + "\n"


def _row_estimate(row: dict) -> "Estimate":
    """An experiment's effect-table row (``extras["effects"]``) as an Estimate."""
    nan = float("nan")
    return Estimate(row["term"], *(nan if row[k] is None else row[k] for k in
                                   ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")),
                    math.inf if row["df"] is None else row["df"])


def _pct(value: float) -> str:
    return f"{value:+.2%}"


def _experiment_lines(extras: dict, level: float) -> list[str]:
    """An experiment's arms (n, mean or rate, SE), relative lift, CUPED, proportion test and sample-ratio check."""
    out = []
    arms = extras.get("arms")
    if arms:
        clustered = "clusters" in arms["control"]
        what = "rate" if arms["binary"] else "mean"
        head = [f"Arms ({arms['outcome']})", "n"] + (["clusters"] if clustered else []) + [what, "std. error"]
        body = [[f"  {name}", f"{a['n']:,}"] + ([f"{a['clusters']:,}"] if clustered else [])
                + [_fmt(a["mean"]), _fmt(a["std_error"])] for name, a in
                ((k, arms[k]) for k in ("control", "treatment"))]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        out += [""] + ["  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])])
                       for r in [head, *body]]
        out.append(textwrap.fill(f"  std. error: {arms['std_error_method']}", 100, subsequent_indent="    "))
    lift = extras.get("relative_lift")
    if lift and lift.get("computed", True):
        out.append(textwrap.fill(
            f"Relative lift: {_pct(lift['estimate'])} ({level:.0%} CI {_pct(lift['conf_low'])} to "
            f"{_pct(lift['conf_high'])}): the effect {lift['effect']:+.4g} / {lift['control_mean']:.4g} "
            f"({lift['denominator']}); {lift['method']}.", 100, subsequent_indent="  "))
    elif lift:
        out.append(f"Relative lift: not computed ({lift['reason']})")
    c = extras.get("cuped")
    if c:
        out.append(f"CUPED on {c['covariate']!r}: theta = {c['theta']:.4g}, variance reduction "
                   f"{c['variance_reduction']:.1%} (SE {c['std_error']:.4g} against {c['unadjusted_std_error']:.4g} "
                   "unadjusted)")
    p = extras.get("proportion_test")
    if p and p.get("computed", True):
        correct = "TRUE" if "correct = TRUE" in p["r_equivalent"] else "FALSE"
        out.append(f"Proportion test (stats::prop.test, correct = {correct}): X-squared = {p['chi_square']:.4g} on "
                   f"{p.get('df', 1):g} df, p = {_p(p['p_value'])}; rates "
                   f"{p['proportion_treatment']:.4g} (treatment) and {p['proportion_control']:.4g} (control)")
    elif p:
        out.append(textwrap.fill(f"Proportion test: not computed ({p['reason']})", 100, subsequent_indent="  "))
    srm = extras.get("sample_ratio")
    if srm:
        units = "clusters" if srm["counted"] == "clusters" else "units"
        flag = "MISMATCH" if srm["p_value"] < srm["alpha"] else "as planned"
        out.append(textwrap.fill(
            f"Sample ratio: {srm['treatment']:,} treated and {srm['control']:,} control {units} "
            f"({srm['observed_split']:.1%} treated, {srm['planned_split']:.0%} planned): chi-square "
            f"{srm['chi_square']:.4g} on {srm['df']:g} df, p = {srm['p_value']:.3g}; {flag} (alpha {srm['alpha']:g})",
            100, subsequent_indent="  "))
    return out


def _cate_lines(cate, level: float) -> list[str]:
    """The CATE learner: where it was evaluated, effects by segment, GATES / BLP, RATE, uplift and the policy."""
    if not isinstance(cate, dict):
        return []
    q = cate["cate"]["quantiles"]
    out = ["", f"Heterogeneous effects ({cate['learner']}-learner, evaluated {cate['evaluated_on']}): CATE median "
               f"{q['p50']:.4g} (10%-90%: {q['p10']:.4g} to {q['p90']:.4g}); doubly robust ATE "
               f"{cate['ate_dr']['estimate']:.4g} ({level:.0%} CI {cate['ate_dr']['conf_low']:.4g} to "
               f"{cate['ate_dr']['conf_high']:.4g})"]
    for seg in cate["segments"]:
        rows = seg.get("effects") or seg.get("gates") or []
        label = f"by {seg['column']}" if seg.get("column") else f"by CATE quantile (GATES, {seg['cate_quantiles']} groups)"
        out.append(f"  {seg['name']} ({label}):" + (f" not reported: {seg['not_reported']}"
                                                       if seg.get("not_reported") else ""))
        out += [f"    {str(g['group'])[:24]:<24} {g['estimate']:>10.4g}  [{g['conf_low']:.4g}, {g['conf_high']:.4g}]"
                f"  n = {g['n']}" for g in rows]
        if "blp" in seg:
            b = seg["blp"]
            out.append(f"    BLP heterogeneity loading {b['het']:.3g} (SE {b['het_se']:.3g}, one-sided p = "
                       f"{b['het_p_value']:.3g}; 1 = the CATE is calibrated, 0 = no heterogeneity)")
    if cate.get("rate"):
        r = cate["rate"]["AUTOC"]
        out.append(f"  RATE (AUTOC, grf): {r['estimate']:.4g} (SE {r['std_error']:.3g})")
    if "uplift" in cate:
        u = cate["uplift"]
        out.append(f"  uplift on randomized rows: Qini coefficient {u['qini_auc_score']:.4g}, AUUC "
                   f"{u['uplift_auc_score']:.4g}, uplift at 30% {u['uplift_at_30pct']:.4g}")
    if "policy" in cate:
        p = cate["policy"]
        vals = {v["name"]: v for v in p["values"] + p["gains"]}
        pol, gain = vals["policy"], vals["policy - treat all"]
        out.append(f"  policy (treat when {p['value']:g} x CATE > {p['cost']:g}): treats {p['share_treated']:.0%}, "
                   f"net value {pol['value']:.4g} per unit [{pol['conf_low']:.4g}, {pol['conf_high']:.4g}]; vs "
                   f"treating everyone {gain['value']:+.4g} [{gain['conf_low']:.4g}, {gain['conf_high']:.4g}]"
                   + (f"; never treated: {', '.join(p['excluded_segments'])}" if p["excluded_segments"] else ""))
    out.append(f"  note: {cate['assumption']}")
    return out


def _heterogeneity_lines(het, level: float) -> list[str]:
    """The effect at each modifier value (the others at their means) and the joint test of the interactions."""
    if not isinstance(het, dict):
        return []
    out = ["", f"Effect modification by {', '.join(het['modifiers'])} (treatment x centred modifier; the effect "
               "above is the average):"]
    rows = [f"  {'at':<28} {'estimate':>12} {'std. error':>12} {f'{level:.0%} CI':>28} {'p':>9}"]
    for c in het["conditional_effects"]:
        at = f"{c['modifier']} = {c['at']:.4g}" if isinstance(c["at"], float) else f"{c['modifier']} = {c['at']}"
        ci = f"{c['conf_low']:.4g} to {c['conf_high']:.4g}"
        rows.append(f"  {at[:28]:<28} {c['estimate']:>12.4g} {c['std_error']:>12.4g} {ci:>28} {c['p_value']:>9.3g}")
    test = het["interaction_test"]
    if test.get("statistic") is not None:
        rows.append(f"  Interactions jointly zero: F({test['df1']}, {test['df2']:.0f}) = {test['statistic']:.4g}, "
                    f"p = {test['p_value']:.3g}")
    else:
        rows.append(f"  Interactions jointly zero: not computed ({test.get('reason')})")
    return out + rows


def _synthetic_control_lines(extras: dict) -> list[str]:
    """Synth: the donors with positive weight, the fit and the placebo rank; synthdid: its largest unit weights."""
    sc, sd = extras.get("synthetic_control"), extras.get("synthdid")
    if sc:
        donors = sorted(sc["donors"], key=lambda d: -d["weight"])
        shown = ", ".join(f"{d['unit']} {d['weight']:.3f}" for d in donors if d["weight"] >= 5e-4)
        out = ["", f"Synthetic control of {sc['treated_unit']}: {shown}",
               f"  pre-treatment RMSPE {sc['pre_rmspe']:.4g}, post-treatment RMSPE {sc['post_rmspe']:.4g}"]
        space = (extras.get("placebos") or {}).get("in_space")
        if space:
            out.append(f"  in-space placebos: the treated unit's post/pre RMSPE ratio ranks {space['rank']} of "
                       f"{space['units']} (p = {space['p_value']:.3g})")
        return out
    if sd:
        top = sorted(sd["unit_weights"], key=lambda d: -d["sdid"])[:5]
        return ["", "Synthetic DiD unit weights (largest): " + ", ".join(f"{d['unit']} {d['sdid']:.3f}" for d in top)]
    return []


def answer_lines(result: "Result") -> list[str]:
    """The answer first, before the plan: the effect with its interval and the naive contrast (the headline),
    a one-line verdict on how fragile it is, and every warning.  The CLI prints these first and report.html
    shows them at the top; the rest of the summary follows."""
    lines = [headline(result), verdict(result)]
    lines += [f"WARNING: {w}" for w in result.warnings]
    return [line for line in lines if line]


def verdict(result: "Result") -> str:
    """One sentence on whether the conclusion survives what was checked: the strongest sensitivity bound, the
    refutation tests and the specification curve ("" when nothing was checked)."""
    said = []
    sens = result.sensitivity
    ovb = getattr(sens, "ovb", None)
    if hasattr(ovb, "rv_q"):
        bounds = [b for b in ovb.bounds]
        fragile = [b.label for b in bounds if bound_verdict(ovb, b).startswith("this WOULD")]
        said.append(f"robustness value {ovb.rv_q:.1%}" + (
            f"; a confounder {fragile[0]} would change the conclusion" if fragile else
            (f"; no benchmark bound ({', '.join(b.label for b in bounds[-1:])}) changes it" if bounds else "")))
    ev = getattr(sens, "evalue", None)
    if hasattr(ev, "evalue_point") and not hasattr(ovb, "rv_q"):
        said.append(f"E-value {ev.evalue_point:.3g}")
    ref = result.refutations
    if hasattr(ref, "tests"):
        warned = [t.name.replace("_", " ") for t in ref.tests if t.verdict == "warn"]
        ran = [t for t in ref.tests if t.verdict != "not run"]
        if ran:
            said.append(f"refutations: {len(ran) - len(warned)} of {len(ran)} pass"
                        + (f" ({', '.join(warned)} warns)" if warned else ""))
    curve = result.specification_curve
    if hasattr(curve, "verdict"):
        said.append("specification curve: " + ("the valid adjustment sets disagree" if curve.verdict == "warn"
                                               else "every valid adjustment set agrees"))
    tag = _experiment_verdict(result.extras if hasattr(result, "extras") else {}, said)
    if not said:
        return ""
    worry = (any("WOULD change" in s for s in said) or "warns)" in " ".join(said) or
             getattr(curve, "verdict", "") == "warn")
    return ("Verdict: " + (tag or ("FRAGILE: " if worry else "holds up: ")) + "; ".join(said) + ".")


def _experiment_verdict(extras: dict, said: list[str]) -> str:
    """An experiment's own checks for the verdict (sample ratio, guardrails, decision), appended to ``said``;
    returns "BROKEN TEST: " on a sample-ratio mismatch, "FRAGILE: " on a failed guardrail, else ""."""
    srm, guards, decision = extras.get("sample_ratio"), extras.get("guardrails"), extras.get("decision")
    tag = ""
    if isinstance(srm, dict) and "p_value" in srm:
        tag = "BROKEN TEST: " if srm["p_value"] < srm["alpha"] else ""
        said.append(("sample ratio MISMATCH" if tag else "sample ratio as planned") + f" (p = {srm['p_value']:.2g})")
    if guards:
        failed = [g["column"] for g in guards if g["verdict"] == "fail"]
        said.append(f"guardrails: {sum(g['verdict'] == 'pass' for g in guards)} of {len(guards)} pass"
                    + (f" ({', '.join(failed)} failed)" if failed else ""))
        tag = tag or ("FRAGILE: " if failed else "")
    if isinstance(decision, dict):
        said.append(f"decision: {decision['verdict'].upper()}")
    return tag


def headline(result: "Result") -> str:
    """One sentence: the effect with its interval, and how far it moved from the naive contrast."""
    e, n, level = result.effect, result.naive, result.plan.vcov.level
    withheld = result.extras.get("headline_withheld") if hasattr(result, "extras") else None
    if withheld:
        return (f"No estimate of the effect of {result.plan.treatment} on {result.plan.outcome} is headlined: "
                f"{withheld}")
    if e.conf_low == e.conf_low:
        interval = f"{level:.0%} CI {e.conf_low:.4g} to {e.conf_high:.4g}"
    else:  # Synth: no sampling standard error; its inference is the permutation p-value, when one was run
        interval = ("no confidence interval; " + (f"permutation p = {e.p_value:.3g}" if e.p_value == e.p_value else
                                                  "no p-value either"))
    plan = result.plan
    what, naive, mover = "", "Naive contrast", ("adjustment" if plan.strategy.value == "backdoor adjustment"
                                                else "the estimator")
    if plan.design == "experiment":  # say which estimator the number is (docs/experiments.md, the headline rule)
        what, naive, mover = _experiment_estimator(result)
    text = f"Estimated effect of {plan.treatment} on {plan.outcome}{what}: {e.estimate:+.4g} ({interval})."
    if e is not n and n.estimate != e.estimate:
        moved = e.estimate - n.estimate
        rel = f", {moved / n.estimate:+.0%}" if n.estimate else ""
        text += f" {naive}: {n.estimate:+.4g}; {mover} moved it by {moved:+.4g}{rel}."
    return text


def _experiment_estimator(result: "Result") -> tuple[str, str, str]:
    """What an experiment's headline number is: CUPED, Lin's covariate adjustment or the difference in means."""
    plan = result.plan
    cuped = (result.extras if hasattr(result, "extras") else {}).get("cuped")
    naive = "Unadjusted difference in means"
    if cuped:
        return f" (CUPED on {cuped['covariate']})", naive, "CUPED"
    if plan.estimator.value == "lin":
        return (f" (Lin (2013) covariate adjustment for {', '.join(plan.covariates)})", naive,
                "covariate adjustment")
    return " (difference in means)", naive, "the estimator"


def _relabel(est: "Estimate", term: str) -> "Estimate":

    return replace(est, term=term)

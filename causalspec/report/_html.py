"""One self-contained HTML page for a reviewer (docs/report.md): the answer and its caveats first, then every figure,
the DAG, the plan in words, the estimates and the robustness checks.

The page is a Jinja2 template (``templates/report.html.j2``) with its stylesheet inlined, every image a data: URI,
no script and no network, so the file stands alone and prints to PDF.  Spec text is untrusted: the environment
autoescapes everything it is given.  This module only gathers plain values for the template; no number is
computed here that the Result does not hold, and nothing carries a timestamp (``verify`` re-renders the page).
"""

from __future__ import annotations

import base64
import io
import json
import math
from functools import lru_cache
from typing import Any, Callable

import jinja2

from causalspec.report._design_figures import design_figures
from causalspec.report._event_study import event_study_plot
from causalspec.report._figures import estimate_figure
from causalspec.report._propensity_plots import love_plot, overlap_plot
from causalspec.report._text import answer_lines, summary
from causalspec.robustness import specification_curve_plot
from causalspec.sensitivity import contour_plot, parallel_trends_plot

__all__ = ["report_html"]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("causalspec.report", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def report_html(spec, plan, result, dag_png: bytes | None = None) -> str:
    """Render the review page for ``result`` (from ``plan``, from ``spec``); ``dag_png`` is the DAG drawing, if any.

    Examples
    --------
    >>> import causalspec as cs
    >>> from causalspec.report._html import report_html
    >>> r = cs.run("specs/feature_adoption.yaml", refute=False)          # doctest: +SKIP
    >>> report_html(r.spec, r.plan, r).startswith("<!DOCTYPE html>")     # doctest: +SKIP
    True
    """
    p = plan.to_dict()
    level = result.plan.vcov.level
    design = [(n, a, d) for n, a, d in design_figures(result) if not n.startswith("cate_")]
    cate = [(n, a, d) for n, a, d in design_figures(result) if n.startswith("cate_")]
    est_alt = f"Naive and {p['estimator']} estimates with their {_pct(level)} confidence intervals"
    context = {
        "name": str(spec.name),
        "description": str(getattr(spec, "description", "") or ""),
        "question": p,
        "answer": _answer(result),
        "key_numbers": _key_numbers(result, level),
        "caveats": _caveats(p, result),
        "assumptions": [str(a) for a in p.get("assumptions", ())],
        "main_figures": [_figure(a, d) for _, a, d in design] + [_figure(est_alt, lambda: estimate_figure(result))],
        "dag": _data_uri(dag_png) if dag_png else "",
        "plan": _plan_rows(p),
        "variables": [dict(d) for d in p.get("decisions", ())],
        "explain": plan.explain(),
        "ci_label": f"{_pct(level)} CI",
        "estimates": _estimate_rows(result),
        "coefficients": [_row(e.term, e) for e in result.coefficients],
        "fit_line": _fit_line(result),
        "diagnostics": _diagnostic_figures(result),
        "cate_figures": [_figure(a, d) for _, a, d in cate],
        "sensitivity": _sensitivity(result),
        "refutations": _refutations(result),
        "curve": _curve(result),
        "summary": summary(result),
        "spec_hash": str(p.get("spec_hash", "")),
    }
    return _environment().get_template("report.html.j2").render(context)


# ---- figures -----------------------------------------------------------------------------------------------------

def _figure(alt: str, draw: Callable[[], Any]) -> dict[str, str]:
    return {"alt": alt, "src": _png(draw())}


def _png(obj) -> str:
    """A matplotlib Figure, Axes or sequence of Axes (a plotting function returns one of them) as a PNG data: URI;
    closes the figure."""
    import matplotlib.pyplot as plt

    while not hasattr(obj, "savefig") and not hasattr(obj, "figure"):  # several panels: their shared figure
        obj = next(iter(obj))
    fig = obj.figure if not hasattr(obj, "savefig") else obj
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return _data_uri(buf.getvalue())


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _diagnostic_figures(result) -> list[dict[str, Any]]:
    """The design's checks, each group a section of the page: event study, overlap and balance."""
    extras = getattr(result, "extras", {}) or {}
    groups = []
    if extras.get("event_study"):
        groups.append({"title": "Event study", "figures": [
            _figure("Effects by period relative to treatment", lambda: event_study_plot(result))]})
    if extras.get("propensity_histogram"):
        figures = [_figure("Propensity scores by group", lambda: overlap_plot(result))]
        if extras.get("balance_after"):
            figures.append(_figure("Love plot: standardized mean differences before and after matching",
                                   lambda: love_plot(result)))
        groups.append({"title": "Overlap and balance", "figures": figures})
    return groups


# ---- the answer and its caveats ----------------------------------------------------------------------------------

def _answer(result) -> dict[str, Any]:
    """answer_lines split for the page: the headline, the verdict (with its tone) and the warnings."""
    lines = answer_lines(result)
    warnings = [line.removeprefix("WARNING:").strip() for line in lines if line.startswith("WARNING:")]
    rest = [line for line in lines if not line.startswith("WARNING:")]
    verdicts = [line for line in rest if line.startswith("Verdict:")]
    verdict = verdicts[0].removeprefix("Verdict:").strip() if verdicts else ""
    # the verdict's tag: "holds up", or a worry in capitals ("FRAGILE", "BROKEN TEST"); anything else is neutral
    tone = "good" if verdict.startswith("holds up") else "bad" if verdict[:6].isupper() else "neutral"
    return {"headline": [line for line in rest if line not in verdicts], "verdict": verdict, "tone": tone,
            "warnings": warnings}


def _key_numbers(result, level: float) -> list[tuple[str, str]]:
    e, n = result.effect, result.naive
    out = [("estimate", _num(e.estimate, 4)), (f"{_pct(level)} CI", _interval(e, 4)),
           ("std. error", _num(e.std_error, 4))]
    if n is not None and n is not e:
        out.append(("naive contrast", _num(n.estimate, 4)))
    out.append(("observations", f"{result.nobs:,}"))
    return out


def _caveats(p: dict, result) -> list[str]:
    """What a reader must know beside the answer: dropped rows, the fit's notes, the plan's notes and obstacles."""
    out = [f"{count:,} observation{'s' if count != 1 else ''} removed because of {reason}."
           for reason, count in result.dropped]
    out += [str(n) for n in result.notes]
    out += [str(n) for n in p.get("notes", ()) if str(n) not in out]
    out += [f"Identification obstacle: {o}" for o in p.get("obstacles", ())]
    return out


# ---- the plan ----------------------------------------------------------------------------------------------------

def _plan_rows(p: dict) -> list[dict[str, Any]]:
    """The plan as (term, value, why) rows, from the same records ``Plan.explain()`` renders."""
    rows = [{"term": "Question", "value": f"effect of {p['treatment']} on {p['outcome']}",
             "detail": f"{p['estimand']}, {str(p['design']).replace('_', ' ')} design"},
            {"term": "Strategy", "value": str(p["strategy"]),
             "detail": "" if p.get("identified", True) else "not identified from the DAG"}]
    if p["strategy"] == "backdoor adjustment":
        why = ("chosen by " + p["adjustment_rule"]) if p.get("adjustment_source") == "auto" and p.get(
            "adjustment_rule") else f"source: {p.get('adjustment_source', '')}"
        rows.append({"term": "Adjustment set", "chips": list(p["adjustment_set"]) or ["nothing"], "detail": why})
        if p.get("minimal_adjustment_sets"):
            rows.append({"term": "Minimal valid sets",
                         "value": "; ".join("{" + ", ".join(s) + "}" for s in p["minimal_adjustment_sets"])})
        if p.get("optimal_adjustment_set"):
            rows.append({"term": "Optimal set (O-set)", "value": "{" + ", ".join(p["optimal_adjustment_set"]) + "}"})
    if p.get("covariates"):
        rows.append({"term": "Covariates", "chips": list(p["covariates"])})
    rows += [{"term": "Estimator", "value": str(p["estimator"]), "detail": str(p.get("estimator_reason", ""))},
             {"term": "Model formula", "code": str(p["formula"])},
             {"term": "Naive formula", "code": str(p.get("naive_formula", ""))}]
    vc = p["vcov"]
    cluster = f", clustered by {', '.join(vc['cluster'])}" if vc.get("cluster") else ""
    rows.append({"term": "Variance", "value": f"{vc['kind']}{cluster}, {_pct(vc['level'])} intervals",
                 "detail": "matches R: " + str(vc.get("r_equivalent", ""))})
    if p.get("weights"):
        rows.append({"term": "Weights", "code": str(p["weights"])})
    sens = p.get("sensitivity") or {}
    if sens:
        refs = ", ".join(r.replace("_", " ") for r in sens.get("refutations", ())) or "none"
        rows.append({"term": "Sensitivity", "value": "on" if sens.get("enabled") else "off",
                     "detail": _sentence(str(sens.get("reason", ""))) + (f" Refutations: {refs}." if sens.get("enabled")
                                                                          else "")})
    settings = [(str(k).replace("_", " "), _setting(v)) for k, v in (p.get("settings") or {}).items()
                if v is not None and v != [] and v != {} and v != ""]
    if settings:
        rows.append({"term": "Design settings", "pairs": settings})
    if p.get("alternatives"):
        rows.append({"term": "Alternatives", "value": "; ".join(str(a) for a in p["alternatives"])})
    rows.append({"term": "Data", "value": str(p.get("data", "")), "detail": f"seed {p.get('seed')}"})
    return rows


def _sentence(text: str) -> str:
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def _setting(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


# ---- estimates ---------------------------------------------------------------------------------------------------

def _estimate_rows(result) -> list[dict[str, str]]:
    label = "adjusted" if result.plan.strategy.value == "backdoor adjustment" else result.plan.estimator.value
    pairs = (("naive (unadjusted)", result.naive), (label, result.effect))
    return [_row(lab, est) for lab, est in pairs if est is not None]


def _row(label: str, est) -> dict[str, str]:
    return {"term": str(label), "estimate": _num(est.estimate), "std_error": _num(est.std_error),
            "statistic": _num(est.statistic), "p_value": _p(est.p_value), "ci": _interval(est)}


def _fit_line(result) -> str:
    stats = dict(result.fit_stats)
    parts = [f"{result.nobs:,} observations"]
    if "r2" in stats:
        parts.append(f"R² {stats['r2']:.4g}")
    if "wr2" in stats:
        parts.append(f"within R² {stats['wr2']:.4g}")
    if "sigma" in stats:
        parts.append(f"residual std. error {stats['sigma']:.4g}")
    return "; ".join(parts)


# ---- robustness --------------------------------------------------------------------------------------------------

def _sensitivity(result) -> dict[str, Any]:
    sens = result.sensitivity
    out: dict[str, Any] = {"lines": [], "reason": "", "figures": [], "dag_checks": []}
    if hasattr(sens, "summary_lines"):
        out["lines"] = list(sens.summary_lines())
        if hasattr(getattr(sens, "ovb", None), "rv_q"):
            out["figures"].append(_figure("Contour of bias-adjusted estimates", lambda: contour_plot(sens.ovb)))
        if hasattr(getattr(sens, "parallel_trends", None), "analyses"):
            out["figures"].append(_figure("Robust confidence sets under violations of parallel trends",
                                          lambda: parallel_trends_plot(sens.parallel_trends.analyses)))
    else:
        out["reason"] = str(getattr(sens, "reason", "") or "not computed")
    checks = result.dag_tests
    if hasattr(checks, "summary_lines"):
        out["dag_checks"] = [line.strip() for line in checks.summary_lines() if line.strip()]
    return out


def _refutations(result) -> dict[str, Any] | None:
    ref = result.refutations
    if not hasattr(ref, "tests"):
        return None
    rows = [{"name": t.name.replace("_", " "), "description": t.description, "verdict": t.verdict,
             "numbers": [f"{k.replace('_', ' ')} {_num(v, 4)}" for k, v in t.numbers.items() if v is not None]
             or [t.reason], "rule": t.rule} for t in ref.tests]
    return {"seed": ref.seed, "simulations": getattr(ref, "simulations", ""), "rows": rows}


def _curve(result) -> dict[str, Any] | None:
    curve = result.specification_curve
    if not hasattr(curve, "rows"):
        return None
    return {"message": curve.message, "warn": curve.verdict == "warn", "figure": _figure(
        "Effect under every valid adjustment set", lambda: specification_curve_plot(curve))}


# ---- numbers -----------------------------------------------------------------------------------------------------

def _pct(level: float) -> str:
    return f"{level:.0%}" if round(level * 100, 6) == round(level * 100) else f"{level:.1%}"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value, digits: int = 5) -> str:
    if _missing(value):
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    a = abs(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits - 1}e}" if a != 0 and (a < 1e-4 or a >= 1e7) else f"{value:.{digits}g}"


def _p(value) -> str:
    if _missing(value):
        return "—"
    return "< 2e-16" if value < 2e-16 else f"{value:.3g}"


def _interval(est, digits: int = 5) -> str:
    if _missing(est.conf_low) or _missing(est.conf_high):
        return "—"
    return f"{_num(est.conf_low, digits)} to {_num(est.conf_high, digits)}"

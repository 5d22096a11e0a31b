"""Text renderings of a :class:`SensitivityResult`: the minimal reporting table and a verbal reading.

The LaTeX and HTML tables reproduce ``sensemakr::ovb_minimal_reporting`` 0.1.6 character for
character (numbers rounded to ``digits`` and printed as R's ``paste`` prints them), so a report
built here diffs clean against one built in R.  No timestamps, no randomness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from causalspec.errors import Problem, SpecError

if TYPE_CHECKING:  # pragma: no cover
    from causalspec.sensitivity._sensemakr import SensitivityResult

__all__ = ["minimal_reporting", "interpretation", "r_num"]


def r_num(x: float, digits: int | None = None) -> str:
    """Print a number as R's ``paste(round(x, digits))`` does.

    ``as.character`` keeps 15 significant digits and, like R's ``formatReal`` with
    ``scipen = 0``, switches to scientific notation only when that is strictly narrower
    (``1e+05`` but ``123456``; ``1e-04`` but ``0.00012``).
    """
    value = float(x)
    if digits is not None:
        value = round(value, digits)
    if value == 0 or not np.isfinite(value):
        return "0" if value == 0 else ("NaN" if np.isnan(value) else ("Inf" if value > 0 else "-Inf"))
    mantissa, exp_text = f"{abs(value):.14e}".split("e")
    digits_ = mantissa.replace(".", "").rstrip("0") or "0"
    sig, e = len(digits_), int(exp_text)
    neg = 1 if value < 0 else 0
    fixed_width = neg + (e + 1 + (sig - e - 1 + 1 if sig > e + 1 else 0) if e >= 0 else 2 + (-e - 1) + sig)
    sci_width = neg + sig + (1 if sig > 1 else 0) + (4 if abs(e) < 100 else 5)
    if fixed_width > sci_width:
        mant = digits_[0] + ("." + digits_[1:] if sig > 1 else "")
        return f"{'-' if neg else ''}{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    decimals = max(0, sig - e - 1)
    return f"{value:.{decimals}f}"


def _pct(x: float, digits: int) -> str:
    # sensemakr prints 100 * round(x, digits), so 0.0219 -> "2.2" with digits = 3.
    return r_num(100 * round(float(x), digits))


def _latex(res: "SensitivityResult", digits: int) -> str:
    q, alpha = r_num(res.q), r_num(res.alpha)
    head = (
        "\\begin{table}[!h]\n\\centering\n\\begin{tabular}{lrrrrrr}\n"
        f"\\multicolumn{{7}}{{c}}{{Outcome: \\textit{{{res.outcome}}}}} \\\\\n"
        "\\hline \\hline \n"
        "Treatment: & Est. & S.E. & t-value & $R^2_{Y \\sim D |{\\bf X}}$ "
        f"& $RV_{{q = {q}}}$ & $RV_{{q = {q}, \\alpha = {alpha}}}$  \\\\ \n"
        "\\hline \n"
    )
    row = (
        f"\\textit{{{res.treatment}}} & {r_num(res.estimate, digits)} & {r_num(res.se, digits)} & "
        f"{r_num(res.t_statistic, digits)} & {_pct(res.r2yd_x, digits)}\\% & {_pct(res.rv_q, digits)}\\% & "
        f"{_pct(res.rv_qa, digits)}\\% \\\\ \n"
    )
    foot = f"\\hline \ndf = {r_num(res.dof)} & & \\multicolumn{{5}}{{r}}{{ "
    if res.bounds:
        b = res.bounds[0]
        foot += (f"\\small \\textit{{Bound ({b.label})}}: $R^2_{{Y\\sim Z| {{\\bf X}}, D}}$ = "
                 f"{_pct(b.r2yz_dx, digits)}\\%, $R^2_{{D\\sim Z| {{\\bf X}} }}$ = {_pct(b.r2dz_x, digits)}\\%"
                 "} \\\\\n")
    else:
        foot += "}"  # sensemakr closes the empty footnote without a line break
    return head + row + foot + "\\end{tabular}\n\\end{table}"


def _html(res: "SensitivityResult", digits: int) -> str:
    q, alpha = r_num(res.q), r_num(res.alpha)
    th = '\t<th style="text-align:right;border-top: 1px solid black">'
    td = '\t<td style="text-align:right;border-bottom: 1px solid black">'
    head = (
        "<table style='align:center'>\n<thead>\n<tr>\n"
        '\t<th style="text-align:left;border-bottom: 1px solid transparent;border-top: 1px solid black"> </th>\n'
        '\t<th colspan = 6 style="text-align:center;border-bottom: 1px solid black;border-top: 1px solid black">'
        f" Outcome: {res.outcome}</th>\n</tr>\n<tr>\n"
        '\t<th style="text-align:left;border-top: 1px solid black"> Treatment </th>\n'
        f"{th} Est. </th>\n{th} S.E. </th>\n{th} t-value </th>\n"
        f"{th} R<sup>2</sup><sub>Y~D|X</sub> </th>\n"
        f"{th}  RV<sub>q = {q}</sub> </th>\n"
        f"{th} RV<sub>q = {q}, &alpha; = {alpha}</sub> </th>\n"
        "</tr>\n</thead>\n"
    )
    body = (
        "<tbody>\n <tr>\n"
        f'\t<td style="text-align:left; border-bottom: 1px solid black"><i>{res.treatment}</i></td>\n'
        f"{td}{r_num(res.estimate, digits)} </td>\n"
        f"{td}{r_num(res.se, digits)} </td>\n"
        f"{td}{r_num(res.t_statistic, digits)} </td>\n"
        f"{td}{_pct(res.r2yd_x, digits)}\\% </td>\n"
        f"{td}{_pct(res.rv_q, digits)}\\% </td>\n"
        f"{td}{_pct(res.rv_qa, digits)}\\% </td>\n"
        "</tr>\n</tbody>\n"
    )
    note = (f"<tr>\n<td colspan = 7 style='text-align:right;border-bottom: 1px solid transparent;"
            f"font-size:11px'>Note: df = {r_num(res.dof)}; ")
    if res.bounds:
        b = res.bounds[0]
        note += (f"Bound ( {b.label} ):  R<sup>2</sup><sub>Y~Z|X,D</sub> = {_pct(b.r2yz_dx, digits)}\\%, "
                 f"R<sup>2</sup><sub>D~Z|X</sub> = {_pct(b.r2dz_x, digits)}\\%")
    note += "</td>\n</tr>\n"
    return head + body + note + "</table>"


def minimal_reporting(res: "SensitivityResult", format: str = "latex", digits: int = 3) -> str:
    """The minimal sensitivity reporting table of Cinelli & Hazlett (2020, Table 2).

    Matches ``sensemakr::ovb_minimal_reporting(x, format = "latex" | "pure_html")`` (0.1.6).
    The footnote shows the first bound, as R does.
    """
    if format == "latex":
        return _latex(res, digits)
    if format == "pure_html":
        return _html(res, digits)
    raise SpecError(Problem("sensitivity.format", f"unknown table format {format!r}.",
                            fix="Use format='latex' or format='pure_html'."))


def _p(x: float) -> str:
    return f"{100 * x:.2f}%"


def interpretation(res: "SensitivityResult") -> str:
    """Plain-language reading of a sensitivity analysis (after ``summary.sensemakr``'s wording)."""
    target = r_num(res.h0, 4)
    change = "bring the estimate to zero" if res.q == 1 and res.reduce else (
        f"move the estimate to {target} (a bias of {r_num(100 * res.q)}% of the estimate)")
    signif = (f"bring it to a range where it is no longer statistically different from {target} "
              f"at the {r_num(res.alpha)} level")
    lines = [
        f"Sensitivity of the effect of '{res.treatment}' on '{res.outcome}' to unobserved confounding "
        f"(estimate {r_num(res.estimate, 4)}, SE {r_num(res.se, 4)}, df {r_num(res.dof)}).",
        "",
        f"- Partial R² of the treatment with the outcome: {_p(res.r2yd_x)}. An extreme confounder "
        "(orthogonal to the covariates) that explains all of the residual variance of the outcome would "
        f"have to explain at least {_p(res.r2yd_x)} of the residual variance of the treatment to fully "
        "account for the estimated effect.",
        f"- Robustness value RV(q = {r_num(res.q)}) = {_p(res.rv_q)}: an unobserved confounder would have to "
        f"explain at least {_p(res.rv_q)} of the residual variance of both the treatment and the outcome to "
        f"{change}. Confounders weaker than that on both counts cannot.",
    ]
    if res.alpha < 1:
        lines.append(
            f"- Robustness value RV(q = {r_num(res.q)}, alpha = {r_num(res.alpha)}) = {_p(res.rv_qa)}: "
            f"confounders explaining at least {_p(res.rv_qa)} of the residual variance of both the treatment "
            f"and the outcome are strong enough to {signif}; weaker ones are not.")
    if res.rv_qa == 0 and res.alpha < 1:
        lines.append(f"  (RV = 0: the estimate is already not significantly different from {target}.)")
    if res.bounds:
        lines.append("")
        lines.append("Bounds (confounders as strong as observed covariates):")
        level = r_num(100 * (1 - res.alpha))
        for b in res.bounds:
            lo, hi = b.adjusted_lower_ci, b.adjusted_upper_ci
            covers = lo <= res.h0 <= hi
            moved = (b.adjusted_estimate - res.h0) * (res.estimate - res.h0) <= 0
            verdict = ("would overturn the point estimate" if moved else
                       f"would leave the {level}% interval covering {target}" if covers else
                       "would not change the conclusion")
            lines.append(
                f"- {b.label}: R²_(D~Z|X) = {_p(b.r2dz_x)}, R²_(Y~Z|D,X) = {_p(b.r2yz_dx)}; adjusted estimate "
                f"{r_num(b.adjusted_estimate, 4)} (SE {r_num(b.adjusted_se, 4)}, t {r_num(b.adjusted_t, 3)}, "
                f"{level}% CI {r_num(lo, 4)} to {r_num(hi, 4)}): such a confounder {verdict}.")
    return "\n".join(lines)

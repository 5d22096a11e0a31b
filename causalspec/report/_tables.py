"""Several results side by side, like ``fixest::etable`` / ``modelsummary``: text, Markdown, LaTeX, HTML.

The options are fixest's: ``dict`` renames, ``keep`` / ``drop`` / ``order`` are regular expressions (searched in
the renamed term; a leading ``!`` negates one), ``fitstat`` picks the fit statistics by fixest's names,
``signif_code`` sets the stars.  Every number printed is the Result's own; nothing is re-computed.
"""

from __future__ import annotations

import html as _html
import re
from typing import Literal, Mapping, Sequence

from causalspec.errors import UnsupportedError

__all__ = ["etable", "select_terms", "FITSTATS", "SIGNIF_CODE"]

#: fixest's default significance codes: mark -> the p-value it is printed below
SIGNIF_CODE: Mapping[str, float] = {"***": 0.001, "**": 0.01, "*": 0.05, ".": 0.1}

#: fit statistic (fixest's name) -> (row label, the Result's fit_stats keys to read, in order of preference)
FITSTATS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "n": ("Observations", ()),
    "r2": ("R²", ("r2",)),
    "ar2": ("Adj. R²", ("ar2", "adj_r2")),
    "wr2": ("Within R²", ("wr2",)),
    "war2": ("Within adj. R²", ("war2",)),
    "rmse": ("RMSE", ("rmse",)),
    "sigma": ("Residual std. error", ("sigma",)),
    "ssr": ("Sum of squared residuals", ("ssr",)),
    "f": ("F-test", ("fstat",)),
    "g": ("Clusters", ()),
    "ivf": ("F-test (1st stage)", ()),
    "ivwald": ("Wald (1st stage)", ()),
    "cd": ("Cragg-Donald", ()),
    "wh": ("Wu-Hausman", ()),
    "sargan": ("Sargan", ()),
}
_DEFAULT_FITSTAT = ("n", "r2", "ar2", "wr2")
_IV_PREFIX = {"ivf": "ivf1::", "ivwald": "ivwald1::"}


# ---------------------------------------------------------------- choosing and ordering the terms
def _patterns(arg, where: str) -> list[tuple[bool, re.Pattern]]:
    if arg is None:
        return []
    items = [arg] if isinstance(arg, str) else list(arg)
    out = []
    for i, p in enumerate(items):
        negate = p.startswith("!")
        try:
            out.append((negate, re.compile(p[1:] if negate else p)))
        except re.error as exc:
            raise UnsupportedError(f"{p!r} is not a regular expression ({exc}).", loc=f"{where}[{i}]",
                                   fix=r"Escape the special characters (re.escape(term), or '\(Intercept\)').") from None
    return out


def _hit(pattern: tuple[bool, re.Pattern], name: str) -> bool:
    negate, rx = pattern
    return bool(rx.search(name)) != negate


def select_terms(terms: Sequence[str], *, keep=None, drop=None, order=None,
                 rename: Mapping[str, str] | None = None) -> list[str]:
    """The terms to show, as fixest's etable chooses them: ``keep`` first (a term stays if any pattern matches),
    then ``drop`` (a term goes if any pattern matches), then ``order`` (the terms matching its first pattern
    first, then the second's, ..., the rest after in their order).  Patterns are regular expressions searched in
    the renamed term (``rename``, etable's ``dict``); a leading ``!`` negates one.

    >>> select_terms(["(Intercept)", "x1", "x2", "z"], keep=["^x", "z"], drop="2", order=["z"])
    ['z', 'x1']
    """
    rename = rename or {}
    kept, dropped, ranks = _patterns(keep, "keep"), _patterns(drop, "drop"), _patterns(order, "order")
    out = [t for t in terms if not kept or any(_hit(p, rename.get(t, t)) for p in kept)]
    out = [t for t in out if not any(_hit(p, rename.get(t, t)) for p in dropped)]
    if ranks:
        out.sort(key=lambda t: next((i for i, p in enumerate(ranks) if _hit(p, rename.get(t, t))), len(ranks)))
    return out


# ---------------------------------------------------------------- the cells
def _number(x: float, digits) -> str:
    """fixest's digits: an int is significant digits, ``"r3"`` rounds to 3 decimals."""
    if isinstance(digits, str):
        return f"{x:.{int(digits[1:])}f}"
    return f"{x:.{digits}g}"


def _check_digits(digits, where: str) -> None:
    ok = (isinstance(digits, int) and not isinstance(digits, bool) and 1 <= digits <= 15) or (
        isinstance(digits, str) and re.fullmatch(r"r\d{1,2}", digits) is not None)
    if not ok:
        raise UnsupportedError(f"{where} is {digits!r}.", loc=where,
                               fix='Give a number of significant digits (1 to 15) or "r" and decimals, e.g. "r3".')


def _signif(signif_code, stars: bool) -> tuple[tuple[str, float], ...]:
    if signif_code is None or not stars:
        return ()
    if not isinstance(signif_code, Mapping) or not signif_code:
        raise UnsupportedError(f"signif_code is {signif_code!r}.", loc="signif_code",
                               fix='Give a mapping of mark to p-value cut-off, e.g. {"***": 0.01, "**": 0.05, '
                                   '"*": 0.1}, or None for no stars.')
    bad = [m for m, cut in signif_code.items() if not isinstance(m, str) or not 0 < float(cut) <= 1]
    if bad:
        raise UnsupportedError(f"signif_code has marks {bad} whose cut-off is not in (0, 1].", loc="signif_code",
                               fix="Give each mark a p-value cut-off between 0 and 1.")
    return tuple(sorted(((m, float(c)) for m, c in signif_code.items()), key=lambda mc: mc[1]))


def _stars(p: float, codes) -> str:
    return next((mark for mark, cut in codes if p < cut), "")


def _legend(codes) -> str:
    """R's legend: ``Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1``."""
    return "Signif. codes: 0 " + " ".join(f"'{m}' {c:g}" for m, c in codes) + " ' ' 1"


def _se_type(r) -> str:
    """fixest's "S.E. type" row: its own wording for fixest fits, else the variance type and any clusters."""
    known = r.extras.get("vcov_type")
    if isinstance(known, str) and known:
        return known
    v = r.plan.vcov
    kind = "IID" if v.kind == "iid" else v.kind.replace("_", " ")
    if v.cluster:
        by = " & ".join(v.cluster)
        return f"Clustered ({by})" if v.kind == "CR1" else f"{kind} clustered ({by})"
    return kind


def _fitstat_names(fitstat) -> tuple[str, ...]:
    if fitstat is None:
        return _DEFAULT_FITSTAT
    names = tuple(n for n in re.split(r"[\s~+,]+", fitstat) if n) if isinstance(fitstat, str) else tuple(fitstat)
    unknown = [n for n in names if n not in FITSTATS]
    if unknown:
        raise UnsupportedError(f"unknown fit statistic(s) {unknown}.", loc="fitstat",
                               fix=f"Choose among {', '.join(FITSTATS)}.")
    return names


def _fitstat_rows(results, names, digits_stats) -> list[list[str]]:
    rows = []
    for name in names:
        label, keys = FITSTATS[name]
        if name == "n":
            rows.append([label, *(f"{r.nobs:,}" for r in results)])
            continue
        if name == "g":
            sizes = [r.extras.get("clusters") or {} for r in results]
            for c in dict.fromkeys(c for s in sizes for c in s):
                rows.append([f"{label}: {c}", *(f"{s[c]:,}" if c in s else "" for s in sizes)])
            continue
        if name in _IV_PREFIX or name in ("cd", "wh", "sargan"):
            stats = [r.extras.get("fitstat") or {} for r in results]
            if name in _IV_PREFIX:  # one row per endogenous regressor, as fixest prints them
                found = dict.fromkeys(k for s in stats for k in s if k.startswith(_IV_PREFIX[name]))
                keyed = [(f"{label}, {k.split('::', 1)[1]}", k) for k in found]
            else:
                keyed = [(label, name)] if any(name in s for s in stats) else []
            for text, key in keyed:
                rows.append([text, *("" if key not in s else _number(s[key]["stat"], digits_stats) for s in stats)])
            continue
        values = []
        for r in results:
            have = dict(r.fit_stats)
            values.append(next((have[k] for k in keys if k in have and have[k] is not None), None))
        if any(v is not None for v in values):
            rows.append([label, *("" if v is None else _number(v, digits_stats) for v in values)])
    return rows


def _grid(results, headers, se_style, codes, digits, digits_stats, terms, rename, fitstat):
    left, right = ("(", ")") if se_style == "parentheses" else ("[", "]")
    header = ["", *headers]
    depvar = [["Dependent Var.:", *(rename.get(r.plan.outcome, r.plan.outcome) for r in results)]]
    body = []
    for t in terms:
        est_row, se_row = [rename.get(t, t)], [""]
        for r in results:
            e = {x.term: x for x in r.coefficients}.get(t)
            est_row.append("" if e is None else _number(e.estimate, digits) + _stars(e.p_value, codes))
            se_row.append("" if e is None else f"{left}{_number(e.std_error, digits)}{right}")
        body += [est_row, se_row]
    fes = list(dict.fromkeys(fe for r in results for fe in (r.extras.get("fixed_effects") or {})))
    fixed = [[f"{rename.get(fe, fe)} fixed effects", *("Yes" if fe in (r.extras.get("fixed_effects") or {}) else "No"
                                                       for r in results)] for fe in fes]
    stats = [["Estimator", *(r.plan.estimator.value for r in results)],
             ["S.E. type", *(_se_type(r) for r in results)]] + _fitstat_rows(results, fitstat, digits_stats)
    return header, [s for s in (depvar, body, fixed, stats) if s]


def _md_cell(text: str) -> str:
    """A Markdown table cell that cannot gain a column, a row or markup: pipes escaped (also inside a code span,
    as GitHub requires), line breaks folded, HTML escaped outside a code span."""
    text = " ".join(str(text).splitlines()).replace("|", "\\|")
    if not (len(text) > 1 and text.startswith("`") and text.endswith("`")):
        text = _html.escape(text, quote=False)
    return text


_TEX = {"\\": "\\textbackslash{}", "_": "\\_", "&": "\\&", "%": "\\%", "#": "\\#", "^": "\\^{}", "$": "\\$",
        "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}"}


def _latex(x: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in x).replace("R²", "$R^2$")


def _render(fmt: str, header, sections, note: str) -> str:
    rows = [r for s in sections for r in s]
    if fmt == "markdown":
        lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(map(_md_cell, r)) + " |" for r in rows]
        return "\n".join(lines) + (f"\n\n{note}\n" if note else "\n")
    if fmt == "latex":
        lines = [f"\\begin{{tabular}}{{l{'c' * (len(header) - 1)}}}", "\\hline",
                 " & ".join(map(_latex, header)) + " \\\\"]
        for s in sections:
            lines += ["\\hline"] + [" & ".join(map(_latex, r)) + " \\\\" for r in s]
        lines.append("\\hline")
        if note:
            lines.append(f"\\multicolumn{{{len(header)}}}{{l}}{{\\emph{{{_latex(note)}}}}} \\\\")
        return "\n".join(lines + ["\\end{tabular}"]) + "\n"
    if fmt == "html":
        e = _html.escape
        out = ["<table>", "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead>"]
        for i, s in enumerate(sections):
            out.append(f'<tbody class="section{i}">' + "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in s) + "</tbody>")
        if note:
            out.append(f'<tfoot><tr><td colspan="{len(header)}">{e(note)}</td></tr></tfoot>')
        return "".join(out) + "</table>\n"
    if fmt != "text":
        raise UnsupportedError(f"unknown table format {fmt!r}.", loc="format", fix="Use text, markdown, latex or html.")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r):
        return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    lines = [line(header)]
    for s in sections:
        lines += [rule] + [line(r) for r in s]
    return "\n".join(lines + [rule]) + (f"\n{note}\n" if note else "\n")


def etable(results, *, format: Literal["text", "markdown", "latex", "html"] = "text",
           names: Sequence[str] | None = None, headers: Sequence[str] | None = None,
           se: Literal["parentheses", "brackets"] = "parentheses", stars: bool = True, digits: int | str = 4,
           digits_stats: int | str = 5, keep: Sequence[str] | str | None = None,
           drop: Sequence[str] | str | None = None, order: Sequence[str] | str | None = None,
           dict: Mapping[str, str] | None = None, fitstat: Sequence[str] | str | None = None,
           signif_code: Mapping[str, float] | None = SIGNIF_CODE) -> str:
    """A table of several results side by side, as ``fixest::etable`` prints it: the dependent variable,
    coefficients with their standard errors beneath, fixed effects, the estimator, the S.E. type and fit
    statistics, then the legend of the significance codes.

    Parameters
    ----------
    results : a Result, a sequence of Results, or a mapping {header: Result}
    format : "text", "markdown", "latex" or "html".
    headers : the column headers (``names`` is the same argument; default: each spec's name).
    se : standard errors in "parentheses" or "brackets".
    digits, digits_stats : coefficients' and fit statistics' digits: significant digits (an int) or ``"r3"`` for
        three decimals (fixest's conventions; defaults 4 and 5).
    keep, drop, order : regular expressions (see :func:`select_terms`): keep first, then drop, then order.
    dict : renames terms (and dependent variables and fixed effects): ``{"feature_usage": "Feature used"}``.
    fitstat : fit statistics by fixest's names, in order (a sequence or ``"n + r2 + wr2"``); a statistic is
        printed for the results that have it, a row only if one has it.  Names: ``FITSTATS``
        (default ``n, r2, ar2, wr2``).
    signif_code : mark -> p-value cut-off (default fixest's ``*** 0.001 ** 0.01 * 0.05 . 0.1``); None (or
        ``stars=False``) for no stars.

    Examples
    --------
    >>> import causalspec as cs
    >>> a = cs.run("specs/feature_adoption.yaml", refute=False)          # doctest: +SKIP
    >>> print(cs.etable({"OLS": a}, drop=["Intercept"], fitstat=["n", "r2"], format="markdown"))  # doctest: +SKIP
    """
    if isinstance(results, Mapping):
        if names is not None or headers is not None:
            raise UnsupportedError("headers were given twice: as the mapping's keys and as headers=.",
                                   loc="headers", fix="Pass a list of results with headers=, or a mapping.")
        headers, results = [str(k) for k in results], list(results.values())
    results = [results] if hasattr(results, "plan") else list(results)
    if not results:
        raise UnsupportedError("etable needs at least one result.", fix="Pass a list of results.")
    if names is not None and headers is not None:
        raise UnsupportedError("names and headers are the same argument; both were given.", loc="headers",
                               fix="Give headers only.")
    headers = list(headers if headers is not None else names if names is not None
                   else [r.plan.name for r in results])
    if len(headers) != len(results):
        raise UnsupportedError(f"{len(headers)} names for {len(results)} results.",
                               loc="names" if names is not None else "headers", fix="Give one name per result.")
    _check_digits(digits, "digits")
    _check_digits(digits_stats, "digits_stats")
    codes = _signif(signif_code, stars)
    rename = dict or {}
    every = [e.term for r in results for e in r.coefficients]
    terms = select_terms([t for i, t in enumerate(every) if t not in every[:i]], keep=keep, drop=drop, order=order,
                         rename=rename)
    header, sections = _grid(results, headers, se, codes, digits, digits_stats, terms, rename, _fitstat_names(fitstat))
    return _render(format, header, sections, _legend(codes) if codes else "")

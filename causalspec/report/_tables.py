"""Several results side by side, like ``fixest::etable`` / ``modelsummary``: text, Markdown, LaTeX, HTML."""

from __future__ import annotations

import html as _html
from typing import Literal, Sequence
from causalspec.errors import UnsupportedError

__all__ = ["etable"]

_STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "."))


def _stars(p: float) -> str:
    for cut, mark in _STARS:
        if p < cut:
            return mark
    return ""


def _grid(results, names, se_style, stars, digits, keep):
    terms: list[str] = []
    for r in results:
        for e in r.coefficients:
            if e.term not in terms and (keep is None or any(k in e.term for k in keep)):
                terms.append(e.term)
    left, right = ("(", ")") if se_style == "parentheses" else ("[", "]")
    header = ["", *(names or [r.plan.name for r in results])]
    body = []
    for t in terms:
        est_row, se_row = [t], [""]
        for r in results:
            e = {x.term: x for x in r.coefficients}.get(t)
            est_row.append("" if e is None else f"{e.estimate:.{digits}g}" + (_stars(e.p_value) if stars else ""))
            se_row.append("" if e is None else f"{left}{e.std_error:.{digits}g}{right}")
        body += [est_row, se_row]
    stats = [["Estimator", *(r.plan.estimator.value for r in results)],
             ["Std. errors", *(r.plan.vcov.kind + (f" by {'+'.join(r.plan.vcov.cluster)}" if r.plan.vcov.cluster
                                                   else "") for r in results)],
             ["Observations", *(f"{r.nobs:,}" for r in results)]]
    r2 = [dict(r.fit_stats).get("r2") for r in results]
    if any(v is not None for v in r2):
        stats.append(["R²", *("" if v is None else f"{v:.4g}" for v in r2)])
    fes = []
    for r in results:
        for fe in (r.extras.get("fixed_effects") or {}):
            if fe not in fes:
                fes.append(fe)
    for fe in fes:
        stats.append([f"{fe} fixed effects", *("Yes" if fe in (r.extras.get("fixed_effects") or {}) else "No"
                                              for r in results)])
    return header, body, stats


def _md_cell(text: str) -> str:
    """A Markdown table cell that cannot gain a column, a row or markup: pipes escaped (also inside a code span,
    as GitHub requires), line breaks folded, HTML escaped outside a code span."""
    text = " ".join(str(text).splitlines()).replace("|", "\\|")
    if not (len(text) > 1 and text.startswith("`") and text.endswith("`")):
        text = _html.escape(text, quote=False)
    return text


def etable(results: Sequence, *, format: Literal["text", "markdown", "latex", "html"] = "text",
           names: Sequence[str] | None = None, se: Literal["parentheses", "brackets"] = "parentheses",
           stars: bool = True, digits: int = 4, keep: Sequence[str] | None = None) -> str:
    """A table of several results side by side: coefficients with SEs beneath, fit statistics, fixed effects.

    ``keep`` keeps only terms containing one of the strings; ``stars`` marks p < 0.001 / 0.01 / 0.05 / 0.1
    as R does (``***``, ``**``, ``*``, ``.``).

    Examples
    --------
    >>> import causalspec as cs
    >>> a = cs.run("specs/feature_adoption.yaml", refute=False)          # doctest: +SKIP
    >>> print(cs.etable([a], format="markdown"))                         # doctest: +SKIP
    """
    results = list(results)
    if not results:

        raise UnsupportedError("etable needs at least one result.", fix="Pass a list of results.")
    if names is not None and len(names) != len(results):

        raise UnsupportedError(f"{len(names)} names for {len(results)} results.", loc="names",
                               fix="Give one name per result.")
    header, body, stats = _grid(results, names, se, stars, digits, keep)
    note = "Signif. codes: *** 0.001, ** 0.01, * 0.05, . 0.1" if stars else ""
    if format == "markdown":
        lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(map(_md_cell, r)) + " |" for r in body + stats]
        return "\n".join(lines) + (f"\n\n{note}\n" if note else "\n")
    if format == "latex":
        def esc(x: str) -> str:
            return (x.replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("&", "\\&")
                    .replace("%", "\\%").replace("#", "\\#").replace("^", "\\^{}").replace("R²", "$R^2$"))
        cols = "l" + "c" * (len(header) - 1)
        lines = [f"\\begin{{tabular}}{{{cols}}}", "\\hline", " & ".join(map(esc, header)) + " \\\\", "\\hline"]
        lines += [" & ".join(map(esc, r)) + " \\\\" for r in body]
        lines += ["\\hline"] + [" & ".join(map(esc, r)) + " \\\\" for r in stats] + ["\\hline", "\\end{tabular}"]
        return "\n".join(lines) + (f"\n% {note}\n" if note else "\n")
    if format == "html":
        e = _html.escape
        rows = ["<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"]
        rows += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in body]
        rows += ['<tr class="stat">' + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in stats]
        foot = f"<caption>{e(note)}</caption>" if note else ""
        return f"<table>{foot}{''.join(rows)}</table>\n"
    if format != "text":

        raise UnsupportedError(f"unknown table format {format!r}.", loc="format",
                               fix="Use text, markdown, latex or html.")
    all_rows = [header] + body + stats
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))  # noqa: E731
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    lines = [fmt(header), rule] + [fmt(r) for r in body] + [rule] + [fmt(r) for r in stats]
    return "\n".join(lines) + (f"\n{note}\n" if note else "\n")

"""What changed in the results: the effect and the naive contrast (estimate, SE, CI, p-value), nobs and the
sensitivity step, as a Markdown table of both values with absolute and relative deltas, and whether the
conclusion holds (the sign, and whether the confidence interval excludes 0)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from causalspec.archive._diff_markdown import capped, code, delta, fmt, number, relative, table

__all__ = ["ResultDiff", "diff_results"]

_STATS = (("estimate", "estimate"), ("std_error", "SE"), ("conf_low", "CI low"), ("conf_high", "CI high"),
          ("p_value", "p-value"))


@dataclass(frozen=True)
class ResultDiff:
    """The results section's lines; ``verdict`` is None when every compared number is the same."""

    lines: tuple[str, ...]
    verdict: str | None


def _get(tree: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _rows(res: dict) -> list[tuple[str, float | None]]:
    level = number(_get(res, "plan", "vcov", "level"))
    ci = f" ({fmt(level * 100, 4)}%)" if level is not None else ""
    rows = []
    for part in ("effect", "naive"):
        for key, label in _STATS:
            rows.append((f"{part} {label}{ci if key.startswith('conf') else ''}", number(_get(res, part, key))))
    rows.append(("nobs", number(res.get("nobs"))))
    rows.append(("robustness value RV", number(_get(res, "sensitivity", "ovb", "rv_q"))))
    rows.append(("robustness value RV (alpha)", number(_get(res, "sensitivity", "ovb", "rv_qa"))))
    rows.append(("E-value", number(_get(res, "sensitivity", "evalue", "evalue_point"))))
    return rows


def _same(a: float | None, b: float | None) -> bool:
    return a == b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))


def _excludes_zero(res: dict) -> bool | None:
    low, high = number(_get(res, "effect", "conf_low")), number(_get(res, "effect", "conf_high"))
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return None
    return low > 0 or high < 0


def _sign(x: float | None) -> int | None:
    return None if x is None or math.isnan(x) else (x > 0) - (x < 0)


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4g}"


def _verdict(a: dict, b: dict) -> str:
    ea, eb = number(_get(a, "effect", "estimate")), number(_get(b, "effect", "estimate"))
    sa, sb = number(_get(a, "effect", "std_error")), number(_get(b, "effect", "std_error"))
    za, zb = _excludes_zero(a), _excludes_zero(b)
    effect = (f"effect {_signed(ea)} (unchanged)" if _same(ea, eb)
              else f"effect {_signed(ea)} → {_signed(eb)} ({relative(ea, eb)})")
    if not _same(sa, sb):
        effect += f", SE {fmt(sa, 4)} → {fmt(sb, 4)} ({relative(sa, sb)})"
    na, nb = number(a.get("nobs")), number(b.get("nobs"))
    if not _same(na, nb):
        effect += f", nobs {fmt(na)} → {fmt(nb)}"
    why = []
    if _sign(ea) is not None and _sign(eb) is not None and _sign(ea) != _sign(eb):
        why.append("the sign flipped")
    if za is not None and zb is not None and za != zb:
        why.append("the CI now excludes 0" if zb else "the CI now covers 0")
    if why:
        return f"**CONCLUSION CHANGED:** {effect}; {' and '.join(why)}"
    still = {True: "still excludes 0", False: "still covers 0"}.get(zb, "CI not available") if za == zb else \
        "CI not comparable"
    return f"Conclusion unchanged: {effect}, {still}"


def _set_lines(label: str, a: Any, b: Any) -> list[str]:
    la = [x for x in a if isinstance(x, str)] if isinstance(a, list) else []
    lb = [x for x in b if isinstance(x, str)] if isinstance(b, list) else []
    return ([f"- {label}: + {code(x)}" for x in lb if x not in la]
            + [f"- {label}: − {code(x)}" for x in la if x not in lb])


def diff_results(a: Any, b: Any, missing: str) -> ResultDiff:
    """The results section.  ``missing`` says why a side has no results (a spec that was not fitted)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        if a is None and b is None:
            return ResultDiff((), None)
        which = "A" if a is None else "B" if b is None else "either side"
        return ResultDiff((f"Results not compared: {which} has none ({missing}).",), None)
    rows_a, rows_b = _rows(a), _rows(b)
    lines: list[str] = []
    ta, tb = _get(a, "effect", "term"), _get(b, "effect", "term")
    if ta != tb:
        lines.append(f"- effect term: {code(ta)} → {code(tb)}")
    changed = any(not _same(x, y) for (_, x), (_, y) in zip(rows_a, rows_b))
    if changed:
        # a relative change of a p-value (1e-271 -> 1e-261) says nothing: its row has the absolute one only
        cells = [(label, fmt(x), fmt(y), delta(x, y), "" if "p-value" in label else relative(x, y))
                 for (label, x), (_, y) in zip(rows_a, rows_b) if x is not None or y is not None]
        lines += ([""] if lines else []) + table(("", "A", "B", "Δ", "Δ %"), cells)
    notes = capped(_set_lines("warning", a.get("warnings"), b.get("warnings"))
                   + _set_lines("note", a.get("notes"), b.get("notes")))
    if notes:
        lines += ([""] if changed else []) + notes
    return ResultDiff(tuple(lines), _verdict(a, b) if changed or ta != tb else None)

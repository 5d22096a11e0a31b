"""Markdown pieces of ``causalspec diff``: code spans, numbers, deltas and tables that untrusted values cannot break.

Every value that comes from a spec or an archive is printed through :func:`code`: control characters escaped
(so it cannot add a line, such as a GitHub workflow command or an ``@mention``), long values cut, fenced with
more backticks than any run inside it (CommonMark), so it cannot end the span.  Table cells hold only numbers
formatted here, never text from the inputs.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["code", "value", "number", "fmt", "delta", "relative", "table", "MAX_ITEMS", "capped"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Most change lines one section prints (a forged archive can differ in every field).
MAX_ITEMS = 200


def code(item: Any, limit: int = 300) -> str:
    """``item`` as one Markdown code span that cannot end early or start a new line."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(item))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def value(item: Any) -> str:
    """A spec or plan value for a change line: lists as ``a, b`` (never a repr), missing as *(none)*."""
    if item is None:
        return "*(none)*"
    if item == "":
        return "*(empty)*"
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(code(v) for v in item) + "]" if item else "*(empty)*"
    if isinstance(item, bool):
        return code(str(item).lower())
    return code(item)


def number(item: Any) -> float | None:
    """A result number, or None for anything else (a forged archive may hold strings where numbers go)."""
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        return None
    return float(item)


def fmt(x: float | None, digits: int = 6) -> str:
    """``x`` to ``digits`` significant digits (whole numbers such as nobs as integers), or n/a."""
    if x is None:
        return "n/a"
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


def delta(a: float | None, b: float | None) -> str:
    """``b - a`` with its sign, or n/a."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return "n/a"
    d = b - a
    return "0" if d == 0 else f"{d:+.4g}"


def relative(a: float | None, b: float | None) -> str:
    """``(b - a) / |a|`` in percent, or n/a when ``a`` is 0 or missing."""
    if a is None or b is None or a == 0 or not (math.isfinite(a) and math.isfinite(b)):
        return "n/a"
    r = (b - a) / abs(a) * 100
    return "0%" if r == 0 else f"{r:+.3g}%"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """A GitHub-flavoured Markdown table; the cells are text made here (labels and formatted numbers)."""
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows])


def capped(lines: list[str]) -> list[str]:
    """At most :data:`MAX_ITEMS` lines, then one line saying how many were left out."""
    if len(lines) <= MAX_ITEMS:
        return lines
    return lines[:MAX_ITEMS] + [f"- ... and {len(lines) - MAX_ITEMS} more"]

"""The formula kernel's vocabulary: allowed functions, R's name quoting, and the syntax-tree node types."""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass
from typing import Union

__all__ = ["ALLOWED_FUNCTIONS", "quote_name", "r_display", "Var", "Num", "Op", "Neg", "Call", "Node", "Formula"]

#: Functions a term may call, and the keyword arguments each accepts.
ALLOWED_FUNCTIONS: dict[str, frozenset[str]] = {
    "I": frozenset(), "log": frozenset(), "log1p": frozenset(), "log2": frozenset(), "log10": frozenset(),
    "exp": frozenset(), "sqrt": frozenset(), "abs": frozenset(),
    "factor": frozenset({"levels"}), "C": frozenset({"levels"}), "relevel": frozenset({"ref"}),
    "center": frozenset(), "scale": frozenset(), "poly": frozenset({"degree", "raw"}),
}
# Only these calls may carry text (factor levels / reference level).
_LEVEL_FUNCTIONS = frozenset({"factor", "C", "relevel"})
_FIX = ("Write a term from column names, numbers, + - * / ^ : and the functions "
        f"{', '.join(sorted(ALLOWED_FUNCTIONS))}; quote unusual column names with backticks.")
_R_RESERVED = frozenset("if else repeat while function for next break TRUE FALSE NULL Inf NaN NA "
                        "NA_integer_ NA_real_ NA_character_ in".split())
_NAME_RE = re.compile(r"[^\W\d]|\.(?![0-9])", re.UNICODE)


# ----------------------------------------------------------------------------------------- quoting
def quote_name(name: str) -> str:
    """Quote a column name so a formula takes it literally (never evaluated).

    Names that are plain R names are returned unchanged; anything else is put in
    backticks, with backslashes and backticks escaped.

    >>> quote_name("educ"), quote_name("a b"), quote_name("a+b")
    ('educ', '`a b`', '`a+b`')
    """
    if _is_plain_name(name) and name not in ALLOWED_FUNCTIONS:
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _is_plain_name(name: str) -> bool:
    if not name or name in _R_RESERVED or keyword.iskeyword(name) or "__" in name:
        return False
    if not _NAME_RE.match(name):
        return False
    return all(ch.isalnum() or ch in "._" for ch in name)


def r_display(name: str) -> str:
    """How R's deparse shows a variable name: as is when syntactic, else in backticks."""
    if name and name not in _R_RESERVED and _NAME_RE.match(name) and all(c.isalnum() or c in "._" for c in name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


# ------------------------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Op:
    op: str  # one of + - * / : ^
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Neg:
    operand: "Node"


@dataclass(frozen=True)
class Call:
    """A whitelisted call; ``tree`` is its checked ast with names replaced by ``_v{i}`` slots."""

    source: str
    tree: ast.expr
    names: tuple[str, ...]  # slot i -> column name


Node = Union[Var, Num, Op, Neg, Call]


@dataclass(frozen=True)
class Formula:
    lhs: Node | None
    rhs: Node

    @property
    def variables(self) -> tuple[str, ...]:
        """Column names used, in order of first appearance (outcome first)."""
        out: list[str] = []
        for side in (self.lhs, self.rhs):
            if side is not None:
                _collect(side, out)
        return tuple(out)


def _collect(node: Node, out: list[str]) -> None:
    if isinstance(node, Var):
        if node.name not in out:
            out.append(node.name)
    elif isinstance(node, Call):
        for n in node.names:
            if n not in out:
                out.append(n)
    elif isinstance(node, Op):
        _collect(node.left, out)
        _collect(node.right, out)
    elif isinstance(node, Neg):
        _collect(node.operand, out)


# --------------------------------------------------------------------------------------- tokenizer

"""R's formula algebra and factor coding (``terms.formula`` and ``model.matrix``).

Kept apart from the evaluation of variables so each half is small:
:func:`expand_terms` turns the parsed right-hand side into R's ordered term list
and :func:`coding` decides, term by term, which factors get treatment contrasts
and which get a full set of indicators (R's ``TermCode`` heuristic, Chambers &
Hastie 1992, *Statistical Models in S*, p. 38).
"""

from __future__ import annotations

from dataclasses import dataclass

from causalspec.errors import SpecError
from causalspec.formula._deparse import r_label
from causalspec.formula._parse import Call, Neg, Node, Num, Op, Var

__all__ = ["TermList", "expand_terms", "coding", "variable_nodes"]


@dataclass(frozen=True)
class TermList:
    """The right-hand side as R sees it: intercept flag and terms (tuples of variable labels)."""

    intercept: bool
    terms: tuple[tuple[str, ...], ...]


def variable_nodes(node: Node | None, out: dict[str, Node]) -> dict[str, Node]:
    """Formula variables (columns or calls) keyed by R label, in order of first appearance."""
    if node is None:
        return out
    if isinstance(node, (Var, Call)):
        out.setdefault(r_label(node), node)
    elif isinstance(node, Op):
        variable_nodes(node.left, out)
        variable_nodes(node.right, out)
    elif isinstance(node, Neg):
        variable_nodes(node.operand, out)
    return out


def _dedupe(terms: list[frozenset]) -> list[frozenset]:
    seen: list[frozenset] = []
    for t in terms:
        if t not in seen:
            seen.append(t)
    return seen


_EMPTY: frozenset = frozenset()


def _expand(node: Node) -> tuple[list[frozenset], bool | None]:
    """(terms, intercept) where intercept is True/False when the node sets it, else None."""
    if isinstance(node, (Var, Call)):
        return [frozenset([r_label(node)])], None
    if isinstance(node, Num):
        if float(node.text) == 1.0:
            return [], True
        if float(node.text) == 0.0:
            return [], False
        raise SpecError(f"the number {node.text} cannot be a formula term.", loc="formula",
                        fix="Use 0 or 1 to drop or keep the intercept, or wrap arithmetic in I().")
    if isinstance(node, Neg):
        inner = node.operand
        if isinstance(inner, Num) and float(inner.text) in (0.0, 1.0):
            return [], float(inner.text) == 0.0
        raise SpecError("a leading '-' can only remove the intercept ('-1').", loc="formula",
                        fix="Write 'y ~ a - b' to remove a term, or '-1' to drop the intercept.")
    assert isinstance(node, Op)
    left, lint = _expand(node.left)
    if node.op == "^":
        if not isinstance(node.right, Num) or not float(node.right.text).is_integer() or float(node.right.text) < 1:
            raise SpecError("'^' in a formula needs a positive whole number on its right, as in (a + b)^2.",
                            loc="formula", fix="Write I(x^2) for an arithmetic power.")
        out = list(left)
        for _ in range(int(float(node.right.text)) - 1):
            out = _dedupe(out + left + [a | b for a in out for b in left])
        return out, lint
    right, rint = _expand(node.right)
    if node.op == "+":
        return _dedupe(left + right), rint if rint is not None else lint
    if node.op == "-":
        if rint is True:
            rint = False
        elif rint is False:
            rint = True
        return [t for t in left if t not in right], rint if rint is not None else lint
    if node.op == ":":
        return _dedupe([a | b for a in left for b in right]), None
    if node.op == "*":
        return _dedupe(left + right + [a | b for a in left for b in right]), None
    if node.op == "/":
        allvars = frozenset().union(*left) if left else _EMPTY
        return _dedupe(left + [allvars | b for b in right]), lint
    raise SpecError(f"operator {node.op!r} is not supported in formulas.", loc="formula",
                    fix="Use + - * / : and ^.")


def expand_terms(rhs: Node, order: list[str]) -> TermList:
    """R's ``terms.formula``: expand the operators, order terms by degree, variables by appearance."""
    terms, intercept = _expand(rhs)
    rank = {v: i for i, v in enumerate(order)}
    cleaned = [t for t in terms if t]
    cleaned.sort(key=len)  # stable: same degree keeps the order of appearance
    return TermList(intercept is not False,
                    tuple(tuple(sorted(t, key=lambda v: rank[v])) for t in cleaned))


def coding(tl: TermList, is_factor: dict[str, bool], n_levels: dict[str, int]) -> list[dict[str, int]]:
    """Per term, each factor's code: 1 = contrasts, 2 = indicators for every level (R's TermCode)."""
    codes: list[dict[str, int]] = []
    sets = [frozenset(t) for t in tl.terms]
    for j, term in enumerate(tl.terms):
        code: dict[str, int] = {}
        for v in term:
            if not is_factor[v]:
                continue
            rest = sets[j] - {v}
            if not rest or any(rest <= sets[k] for k in range(j)):
                code[v] = 1
            else:
                code[v] = 2
        codes.append(code)
    if not tl.intercept:
        # Without an intercept R gives the first factor it meets a dummy for every level.
        for j, term in enumerate(tl.terms):
            hit = next((v for v in term if is_factor[v] and n_levels[v] > 1), None)
            if hit is not None:
                codes[j][hit] = 2
                break
    return codes

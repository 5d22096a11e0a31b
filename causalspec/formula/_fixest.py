"""Parse fixest-style model formulas (``model.formula``) without evaluating anything.

Accepted: ``y ~ x1 + x2 | fe1 + fe2``, ``y ~ exog | fe | endog ~ z1 + z2`` (or ``y ~ exog | endog ~ z``),
``i(var, ref = -1)``, ``i(var, treat, ref = -1)``, ``sunab(cohort, period)``, ``fe1^fe2``, and names in
backticks.  Anything else is an error that quotes the part it cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from causalspec.errors import Problem, SpecError

__all__ = ["FixestFormula", "parse_fixest"]

_NAME = r"(?:`[^`]+`|[A-Za-z_.][A-Za-z0-9_.]*)"
_INT = r"-?\d+"


@dataclass(frozen=True)
class FixestFormula:
    outcome: str
    regressors: tuple[str, ...] = ()
    fixed_effects: tuple[str, ...] = ()
    endogenous: str | None = None
    instruments: tuple[str, ...] = ()
    i_term: dict | None = None        # {"var", "treat", "ref"}
    sunab: tuple[str, str] | None = None
    intercept: bool = True
    extras: dict = field(default_factory=dict)


def _err(part: str, why: str) -> SpecError:
    return SpecError(Problem("model.formula", f"cannot read {part!r}: {why}.",
                             fix="Use fixest syntax: y ~ x1 + x2 | fe1 + fe2, y ~ exog | fe | endog ~ z1 + z2, "
                                 "i(var, ref = -1), i(var, treat, ref = -1), sunab(cohort, period), fe1^fe2.",
                             code="formula_unsupported"))


def _name(text: str) -> str:
    text = text.strip()
    if not re.fullmatch(_NAME, text):
        raise _err(text, "expected a column name (use backticks for names with spaces)")
    return text[1:-1] if text.startswith("`") else text


def _split_plus(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "+" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_fixest(text: str) -> FixestFormula:
    """Parse a fixest formula into its parts (never evaluated)."""
    if text.count("|") > 2:
        raise _err(text, "at most two '|' (fixed effects, then the IV part)")
    head, *rest = [p.strip() for p in text.split("|")]
    if head.count("~") != 1:
        raise _err(head, "the model part needs exactly one '~'")
    lhs, rhs = (p.strip() for p in head.split("~"))
    outcome = _name(lhs)
    fixed, endog, insts = (), None, ()
    for part in rest:
        if "~" in part:
            left, right = (p.strip() for p in part.split("~", 1))
            endog = _name(left)
            insts = tuple(_name(z) for z in _split_plus(right))
            if not insts:
                raise _err(part, "the IV part needs at least one instrument")
        else:
            fes = []
            for fe in _split_plus(part):
                pieces = [_name(p) for p in fe.split("^")]
                fes.append("^".join(pieces))
            fixed = tuple(fes)
    regs, i_term, sun, intercept = [], None, None, True
    for term in _split_plus(rhs):
        if term in ("1", "0", "-1"):
            intercept = term == "1"
            continue
        m = re.fullmatch(rf"i\(\s*({_NAME})\s*(?:,\s*({_NAME})\s*)?(?:,\s*ref\s*=\s*({_INT})\s*)?\)", term)
        if m:
            i_term = {"var": _name(m.group(1)), "treat": _name(m.group(2)) if m.group(2) else None,
                      "ref": int(m.group(3)) if m.group(3) else None}
            continue
        m = re.fullmatch(rf"sunab\(\s*({_NAME})\s*,\s*({_NAME})\s*\)", term)
        if m:
            sun = (_name(m.group(1)), _name(m.group(2)))
            continue
        if re.search(r"[():*^/\-]", term.replace("`", "") if not term.startswith("`") else ""):
            raise _err(term, "only column names, i(), sunab() and fixed effects after '|' are supported here")
        regs.append(_name(term))
    return FixestFormula(outcome, tuple(regs), fixed, endog, insts, i_term, sun, intercept)

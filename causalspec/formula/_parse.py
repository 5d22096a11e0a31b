"""Safe, R-flavoured model formulas: quoting, parsing and a whitelist of transforms.

A formula such as ``log(wage) ~ educ + I(age^2) + factor(region) + treat:female``
is parsed here *without evaluating anything*.  The top level follows R's
formula grammar (``+ - * / : ^`` and parentheses, with R's precedence);
function calls are parsed with Python's :mod:`ast` and checked against a fixed
whitelist.  Names follow R: ``first.treat`` is one name (R has no attribute
access), and any column name can be written in backticks (`` `a b` ``, with
``\\``` for a literal backtick).  The checked tree is interpreted node by node
when the design is built (``causalspec.formula._evaluate``), so user text
never reaches Python's ``eval``.
"""

from __future__ import annotations

import ast
import re

from causalspec.errors import SpecError
from causalspec.formula._nodes import (  # noqa: F401  (re-exported: the parser's public vocabulary)
    _FIX,
    _LEVEL_FUNCTIONS,
    _NAME_RE,
    ALLOWED_FUNCTIONS,
    Call,
    Formula,
    Neg,
    Node,
    Num,
    Op,
    Var,
    quote_name,
    r_display,
)

__all__ = [
    "quote_name", "check_term", "parse_formula", "Formula", "Var", "Num", "Op", "Neg", "Call",
    "ALLOWED_FUNCTIONS", "r_display",
]

def _fail(loc: str, message: str) -> SpecError:
    return SpecError(message, loc=loc, fix=_FIX)


def _read_quoted(text: str, i: int, quote: str, loc: str) -> tuple[str, int]:
    """Read a backticked name or a string literal starting at ``text[i] == quote``."""
    out, j = [], i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            out.append(text[j + 1])
            j += 2
            continue
        if ch == quote:
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise _fail(loc, f"unclosed {quote} in {text!r}.")


def _read_name(text: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(text) and (text[j].isalnum() or text[j] in "._"):
        j += 1
    return text[i:j], j


def _tokens(text: str, loc: str) -> list[tuple[str, str]]:
    """Top-level tokens: ('op', c), ('name', n), ('qname', n), ('num', t), ('call', raw)."""
    toks: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "+-*/:^()~":
            toks.append(("op", ch))
            i += 1
        elif ch == "`":
            name, i = _read_quoted(text, i, "`", loc)
            toks.append(("qname", name))
        elif ch.isdigit() or (ch == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            m = re.match(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text[i:])
            assert m is not None
            toks.append(("num", m.group(0)))
            i += m.end()
        elif _NAME_RE.match(ch):
            name, j = _read_name(text, i)
            k = j
            while k < len(text) and text[k].isspace():
                k += 1
            if k < len(text) and text[k] == "(":
                end = _matching_paren(text, k, loc)
                toks.append(("call", text[i:end + 1]))
                i = end + 1
            else:
                toks.append(("name", name))
                i = j
        else:
            raise _fail(loc, f"character {ch!r} is not allowed in a formula term ({text!r}).")
    return toks


def _matching_paren(text: str, start: int, loc: str) -> int:
    depth, j = 0, start
    while j < len(text):
        ch = text[j]
        if ch in "`'\"":
            _, j = _read_quoted(text, j, ch, loc)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise _fail(loc, f"unbalanced parentheses in {text!r}.")


# ------------------------------------------------------------------------------------------ parser
class _Parser:
    """Precedence climbing with R's formula precedence: + - < * / < : < unary - < ^."""

    _PREC = {"+": 1, "-": 1, "*": 2, "/": 2, ":": 3, "^": 5}

    def __init__(self, toks: list[tuple[str, str]], loc: str, source: str):
        self.toks, self.pos, self.loc, self.source = toks, 0, loc, source

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def parse(self, min_prec: int = 1) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None or tok[0] != "op" or tok[1] not in self._PREC or self._PREC[tok[1]] < min_prec:
                return left
            op = tok[1]
            self.pos += 1
            nxt = self._PREC[op] if op == "^" else self._PREC[op] + 1  # ^ is right-associative
            left = Op(op, left, self.parse(nxt))

    def unary(self) -> Node:
        tok = self.peek()
        if tok == ("op", "-") or tok == ("op", "+"):
            self.pos += 1
            inner = self.parse(4)
            return Neg(inner) if tok[1] == "-" else inner
        return self.atom()

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise _fail(self.loc, f"the formula {self.source!r} ends where a term was expected.")
        self.pos += 1
        kind, val = tok
        if kind == "qname":  # backticked: any text is a literal column name
            return Var(val)
        if kind == "name":
            if "__" in val:
                raise _fail(self.loc, f"name {val!r} contains a double underscore, which is not allowed.")
            return Var(val)
        if kind == "num":
            return Num(val)
        if kind == "call":
            return _parse_call(val, self.loc)
        if val == "(":
            inner = self.parse(1)
            if self.peek() != ("op", ")"):
                raise _fail(self.loc, f"missing ')' in {self.source!r}.")
            self.pos += 1
            return inner
        raise _fail(self.loc, f"unexpected {val!r} in {self.source!r}.")


def _parse_call(raw: str, loc: str) -> Call:
    """Check a call with the whitelist; R names (with dots) and backticks become slots."""
    names: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "`":
            name, i = _read_quoted(raw, i, "`", loc)
            out.append(_slot(name, names))
        elif ch in "'\"":
            text, i = _read_quoted(raw, i, ch, loc)
            out.append(repr(text))
        elif ch.isdigit() or (ch == "." and i + 1 < len(raw) and raw[i + 1].isdigit()):
            m = re.match(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", raw[i:])
            assert m is not None
            out.append(m.group(0))
            i += m.end()
        elif _NAME_RE.match(ch):
            name, i = _read_name(raw, i)
            if "__" in name:
                raise _fail(loc, f"name {name!r} in {raw!r} contains a double underscore, which is not allowed.")
            k = i
            while k < len(raw) and raw[k].isspace():
                k += 1
            follows = raw[k] if k < len(raw) else ""
            if follows == "(":
                if name not in ALLOWED_FUNCTIONS and name != "c":  # c() only for factor levels, checked below
                    raise _fail(loc, f"function {name}() in {raw!r} is not allowed.")
                out.append(name)
            elif follows == "=" and raw[k:k + 2] != "==":
                out.append(name)  # keyword argument name, checked on the ast below
            elif name in ("TRUE", "FALSE"):
                out.append("True" if name == "TRUE" else "False")
            else:
                out.append(_slot(name, names))
        elif ch == "^":
            out.append("**")
            i += 1
        elif ch in "[]{}@;!<>|&%$#?\\":
            raise _fail(loc, f"character {ch!r} in {raw!r} is not allowed (no subscripts or other operators).")
        else:
            out.append(ch)
            i += 1
    code = "".join(out)
    try:
        tree = ast.parse(code, mode="eval").body
    except SyntaxError:
        raise _fail(loc, f"cannot parse the term {raw!r}.") from None
    _check_ast(tree, loc, raw, in_levels=False)
    return Call(raw, tree, tuple(names))


def _slot(name: str, names: list[str]) -> str:
    if name not in names:
        names.append(name)
    return f"_v{names.index(name)}"


def _check_ast(node: ast.AST, loc: str, raw: str, *, in_levels: bool) -> None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "c" and in_levels:
        if node.keywords:
            raise _fail(loc, f"c() in {raw!r} takes only levels.")
        for elt in node.args:
            if not isinstance(elt, ast.Constant) or not isinstance(elt.value, (str, int, float)):
                raise _fail(loc, f"factor levels in {raw!r} must be plain text or numbers.")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS:
            raise _fail(loc, f"the call in {raw!r} is not an allowed function.")
        fname = node.func.id
        for arg in node.args:
            _check_ast(arg, loc, raw, in_levels=fname in _LEVEL_FUNCTIONS)
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in ALLOWED_FUNCTIONS[fname]:
                raise _fail(loc, f"argument {kw.arg!r} of {fname}() in {raw!r} is not allowed.")
            if kw.arg == "raw" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool):
                continue
            _check_ast(kw.value, loc, raw, in_levels=fname in _LEVEL_FUNCTIONS)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise _fail(loc, f"operator {type(node.op).__name__} in {raw!r} is not allowed.")
        _check_ast(node.left, loc, raw, in_levels=False)
        _check_ast(node.right, loc, raw, in_levels=False)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _fail(loc, f"operator {type(node.op).__name__} in {raw!r} is not allowed.")
        _check_ast(node.operand, loc, raw, in_levels=False)
    elif isinstance(node, ast.Name):
        if not re.fullmatch(r"_v\d+", node.id):
            raise _fail(loc, f"{node.id!r} in {raw!r} cannot be used here.")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            if not in_levels:
                raise _fail(loc, f"text {node.value!r} in {raw!r} is only allowed as a factor level.")
        elif isinstance(node.value, bool):
            if not in_levels:
                raise _fail(loc, f"TRUE/FALSE in {raw!r} is only allowed as a factor option.")
        elif not isinstance(node.value, (int, float)):
            raise _fail(loc, f"constant {node.value!r} in {raw!r} is not allowed.")
    elif isinstance(node, (ast.List, ast.Tuple)) and in_levels:
        for elt in node.elts:
            if not isinstance(elt, ast.Constant) or not isinstance(elt.value, (str, int, float)):
                raise _fail(loc, f"factor levels in {raw!r} must be plain text or numbers.")
    else:
        raise _fail(loc, f"{type(node).__name__.lower()} in {raw!r} is not allowed "
                         "(no attribute access, subscripts, lambdas or comprehensions).")


def check_term(expr: str, loc: str) -> Node:
    """Parse one user-written term and refuse anything outside the whitelist.

    Returns the parsed term.  Raises :class:`SpecError` naming ``loc`` and the
    offending part, with a fix.

    >>> check_term("I(age^2)", "adjustment[0]").__class__.__name__
    'Call'
    >>> check_term("x.__class__", "adjustment[1]")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    causalspec.errors.SpecError: adjustment[1]: name 'x.__class__' contains a double underscore, ...
    """
    if not isinstance(expr, str) or not expr.strip():
        raise SpecError("the term is empty.", loc=loc, fix="Write a column name or an allowed expression.")
    toks = _tokens(expr, loc)
    if any(t == ("op", "~") for t in toks):
        raise _fail(loc, f"'~' is not allowed inside a term ({expr!r}).")
    parser = _Parser(toks, loc, expr)
    node = parser.parse()
    if parser.pos != len(toks):
        raise _fail(loc, f"unexpected {toks[parser.pos][1]!r} in {expr!r}.")
    return node


def parse_formula(formula: str, loc: str = "formula") -> Formula:
    """Parse ``lhs ~ rhs`` (or ``~ rhs``) safely into a :class:`Formula`."""
    if not isinstance(formula, str):
        raise SpecError(f"the formula must be text, not {type(formula).__name__}.", loc=loc, fix=_FIX)
    toks = _tokens(formula, loc)
    tildes = [i for i, t in enumerate(toks) if t == ("op", "~")]
    if len(tildes) != 1:
        raise SpecError(f"the formula {formula!r} needs exactly one '~'.", loc=loc,
                        fix="Write it as 'outcome ~ term + term'.")
    cut = tildes[0]
    lhs = None
    if cut > 0:
        p = _Parser(toks[:cut], loc, formula)
        lhs = p.parse()
        if p.pos != cut:
            raise _fail(loc, f"unexpected {toks[p.pos][1]!r} on the left of '~' in {formula!r}.")
    p = _Parser(toks[cut + 1:], loc, formula)
    rhs = p.parse()
    if p.pos != len(toks) - cut - 1:
        raise _fail(loc, f"unexpected {toks[cut + 1 + p.pos][1]!r} in {formula!r}.")
    return Formula(lhs, rhs)


# ------------------------------------------------------------------------------------- rendering

"""Formula syntax trees and Python ASTs written back as R text (the term labels R's model.matrix prints)."""

from __future__ import annotations

import ast

from causalspec.formula._nodes import Call, Node, Var, r_display

__all__ = ["r_deparse", "r_label", "r_number"]


_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}
_SYM = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def r_number(value: float | int) -> str:
    """R's ``as.character`` of a number (15 significant digits, no trailing ``.0``)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.15g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{'-' if exp.startswith('-') else '+'}{int(exp.lstrip('+-')):02d}"
    return text


def r_deparse(node: ast.AST, names: dict[str, str]) -> str:
    """Deparse a checked Python ast the way R prints the same call (``I(age^2)``, ``log(x + 1)``)."""
    if isinstance(node, ast.Name):
        return r_display(names[node.id]) if node.id in names else node.id
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return r_number(node.value)
    if isinstance(node, ast.UnaryOp):
        return ("-" if isinstance(node.op, ast.USub) else "+") + _wrap(node.operand, 3, names)
    if isinstance(node, ast.BinOp):
        prec = _PREC[type(node.op)]
        if isinstance(node.op, ast.Pow):
            return f"{_wrap(node.left, prec + 1, names)}^{_wrap(node.right, prec, names)}"
        sym = _SYM[type(node.op)]
        sep = "" if sym == "/" else " "  # R deparses a/b without spaces, a * b and a + b with
        return f"{_wrap(node.left, prec, names)}{sep}{sym}{sep}{_wrap(node.right, prec + 1, names)}"
    if isinstance(node, ast.Call):
        args = [r_deparse(a, names) for a in node.args]
        args += [f"{k.arg} = {r_deparse(k.value, names)}" for k in node.keywords]
        return f"{r_deparse(node.func, {})}({', '.join(args)})"
    if isinstance(node, (ast.List, ast.Tuple)):
        return "c(" + ", ".join(r_deparse(e, names) for e in node.elts) + ")"
    return ast.unparse(node)


def _wrap(node: ast.AST, min_prec: int, names: dict[str, str]) -> str:
    text = r_deparse(node, names)
    if isinstance(node, ast.BinOp) and _PREC[type(node.op)] < min_prec:
        return f"({text})"
    if isinstance(node, ast.UnaryOp) and min_prec > 3:
        return f"({text})"
    return text


def r_label(node: Node) -> str:
    """R's label for a formula variable: ``educ``, `` `a b` ``, ``log(dist_km)``, ``I(age^2)``."""
    if isinstance(node, Var):
        return r_display(node.name)
    if isinstance(node, Call):
        return r_deparse(node.tree, {f"_v{i}": n for i, n in enumerate(node.names)})
    raise TypeError(f"not a variable: {node!r}")

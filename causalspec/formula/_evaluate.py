"""Evaluate formula variables on a DataFrame without ``eval``.

Each variable is a column or a whitelisted call, already checked by
:mod:`causalspec.formula._parse`.  Calls are *interpreted* node by node (only
names, numbers, + - * / ^ and the whitelisted functions exist here), so no user
text ever reaches Python's ``eval``.  Values follow R's ``model.frame``: text
and logical columns become factors, missing values stay missing (NaN / code -1)
until the sample is formed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from causalspec.errors import DataError
from causalspec.formula._deparse import r_label, r_number
from causalspec.formula._parse import Call, Node, Var

__all__ = ["Numeric", "Factor", "evaluate", "r_levels", "as_factor"]


@dataclass(frozen=True)
class Numeric:
    """A numeric variable: ``values`` is ``(n, m)``; ``suffixes`` name the m columns (``""`` for one)."""

    values: np.ndarray
    suffixes: tuple[str, ...] = ("",)


@dataclass(frozen=True)
class Factor:
    """A factor: integer codes (-1 = missing) into ``levels`` (labels as R prints them)."""

    codes: np.ndarray
    levels: tuple[str, ...]

    def drop_unused(self) -> "Factor":
        used = np.unique(self.codes[self.codes >= 0])
        remap = np.full(len(self.levels) + 1, -1)
        remap[used] = np.arange(len(used))
        return Factor(remap[self.codes], tuple(self.levels[i] for i in used))


def _collation_key(s: str) -> tuple:
    # R sorts text levels with the locale's collation (en_US): case-insensitive and
    # ignoring punctuation at first, lowercase before uppercase on ties.
    return ("".join(ch for ch in s.casefold() if ch.isalnum()), s.casefold(), s.swapcase())


def _label(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return r_number(v)
    return str(v)


def r_levels(values: pd.Series) -> list:
    """The levels R's ``factor()`` gives: category order, or sorted unique values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    uniq = pd.unique(values.dropna())
    if len(uniq) and all(isinstance(u, (bool, np.bool_)) for u in uniq):
        return [False, True]
    if pd.api.types.is_numeric_dtype(values.dtype):
        return sorted(uniq.tolist())
    return sorted({str(u) for u in uniq}, key=_collation_key)


def as_factor(values: Any, levels: Any = None) -> Factor:
    """R's ``factor(x)`` (or ``factor(x, levels = ...)``) on a column or an evaluated value."""
    if isinstance(values, Factor):
        if levels is None:
            return values
        labels = [_label(v) for v in levels]
        pos = {lab: i for i, lab in enumerate(labels)}
        old = np.array([pos.get(lv, -1) for lv in values.levels] + [-1])
        return Factor(old[values.codes], tuple(labels))
    if isinstance(values, Numeric):
        if values.values.shape[1] != 1:
            raise DataError("factor() needs a single column.", loc="formula", fix="Apply factor() to one column.")
        values = pd.Series(values.values[:, 0])
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    lv = r_levels(s) if levels is None else list(levels)
    labels = tuple(_label(v) for v in lv)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if levels is None:
        # the levels are the data's own values: let pandas map them (fast, exact)
        codes = pd.Categorical(s, categories=lv).codes.astype(np.intp)
        return Factor(codes, labels)
    index = {lab: i for i, lab in enumerate(labels)}
    codes = np.array([-1 if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else
                      index.get(_label(v), -1) for v in s.to_numpy(dtype=object)], dtype=np.intp)
    return Factor(codes, labels)


def _column(data: pd.DataFrame, name: str) -> Numeric | Factor:
    col = data[name]
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt):
        return as_factor(col)
    if pd.api.types.is_numeric_dtype(dt):
        return Numeric(col.to_numpy(dtype=float, na_value=np.nan)[:, None])
    kind = pd.api.types.infer_dtype(col, skipna=True)  # one pass in C instead of a Python test per value
    if kind == "boolean":
        return as_factor(col)
    if kind == "string":  # text only: its labels are the values themselves
        return as_factor(col.astype(object).where(col.notna(), None))
    nonnull = col.dropna()
    if len(nonnull) and all(isinstance(v, (bool, np.bool_)) for v in nonnull):
        return as_factor(col)
    return as_factor(col.astype(object).where(col.notna(), None).map(lambda v: v if v is None else str(v)))


def _numeric(v: Numeric | Factor, what: str) -> np.ndarray:
    if isinstance(v, Factor):
        raise DataError(f"{what} needs numbers but gets a text/factor column.", loc="formula",
                        fix="Apply it to a numeric column, or recode the column as numbers.")
    if v.values.shape[1] != 1:
        raise DataError(f"{what} needs a single column.", loc="formula", fix="Apply it to one column.")
    return v.values[:, 0]


def _poly(x: np.ndarray, degree: int = 1, raw: bool = False) -> Numeric:
    """R's ``poly()``: orthonormal polynomials (QR of centred powers, R's signs) or raw powers."""
    if np.isnan(x).any():
        raise DataError("poly() does not allow missing values (R: 'missing values are not allowed in poly').",
                        loc="formula", fix="Drop the rows with a missing value first.")
    degree = int(degree)
    if raw:
        return Numeric(np.column_stack([x**k for k in range(1, degree + 1)]),
                       tuple(str(k) for k in range(1, degree + 1)))
    if degree >= len(np.unique(x)):
        raise DataError("poly(): 'degree' must be less than the number of unique points.", loc="formula",
                        fix="Lower the degree.")
    xc = x - x.mean()
    V = np.column_stack([xc**k for k in range(degree + 1)])
    Q, R = np.linalg.qr(V)
    # R takes Q_j * R_jj and rescales to unit length, i.e. Q_j with the sign of R_jj.
    Z = Q * np.sign(np.diag(R))
    return Numeric(Z[:, 1:], tuple(str(k) for k in range(1, degree + 1)))


def _scale(x: np.ndarray) -> np.ndarray:
    return (x - np.nanmean(x)) / np.nanstd(x, ddof=1)


_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log, "log1p": np.log1p, "log2": np.log2, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt,
    "abs": np.abs, "scale": _scale, "center": lambda x: x - np.nanmean(x),
}


def _interpret(node: ast.AST, slots: dict[str, Numeric | Factor]) -> Any:
    if isinstance(node, ast.Name):
        return slots[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_interpret(e, slots) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        val = _as_array(_interpret(node.operand, slots), "unary minus")
        return Numeric((-val if isinstance(node.op, ast.USub) else val)[:, None])
    if isinstance(node, ast.BinOp):
        a = _as_array(_interpret(node.left, slots), "arithmetic")
        b = _as_array(_interpret(node.right, slots), "arithmetic")
        with np.errstate(all="ignore"):
            if isinstance(node.op, ast.Add):
                r = a + b
            elif isinstance(node.op, ast.Sub):
                r = a - b
            elif isinstance(node.op, ast.Mult):
                r = a * b
            elif isinstance(node.op, ast.Div):
                r = a / b
            else:
                r = np.power(a, b)
        return Numeric(np.broadcast_to(np.asarray(r, dtype=float), np.shape(r) or (1,)).reshape(-1, 1))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    fname = node.func.id
    if fname == "c":  # factor levels, c("a", "b"): checked to hold constants only
        return [_interpret(a, slots) for a in node.args]
    args = [_interpret(a, slots) for a in node.args]
    kwargs = {k.arg: _interpret(k.value, slots) for k in node.keywords}
    if fname == "I":
        v = args[0]
        return v if isinstance(v, (Numeric, Factor)) else Numeric(np.atleast_1d(np.asarray(v, float))[:, None])
    if fname in ("factor", "C"):
        return as_factor(args[0], kwargs.get("levels", args[1] if len(args) > 1 else None))
    if fname == "relevel":
        f = as_factor(args[0])
        ref = _label(kwargs.get("ref", args[1] if len(args) > 1 else None))
        if ref not in f.levels:
            raise DataError(f"relevel(): {ref!r} is not a level ({', '.join(f.levels)}).", loc="formula",
                            fix="Use one of the listed levels as the reference.")
        order = (f.levels.index(ref),) + tuple(i for i in range(len(f.levels)) if f.levels[i] != ref)
        remap = np.empty(len(f.levels) + 1, dtype=np.intp)
        remap[list(order)] = np.arange(len(order))
        remap[-1] = -1
        return Factor(remap[f.codes], tuple(f.levels[i] for i in order))
    if fname == "poly":
        degree = kwargs.get("degree", args[1] if len(args) > 1 else 1)
        return _poly(_numeric(args[0], "poly()"), degree, bool(kwargs.get("raw", False)))
    x = _numeric(args[0], f"{fname}()")
    with np.errstate(all="ignore"):
        return Numeric(np.asarray(_UNARY[fname](x), dtype=float)[:, None])


def _as_array(v: Any, what: str) -> np.ndarray:
    if isinstance(v, (Numeric, Factor)):
        return _numeric(v, what)
    return np.asarray(float(v))


def evaluate(node: Node, data: pd.DataFrame, columns: dict[str, Any]) -> Numeric | Factor:
    """Evaluate a formula variable on the whole data (as ``model.frame`` does, before ``na.omit``)."""
    if isinstance(node, Var):
        return _column(data, columns[node.name])
    assert isinstance(node, Call)
    slots = {f"_v{i}": _column(data, columns[n]) for i, n in enumerate(node.names)}
    try:
        out = _interpret(node.tree, slots)
    except DataError:
        raise
    except (TypeError, ValueError, IndexError) as exc:
        raise DataError(f"cannot evaluate {r_label(node)}: {exc}", loc="formula",
                        fix="Check the arguments of the function.") from None
    if not isinstance(out, (Numeric, Factor)):
        out = Numeric(np.full((len(data), 1), float(out)))
    if isinstance(out, Numeric) and out.values.shape[0] != len(data):
        out = Numeric(np.broadcast_to(out.values, (len(data), out.values.shape[1])).copy(), out.suffixes)
    return out

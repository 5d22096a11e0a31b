"""Design matrices with R's semantics: names, factor coding, missing values.

``materialize(formula, data)`` parses the formula safely (:mod:`causalspec.formula._parse`),
evaluates each variable by interpreting the checked call tree (never ``eval``;
:mod:`._evaluate`), converts text and logical columns to factors the way R's
``model.frame`` does (sorted levels, unused levels dropped, ``TRUE``/``FALSE``),
removes rows with missing values counting each by its first missing variable,
and builds the columns with R's term expansion and contrast rule (:mod:`._terms`).
Column names are exactly R's (``(Intercept)``, ``racehispan``,
``treat:racehispan``, ``factor(year)1998``, ``I(age^2)``), so results can be keyed
by R's names.  (formulaic's own coding differs from R's for interactions without
their main effects, so the matrix is assembled here.)
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from causalspec._arrays import all_finite
from causalspec.errors import DataError, SpecError
from causalspec.formula._evaluate import Factor, Numeric, evaluate
from causalspec.formula._terms import coding, expand_terms, variable_nodes
from causalspec.formula._deparse import r_label
from causalspec.formula._parse import Call, Var, parse_formula

__all__ = ["Design", "materialize"]


@dataclass(frozen=True)
class Design:
    """A materialised model: outcome, design matrix and R's column names.

    ``dropped`` maps a reason (``"missing values in 'lwage'"``) to a row count;
    ``rows`` is the index of the input rows used, in order.
    """

    y: np.ndarray
    X: np.ndarray
    terms: tuple[str, ...]
    rows: pd.Index
    dropped: Mapping[str, int]
    n_input: int
    formula: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def n_dropped(self) -> int:
        return int(sum(self.dropped.values()))


# ------------------------------------------------------------------------------------- materialise
def _missing_column(name: str, data: pd.DataFrame) -> DataError:
    close = difflib.get_close_matches(name, [str(c) for c in data.columns], n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return DataError(f"column {name!r} is not in the data.{hint}", loc="formula",
                     fix="Fix the spelling in the spec or add the column to the data.")


def _missing(v: Numeric | Factor) -> np.ndarray:
    if isinstance(v, Factor):
        return v.codes < 0
    return np.isnan(v.values).any(axis=1)


def _subset(v: Numeric | Factor, keep: np.ndarray) -> Numeric | Factor:
    if isinstance(v, Factor):
        # model.frame(drop.unused.levels = TRUE): levels absent from the sample disappear
        return Factor(v.codes[keep], v.levels).drop_unused()
    return Numeric(v.values[keep], v.suffixes)


def _pieces(label: str, v: Numeric | Factor, code: int | None) -> list[tuple[str, np.ndarray]]:
    if isinstance(v, Numeric):
        return [(label + sfx, v.values[:, k]) for k, sfx in enumerate(v.suffixes)]
    if code == 1:
        if len(v.levels) < 2:
            raise DataError(f"{label} has a single level ({', '.join(v.levels) or 'none'}) in the sample; R "
                            "cannot apply contrasts to it.", loc="formula",
                            fix="Remove it from the model or check the sample filters.")
        levels = range(1, len(v.levels))  # treatment contrasts: the first level is the reference
    else:
        levels = range(len(v.levels))
    return [(label + v.levels[i], (v.codes == i).astype(float)) for i in levels]


def _outcome(v: Numeric | Factor, name: str, data_col: pd.Series | None) -> np.ndarray:
    if isinstance(v, Factor):
        if data_col is not None and (pd.api.types.is_bool_dtype(data_col.dtype) or v.levels == ("FALSE", "TRUE")):
            return (np.asarray(v.levels, dtype=object)[v.codes] == "TRUE").astype(float)
        raise DataError(f"the outcome {name!r} is not numeric.", loc="outcome",
                        fix="Recode it as numbers (for example 1 for 'yes', 0 for 'no').")
    if v.values.shape[1] != 1:
        raise DataError(f"the outcome {name!r} has several columns.", loc="outcome", fix="Use one numeric outcome.")
    return v.values[:, 0]


def materialize(formula: str, data: pd.DataFrame) -> Design:
    """Build the outcome and design matrix of ``formula`` on ``data`` with R's conventions.

    Matches ``stats::model.frame`` + ``stats::model.matrix`` as ``lm`` calls them:
    variables evaluated on the whole data, ``na.omit`` (counted per first missing
    variable), ``drop.unused.levels = TRUE``, treatment contrasts chosen by R's
    TermCode rule, R's column order and names.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1., 2, 3, None], "g": ["b", "a", "b", "a"], "x": [1., 2, 4, 8]})
    >>> des = materialize("y ~ g + x", d)
    >>> des.terms, dict(des.dropped)
    (('(Intercept)', 'gb', 'x'), {"missing values in 'y'": 1})
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}.", loc="data",
                        fix="Load the data with pandas.read_csv or similar.")
    parsed = parse_formula(formula)
    if parsed.lhs is None:
        raise SpecError(f"the formula {formula!r} has no outcome.", loc="formula",
                        fix="Write it as 'outcome ~ terms'.")
    columns = {str(c): c for c in data.columns}
    for v in parsed.variables:
        if v not in columns:
            raise _missing_column(v, data)
    nodes = variable_nodes(parsed.rhs, variable_nodes(parsed.lhs, {}))
    y_label = r_label(parsed.lhs) if isinstance(parsed.lhs, (Var, Call)) else None
    if y_label is None:
        raise SpecError(f"the outcome of {formula!r} must be one column or one call such as log(wage).",
                        loc="formula", fix="Put arithmetic on the outcome inside I().")
    order = list(nodes)
    tl = expand_terms(parsed.rhs, order)
    values = {lab: evaluate(node, data, columns) for lab, node in nodes.items()}
    n_input = len(data)
    reasons = [node.name if isinstance(node, Var) else lab for lab, node in nodes.items()]
    missing = np.column_stack([_missing(values[lab]) for lab in order])
    bad = missing.any(axis=1)
    dropped: dict[str, int] = {}
    if bad.any():
        first = missing[bad].argmax(axis=1)
        for i, c in enumerate(np.bincount(first, minlength=len(order))):
            if c:
                dropped[f"missing values in {reasons[i]!r}"] = int(c)
    keep = ~bad
    if not keep.any():
        raise DataError("no rows are left after removing rows with missing values "
                        f"({', '.join(f'{k}: {v}' for k, v in dropped.items())}).", loc="data",
                        fix="Check the columns with many missing values.")
    if bad.any():
        values = {lab: _subset(v, keep) for lab, v in values.items()}
    else:  # no row drops: no copy (factors still lose unused categories, as drop.unused.levels does)
        values = {lab: v.drop_unused() if isinstance(v, Factor) else v for lab, v in values.items()}
    lhs_col = data[columns[parsed.lhs.name]] if isinstance(parsed.lhs, Var) else None
    y = _outcome(values[y_label], reasons[0], lhs_col)
    is_factor = {lab: isinstance(v, Factor) for lab, v in values.items()}
    n_levels = {lab: len(v.levels) if isinstance(v, Factor) else 0 for lab, v in values.items()}
    codes = coding(tl, is_factor, n_levels)
    n = int(keep.sum())
    names: list[str] = ["(Intercept)"] if tl.intercept else []
    products: list[tuple[np.ndarray, ...]] = []
    for term, code in zip(tl.terms, codes):
        lists = [_pieces(lab, values[lab], code.get(lab)) for lab in term]
        # model.matrix: the first variable of a term varies fastest
        for combo in itertools.product(*reversed(lists)):
            parts = combo[::-1]
            names.append(":".join(p[0] for p in parts))
            products.append(tuple(p[1] for p in parts))
    # one column-major allocation filled in place (no per-column copies, no column_stack, no reordering copy)
    X = np.empty((n, len(names)), dtype=float, order="F")
    j = 0
    if tl.intercept:
        X[:, 0] = 1.0
        j = 1
    for parts in products:
        col = X[:, j]
        col[:] = parts[0]
        for part in parts[1:]:
            col *= part
        j += 1
    if not (all_finite(y) and all_finite(X)):
        where = reasons[0] if not all_finite(y) else names[int(np.flatnonzero(~np.isfinite(X).all(axis=0))[0])]
        raise DataError(f"{where!r} has infinite values (R: 'NA/NaN/Inf in ...'); for example log(0).",
                        loc="formula", fix="Drop or recode the zeros / extreme values, or use log1p().")
    notes = tuple(f"{count} row(s) dropped: {reason}" for reason, count in dropped.items())
    return Design(y=np.array(y, dtype=float), X=X, terms=tuple(names),
                  rows=data.index[keep] if bad.any() else data.index, dropped=MappingProxyType(dict(dropped)), n_input=n_input, formula=formula,
                  notes=notes)

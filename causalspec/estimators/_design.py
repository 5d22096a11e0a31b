"""Design matrices with R's semantics: names, factor coding, missing values.

``materialize(formula, data)`` parses the formula safely (:mod:`causalspec.spec._formula`),
renames every used column to a safe alias, converts text and logical columns
to factors the way R's ``model.frame`` does (sorted levels, unused levels
dropped, ``TRUE``/``FALSE`` levels), removes rows with missing values counting
each by its first missing column, and lets formulaic build the matrix in a
namespace holding only whitelisted transforms.  Column names are rebuilt as R
prints them (``(Intercept)``, ``racehispan``, ``treat:racehispan``,
``factor(year)1998``, ``I(age^2)``), so results can be keyed by R's names.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from causalspec.errors import DataError, SpecError
from causalspec.spec._formula import parse_formula, r_display, r_name_of, r_number, to_formulaic

__all__ = ["Design", "materialize", "r_levels", "as_r_factor"]


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


# ---------------------------------------------------------------------------------------- factors
def _collation_key(s: str) -> tuple:
    # R sorts factor levels with the locale's collation (ICU / glibc en_US): letters
    # compare case-insensitively and punctuation is ignored at first, lowercase wins ties.
    return ("".join(ch for ch in s.casefold() if ch.isalnum()), s.casefold(), s.swapcase())


def r_levels(values: pd.Series) -> list:
    """The levels R's ``factor()`` gives: category order, or sorted unique values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    uniq = pd.unique(values.dropna())
    if pd.api.types.is_bool_dtype(values.dtype) or all(isinstance(u, (bool, np.bool_)) for u in uniq):
        return sorted(bool(u) for u in uniq)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return sorted(uniq.tolist())
    return sorted((str(u) for u in uniq), key=_collation_key)


def _label(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return r_number(v)
    return str(v)


def as_r_factor(x: Any, levels: Any = None) -> pd.Series:
    """``factor(x)`` as R builds it: sorted levels (or the given ones), labels as R prints them."""
    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
    lv = r_levels(s) if levels is None else list(levels)
    labels = [_label(v) for v in lv]
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    codes = pd.Series(s).map({v: i for i, v in enumerate(lv)})
    if levels is None and codes.isna().any():  # values like 1 vs 1.0 that map only by label
        codes = s.map(_label).map({lab: i for i, lab in enumerate(labels)})
    cat = pd.Categorical.from_codes(codes.fillna(-1).astype(int).to_numpy(), categories=labels)
    return pd.Series(cat, index=s.index)


def _relevel(x: Any, ref: Any) -> pd.Series:
    f = as_r_factor(x)
    cats = list(f.cat.categories)
    label = _label(ref)
    if label not in cats:
        raise DataError(f"relevel(): {label!r} is not a level ({', '.join(cats)}).", loc="formula",
                        fix="Use one of the listed levels as the reference.")
    return pd.Series(f.cat.reorder_categories([label] + [c for c in cats if c != label]), index=f.index)


def _namespace() -> dict[str, Any]:
    from formulaic.transforms import TRANSFORMS

    ns: dict[str, Any] = {
        "factor": as_r_factor, "C": as_r_factor, "relevel": _relevel,
        "log": np.log, "log1p": np.log1p, "log2": np.log2, "log10": np.log10, "exp": np.exp,
        "sqrt": np.sqrt, "abs": np.abs,
    }
    for name in ("I", "center", "scale", "poly"):
        ns[name] = TRANSFORMS[name]
    return ns


# ------------------------------------------------------------------------------------- materialise
def _missing_column(name: str, data: pd.DataFrame) -> DataError:
    close = difflib.get_close_matches(name, [str(c) for c in data.columns], n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return DataError(f"column {name!r} is not in the data.{hint}", loc="formula",
                     fix="Fix the spelling in the spec or add the column to the data.")


def _prepare(col: pd.Series, name: str) -> pd.Series:
    """Text and logical columns become R-style factors; numbers stay numbers."""
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return col.cat.remove_unused_categories()
    if pd.api.types.is_bool_dtype(dt):
        return as_r_factor(col.astype(bool))
    if pd.api.types.is_numeric_dtype(dt):
        return col.astype(float)
    vals = col.dropna()
    if len(vals) and all(isinstance(v, (bool, np.bool_)) for v in vals):
        return as_r_factor(col.astype(bool))
    return as_r_factor(col.astype(str))


def _column_names(structure, encoder_state, alias_to_name) -> list[str]:
    names: list[str] = []
    for st in structure:
        factors = [f.expr for f in st.term.factors]
        if factors == ["1"]:
            names.extend("(Intercept)" for _ in st.columns)
            continue
        for col in st.columns:
            names.append(_r_column(col, factors, encoder_state, alias_to_name))
    return names


def _r_column(col: str, factors: list[str], encoder_state, alias_to_name) -> str:
    pieces, rest = [], col
    for k, expr in enumerate(factors):
        if not rest.startswith(expr):
            raise SpecError(f"cannot name design column {col!r}.", loc="formula",
                            fix="Simplify the term or report this as a bug.")
        rest = rest[len(expr):]
        suffix = ""
        if rest.startswith("["):
            depth, j = 0, 0
            kind_state = encoder_state.get(expr)
            cats = []
            if kind_state is not None and isinstance(kind_state[1], dict):
                cats = [str(c) for c in kind_state[1].get("categories", [])]
            matched = None
            for c in sorted(cats, key=len, reverse=True):
                for form in (f"[T.{c}]", f"[{c}]"):
                    if rest.startswith(form):
                        matched = (c, len(form))
                        break
                if matched:
                    break
            if matched is None:
                m = re.match(r"\[(?:T\.)?([^\]]*)\]", rest)
                if m is None:
                    raise SpecError(f"cannot name design column {col!r}.", loc="formula",
                                    fix="Simplify the term or report this as a bug.")
                matched = (m.group(1), m.end())
            suffix, j = matched
            rest = rest[j:]
            del depth
        pieces.append(r_name_of(expr, alias_to_name) + suffix)
        if k < len(factors) - 1:
            if not rest.startswith(":"):
                raise SpecError(f"cannot name design column {col!r}.", loc="formula",
                                fix="Simplify the term or report this as a bug.")
            rest = rest[1:]
    return ":".join(pieces)


def materialize(formula: str, data: pd.DataFrame) -> Design:
    """Build the outcome and design matrix of ``formula`` on ``data`` with R's conventions.

    Matches ``stats::model.frame`` + ``stats::model.matrix`` as ``lm`` calls them
    (``na.omit``, ``drop.unused.levels = TRUE``, treatment contrasts).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1., 2, 3, None], "g": ["b", "a", "b", "a"], "x": [1., 2, 4, 8]})
    >>> des = materialize("y ~ g + x", d)
    >>> des.terms, dict(des.dropped)
    (('(Intercept)', 'gb', 'x'), {"missing values in 'y'": 1})
    """
    import formulaic

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}.", loc="data",
                        fix="Load the data with pandas.read_csv or similar.")
    parsed = parse_formula(formula)
    if parsed.lhs is None:
        raise SpecError(f"the formula {formula!r} has no outcome.", loc="formula",
                        fix="Write it as 'outcome ~ terms'.")
    columns = {str(c): c for c in data.columns}
    variables = parsed.variables
    for v in variables:
        if v not in columns:
            raise _missing_column(v, data)
    n_input = len(data)
    sub = data.loc[:, [columns[v] for v in variables]]
    sub.columns = list(variables)
    missing = sub.isna().to_numpy()
    bad = missing.any(axis=1)
    dropped: dict[str, int] = {}
    if bad.any():
        first = missing[bad].argmax(axis=1)
        for i, c in enumerate(np.bincount(first, minlength=len(variables))):
            if c:
                dropped[f"missing values in {variables[i]!r}"] = int(c)
        sub = sub.loc[~bad]
    if len(sub) == 0:
        raise DataError("no rows are left after removing rows with missing values "
                        f"({', '.join(f'{k}: {v}' for k, v in dropped.items())}).", loc="data",
                        fix="Check the columns with many missing values.")
    outcome_vars = []
    from causalspec.spec._formula import _collect

    _collect(parsed.lhs, outcome_vars)
    for v in outcome_vars:
        col = sub[v]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)):
            raise DataError(f"the outcome column {v!r} is not numeric (dtype {col.dtype}).", loc="outcome",
                            fix="Recode it as numbers (for example 1 for 'yes', 0 for 'no').")
    alias = {v: f"v{i}_" for i, v in enumerate(variables)}
    alias_to_name = {a: v for v, a in alias.items()}
    frame = pd.DataFrame(index=sub.index)
    for v in variables:
        frame[alias[v]] = sub[v].astype(float) if v in outcome_vars else _prepare(sub[v], v)
    text = f"{to_formulaic(parsed.lhs, alias)} ~ {to_formulaic(parsed.rhs, alias)}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                mm = formulaic.model_matrix(text, frame, context=_namespace(), na_action="ignore",
                                            output="pandas")
    except (SpecError, DataError):
        raise
    except Exception as exc:  # formulaic/numpy failures on user data become a located DataError
        raise DataError(f"cannot build the design matrix of {formula!r}: {exc}", loc="formula",
                        fix="Check that transforms such as log() get numeric columns.") from None
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise DataError(f"the outcome of {formula!r} is not a single numeric column.", loc="outcome",
                        fix="Use a numeric outcome column.")
    spec = rhs.model_spec
    terms = _column_names(spec.structure, spec.encoder_state, alias_to_name)
    y = np.asarray(lhs, dtype=float)[:, 0]
    X = np.asarray(rhs, dtype=float)
    lhs_spec = lhs.model_spec
    y_name = _column_names(lhs_spec.structure, lhs_spec.encoder_state, alias_to_name)[0]
    rows = sub.index
    # Transforms can create NaN (log of a negative number): R's na.omit drops those rows too.
    nan_y = np.isnan(y)
    nan_x = np.isnan(X)
    bad = nan_y | nan_x.any(axis=1)
    if bad.any():
        for i in np.flatnonzero(bad):
            reason = y_name if nan_y[i] else terms[int(np.argmax(nan_x[i]))]
            key = f"missing values in {reason!r}"
            dropped[key] = dropped.get(key, 0) + 1
        y, X, rows = y[~bad], X[~bad], rows[~bad]
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(X))):
        where = y_name if not np.all(np.isfinite(y)) else terms[int(np.flatnonzero(~np.isfinite(X).all(axis=0))[0])]
        raise DataError(f"{where!r} has infinite values (R: 'NA/NaN/Inf in ...'); for example log(0).",
                        loc="formula", fix="Drop or recode the zeros / extreme values, or use log1p().")
    if len(y) == 0:
        raise DataError("no rows are left after removing rows with missing values.", loc="data",
                        fix="Check the columns with many missing values.")
    notes = tuple(f"{count} row(s) dropped: {reason}" for reason, count in dropped.items())
    return Design(y=np.ascontiguousarray(y), X=np.asfortranarray(X), terms=tuple(terms), rows=pd.Index(rows),
                  dropped=MappingProxyType(dict(dropped)), n_input=n_input, formula=formula, notes=notes)


def _display(name: str) -> str:
    return r_display(name)

"""Effect modification in OLS regression adjustment: the treatment interacted with centred modifiers.

The outcome model gains, for each modifier ``m`` (coded as R codes ``~ m``: a numeric column as itself, a factor as
treatment-contrast dummies), the columns ``d * (m_c - centre_c)``.  Centred at the (weighted) sample means, the
treatment coefficient is the average effect over the sample (``estimatr::lm_lin``'s centring); centred at a value
``v`` of one modifier (the others at their means), it is the effect at ``m = v``.  Each conditional effect is the
treatment coefficient of that reparametrised lm, so its standard error, degrees of freedom (CR2's Bell-McCaffrey
df included) and interval are exactly what R reports for ``lm(y ~ d + adjustment + d:I(m - v))``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import DataError, Problem
from causalspec.formula import Design, materialize, quote_name

__all__ = ["Interactions", "interactions", "default_values", "modifier_code"]

MAX_LEVELS = 10  # a modifier with at most this many distinct values is reported at each of them


@dataclass(frozen=True)
class Interactions:
    """The modifier columns of the rows in the fit, their names and the sample means they are centred at."""

    treatment_term: str
    modifiers: tuple[str, ...]
    columns: np.ndarray  # (n, q) modifier codings, side by side
    names: tuple[str, ...]  # their R column names (regionB, age)
    owner: tuple[str, ...]  # the modifier each column codes
    means: np.ndarray  # (q,) (weighted) sample means

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of the interaction columns, as estimatr::lm_lin writes them (``d:age_c``)."""
        return tuple(f"{self.treatment_term}:{name}_c" for name in self.names)

    def design(self, design: Design, centre: np.ndarray | None = None) -> Design:
        """The outcome model's design with the interaction columns, centred at ``centre`` (default: the means)."""
        c = self.means if centre is None else centre
        d = design.X[:, list(design.terms).index(self.treatment_term)]
        X = np.column_stack([design.X, d[:, None] * (self.columns - c)])
        return replace(design, X=X, terms=(*design.terms, *self.terms))


def interactions(modifiers, treatment: str, treatment_term: str, rows: pd.DataFrame,
                 weights: np.ndarray | None) -> Interactions:
    """The coding of each modifier on the fit's rows (as ``model.matrix(~ m)`` without its intercept)."""
    blocks, names, owner = [], [], []
    for m in modifiers:
        coded = materialize(f"{quote_name(treatment)} ~ {quote_name(m)}", rows)
        keep = [i for i, t in enumerate(coded.terms) if t != "(Intercept)"]
        if len(coded.y) != len(rows) or not keep:
            raise DataError(Problem("heterogeneity.modifiers", f"the modifier {m!r} cannot be coded on the rows of "
                                    "the fit (it is constant there, or has missing values).",
                                    fix=f"Remove {m!r} from heterogeneity.modifiers.", code="modifier_degenerate"))
        blocks.append(coded.X[:, keep])
        names += [coded.terms[i] for i in keep]
        owner += [m] * len(keep)
    columns = np.column_stack(blocks)
    means = np.average(columns, axis=0, weights=weights)
    return Interactions(treatment_term, tuple(modifiers), columns, tuple(names), tuple(owner), means)


def _is_factor(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def default_values(values: pd.Series) -> tuple:
    """Every level of a factor, or of a numeric column with at most MAX_LEVELS distinct values; otherwise the
    quartiles (R's ``quantile(type = 7)``, numpy's default)."""
    distinct = pd.unique(values.dropna())
    if _is_factor(values) or len(distinct) <= MAX_LEVELS:
        return tuple(sorted(distinct.tolist()))
    return tuple(float(q) for q in np.percentile(values.to_numpy(float), [25, 50, 75]))


def modifier_code(inter: Interactions, rows: pd.DataFrame, modifier: str, value) -> np.ndarray:
    """The centre vector that puts ``modifier`` at ``value`` and every other modifier at its mean."""
    centre = inter.means.copy()
    cols = [i for i, o in enumerate(inter.owner) if o == modifier]
    column = rows[modifier]
    where = f"heterogeneity.at.{modifier}"
    if not _is_factor(column):
        try:
            centre[cols] = float(value)
        except (TypeError, ValueError):
            raise DataError(Problem(where, f"{value!r} is not a number, and {modifier!r} is numeric.",
                                    fix="Give numbers.", code="modifier_value")) from None
        return centre
    text = column.astype(str)
    matches = np.flatnonzero((text == str(value)).to_numpy()
                             | (column == value).to_numpy())
    if isinstance(value, float) and value.is_integer():
        matches = np.union1d(matches, np.flatnonzero((text == str(int(value))).to_numpy()))
    if not len(matches):
        levels = sorted(pd.unique(column.dropna()).tolist(), key=str)
        raise DataError(Problem(where, f"{value!r} is not a level of {modifier!r} in the rows of the fit.",
                                fix=f"Use one of {levels[:10]}.", code="modifier_value"))
    centre[cols] = inter.columns[matches[0], cols]
    return centre


def wald_interactions(coef: np.ndarray, V: np.ndarray, idx: list[int], df_resid: float) -> dict:
    """The joint Wald F test that every interaction coefficient is zero, with the fit's variance
    (``car::linearHypothesis(fit, terms, vcov. = V, test = "F")``: F on q and the residual df)."""
    b = coef[idx]
    Vi = V[np.ix_(idx, idx)]
    if not np.all(np.isfinite(b)) or not np.all(np.isfinite(Vi)):
        return {"computed": False, "reason": "an interaction coefficient is aliased (not estimable) in these data"}
    q = len(idx)
    stat = float(b @ np.linalg.solve(Vi, b)) / q
    return {"statistic": stat, "df1": q, "df2": float(df_resid), "p_value": float(stats.f.sf(stat, q, df_resid))}

"""The effect after matching as the MatchIt vignette estimates it: lm(y ~ treat, weights) on match.data(), with
sandwich's cluster-robust variance by subclass (HC3 with replacement)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from causalspec.errors import DataError, UnsupportedError
from causalspec.estimators._linear import fit_ols
from causalspec.estimators._matching import Matching
from causalspec.inference import coef_table, vcov as vcov_fn

__all__ = ["MatchedEffect", "matched_effect"]


@dataclass(frozen=True)
class MatchedEffect:
    """The weighted regression on the matched sample: the coefficient table and its variance."""

    table: pd.DataFrame
    vcov_kind: str
    nobs: int
    df: float
    description: str


def matched_effect(m: Matching, data: pd.DataFrame, outcome: str, *, vcov: str | None = None,
                   covariates: Sequence[str] = (), level: float = 0.95) -> MatchedEffect:
    """The effect by weighted least squares of the outcome on treatment in the matched data.

    Matches ``lm(y ~ treat, data = match.data(m), weights = weights)`` with
    ``sandwich::vcovCL(fit, cluster = ~subclass)`` (default after pair matching without replacement, optimal and
    full matching: the matched sets as clusters, CR1 = HC1 with cluster adjustment) or ``sandwich::vcovHC(type = "HC3")``
    (default with replacement and for exact, coarsened exact and subclassification, which form no pairs:
    MatchIt's vignette advice); Abadie & Spiess (2022), JASA 117:1.  The coefficient of ``treat`` is the
    effect for the matching's estimand (its weights make the comparison the ATT, ATC or ATE).
    """

    if outcome not in data.columns:
        raise DataError(f"outcome column {outcome!r} is not in the data.", loc="outcome",
                        fix="Fix the outcome name.")
    keep = m.matched
    y = np.asarray(data[outcome], dtype=float)[keep]
    cols = [np.ones(keep.sum()), m.treat[keep].astype(float)]
    terms = ["(Intercept)", "treat"]
    for c in covariates:
        cols.append(np.asarray(data[c], dtype=float)[keep])
        terms.append(c)
    fit = fit_ols(y, np.column_stack(cols), terms, weights=m.weights[keep])
    kind = vcov or ("CR1" if m.subclass is not None and (m.mm is not None or m.method == "full") else "HC3")
    clustered = kind.upper() in ("CR0", "CR1", "CR2", "STATA")
    if clustered and m.subclass is None:
        raise UnsupportedError("pair-clustered SEs need pairs; matching with replacement has none.",
                               loc="inference.vcov", fix="Use HC3 after matching with replacement.")
    cluster = m.subclass[keep] if clustered else None
    V = vcov_fn(fit, kind, cluster=cluster)
    table = coef_table(fit.coef, V, level=level)
    return MatchedEffect(table, V.kind, fit.nobs, float(fit.df_resid), V.description)

"""statsmodels / pyfixest-style access to a Result: params, bse, tvalues, pvalues, conf_int, cov_params, wald,
predict, fixef, repr.

The names are statsmodels' (``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int``, ``cov_params``) so code
written for ``sm.OLS(...).fit()`` or ``pf.feols`` reads a Result unchanged.  Every value comes from the
coefficient table and the variance matrix the Result already holds; nothing is refitted.  ``predict`` and
``fixef`` (``causalspec.result._predict``) rebuild the design from the plan and the data the Result refers to.

``wald`` tests linear hypotheses on the coefficients, written as text (``"x1 = x2"``, ``"2*x1 + x2 = 1"``) and
parsed here by a small tokenizer (never evaluated): names are the coefficient names (backticks around names
with other characters, such as ```factor(g)b```), numbers, ``+``, ``-``, ``*`` and one ``=``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import linalg, stats

from causalspec.designs._heterogeneity import cate_for
from causalspec.errors import Problem, SpecError
from causalspec.result import _predict

__all__ = ["ResultAccessors", "parse_hypothesis"]

_TOKEN = re.compile(r"\s*(?:(`[^`]+`)|(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|"
                    r"([A-Za-z_.][\w.:()^]*)|([-+*=]))")


def _hyp_error(text: str, why: str) -> SpecError:
    return SpecError(Problem("hypothesis", f"cannot read the hypothesis {text!r}: {why}.",
                             fix='Write a linear restriction on coefficient names, e.g. "x1 = x2" or '
                                 '"2*x1 + x2 = 1" (backticks around names with other characters).',
                             code="bad_hypothesis"))


def _tokens(text: str) -> list[tuple[str, object]]:
    pos, out = 0, []
    while text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _hyp_error(text, f"unexpected {text[pos:].strip()[:10]!r}")
        pos = m.end()
        tick, number, name, op = m.groups()
        out.append(("name", tick[1:-1]) if tick else ("num", float(number)) if number else
                   ("name", name) if name else ("op", op))
    return out


def _side(tokens, text: str, names: list[str]) -> tuple[np.ndarray, float]:
    """sum of [+-] term, term = number | name | number * name | name * number."""
    row, const, i = np.zeros(len(names)), 0.0, 0
    if not tokens:
        raise _hyp_error(text, "a side of '=' is empty")
    while i < len(tokens):
        sign = 1.0
        while i < len(tokens) and tokens[i][0] == "op" and tokens[i][1] in "+-":
            sign *= -1.0 if tokens[i][1] == "-" else 1.0
            i += 1
        factor, name = 1.0, None
        for _ in range(2):  # at most one number and one name, joined by '*'
            if i >= len(tokens) or tokens[i][0] == "op":
                raise _hyp_error(text, "an operator is not followed by a term")
            kind, value = tokens[i]
            if kind == "num":
                factor *= value
            elif name is None:
                name = value
            else:
                raise _hyp_error(text, "the product of two coefficients is not linear")
            i += 1
            if i < len(tokens) and tokens[i] == ("op", "*"):
                i += 1
                continue
            break
        if name is None:
            const += sign * factor
            continue
        if name not in names:
            raise SpecError(Problem("hypothesis", f"{name!r} is not a coefficient of this result.",
                                    fix=f"Use one of {names}.", code="bad_hypothesis"))
        row[names.index(name)] += sign * factor
        if i < len(tokens) and not (tokens[i][0] == "op" and tokens[i][1] in "+-"):
            raise _hyp_error(text, "terms must be joined by + or -")
    return row, const


def parse_hypothesis(text: str, names: Sequence[str]) -> tuple[np.ndarray, float]:
    """One linear restriction ``R b = r`` from text such as ``"x1 = x2"``: returns (R's row, r)."""
    names = list(names)
    tokens = _tokens(text)
    cut = [i for i, t in enumerate(tokens) if t == ("op", "=")]
    if len(cut) != 1:
        raise _hyp_error(text, "it needs exactly one '='")
    left, lc = _side(tokens[:cut[0]], text, names)
    right, rc = _side(tokens[cut[0] + 1:], text, names)
    row = left - right
    if not row.any():
        raise _hyp_error(text, "it restricts no coefficient")
    return row, rc - lc


class ResultAccessors:
    """Mixed into :class:`~causalspec.result.Result`: the statsmodels / pyfixest names for its numbers."""

    coefficients: tuple
    vcov_terms: tuple
    vcov_matrix: tuple

    def _series(self, attr: str) -> pd.Series:
        return pd.Series({e.term: float(getattr(e, attr)) for e in self.coefficients}, name=attr)

    @property
    def params(self) -> pd.Series:
        """Coefficients by R term name (statsmodels ``params``, pyfixest ``coef()``)."""
        return self._series("estimate")

    @property
    def bse(self) -> pd.Series:
        """Standard errors under the plan's variance (statsmodels ``bse``, pyfixest ``se()``)."""
        return self._series("std_error")

    @property
    def tvalues(self) -> pd.Series:
        return self._series("statistic")

    @property
    def pvalues(self) -> pd.Series:
        return self._series("p_value")

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Confidence intervals at ``level`` (default: the plan's), columns ``conf_low`` / ``conf_high``.

        At the plan's level these are the table's intervals; at another level each is estimate +- q * SE with
        the quantile of the same reference distribution (t with the row's df, or normal when df is infinite).
        A row without a standard error (a permutation p-value, for example) keeps NaN."""
        plan_level = self.plan.vcov.level
        if level is None or math.isclose(level, plan_level):
            return pd.DataFrame({"conf_low": self._series("conf_low"), "conf_high": self._series("conf_high")})
        if not 0 < level < 1:
            raise SpecError(Problem("level", f"level must be between 0 and 1, not {level}.",
                                    fix="Use for example 0.9 or 0.99.", code="bad_level"))
        low, high = {}, {}
        for e in self.coefficients:
            q = stats.norm.ppf(0.5 + level / 2) if not math.isfinite(e.df) else stats.t.ppf(0.5 + level / 2, e.df)
            low[e.term], high[e.term] = e.estimate - q * e.std_error, e.estimate + q * e.std_error
        return pd.DataFrame({"conf_low": pd.Series(low), "conf_high": pd.Series(high)})

    def wald(self, hypotheses: str | Sequence[str]) -> dict:
        """Wald test of one or several linear restrictions jointly, with the plan's variance.

        ``F = (Rb - r)' (R V R')^-1 (Rb - r) / q`` on (q, df2) degrees of freedom, df2 the model's residual
        degrees of freedom (``df_residual`` in the diagnostics; the t tests' df when the model has none; an
        infinite df gives the chi-square form).  Matches ``car::linearHypothesis(fit, hyps, vcov. = V,
        test = "F")`` and statsmodels' ``f_test`` with the same covariance.

        >>> result.wald("x1 = x2")                 # doctest: +SKIP
        >>> result.wald(["x1 = 0", "x2 = 0"])      # joint
        """
        hyps = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
        if not hyps:
            raise SpecError(Problem("hypothesis", "no hypothesis was given.", fix='Pass e.g. "x1 = x2".',
                                    code="bad_hypothesis"))
        names = list(self.vcov_terms)
        params = self.params
        b = np.array([params.get(n, np.nan) for n in names])
        V = np.asarray(self.vcov_matrix, dtype=float)
        rows = [parse_hypothesis(h, names) for h in hyps]
        R = np.vstack([r for r, _ in rows])
        r = np.array([c for _, c in rows])
        if np.linalg.matrix_rank(R) < len(rows):
            raise SpecError(Problem("hypothesis", "the hypotheses are not linearly independent.",
                                    fix="Remove the ones implied by the others.", code="bad_hypothesis"))
        diff = R @ b - r
        stat = float(diff @ linalg.solve(R @ V @ R.T, diff, assume_a="sym")) / len(rows)
        df2 = dict(self.fit_stats).get("df_residual", self.effect.df)
        q = len(rows)
        if math.isfinite(df2):
            p = float(stats.f.sf(stat, q, df2))
        else:
            p = float(stats.chi2.sf(stat * q, q))
        return {"hypotheses": hyps, "statistic": stat, "p_value": p, "df1": q,
                "df2": float(df2), "test": "F" if math.isfinite(df2) else "chi2 / q",
                "vcov": self.plan.vcov.r_equivalent}

    def cov_params(self) -> pd.DataFrame:
        """The variance-covariance matrix of the coefficients (statsmodels' name; the same as ``vcov()``)."""
        return self.vcov()

    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Fitted values of the estimation rows (``newdata=None``) or predictions for the rows of ``newdata``.

        Offered for regression models from the formula (``ols``, ``did_2x2``: R's ``predict.lm``) and fixed-effects
        models (``feols``, ``twfe``: ``fixest::predict``, ``X b`` plus each row's fixed effects).  New rows are
        coded with the fit's terms and factor levels; a factor level the fit did not see is refused (located
        error naming the column and level), a fixed-effect level it did not estimate gives NaN with a warning, a
        row with a missing value gives NaN.  Other designs are refused with the reason (a synthetic control or
        a regression discontinuity has no model of the outcome to predict from).  The result is a Series
        indexed by the estimation rows' or ``newdata``'s index.

        >>> result.predict()                        # doctest: +SKIP
        >>> result.predict(new_rows)                # doctest: +SKIP
        """
        return _predict.predict(self, newdata)

    def fixef(self) -> dict[str, pd.Series]:
        """The fixed-effect values of a fixed-effects fit: fixed-effect name -> Series indexed by level.

        Matches ``fixest::fixef(fit)``: the least-squares coefficients of ``y - X b`` on the fixed effects, with
        fixest's references (per connected component, the second fixed effect's level of the first row is 0;
        see ``causalspec.estimators.fixest._fixef``).  Recomputed from the data the result holds (nothing extra
        is stored with the result); a result read back from JSON has no data and says so.

        >>> result.fixef()["year"]                  # doctest: +SKIP
        """
        return _predict.fixef(self)

    def cate(self, frame: pd.DataFrame | None = None) -> np.ndarray:
        """Per-unit CATE predictions of the plan's CATE learner (``heterogeneity.learner`` dr, t, s, x or r), for
        ``frame`` (new rows with the modifier and adjustment columns) or, left out, for the rows fitted.

        The learner is refitted from the plan's seed on the data this Result was fitted on (the same fit, bit for
        bit; the Result keeps data, not fitted models, so it pickles), then predicts."""
        hp = getattr(self.plan, "heterogeneity", None)
        if hp is None:
            raise SpecError(Problem("heterogeneity.learner", "this result has no CATE learner.",
                                    fix="Set heterogeneity.learner to dr (or t, s, x, r) in the spec.",
                                    code="no_cate_learner"))
        data = getattr(self, "_data", None)
        if data is None:
            raise SpecError(Problem("heterogeneity", "this result was read back, not fitted: it has no data to "
                                    "refit the CATE model on.", fix="Fit the spec again.", code="no_cate_learner"))
        from_rows = data.dropna(subset=list(dict.fromkeys(self.plan.columns)))
        return cate_for(hp, from_rows, from_rows if frame is None else frame, self.plan.treatment, self.plan.outcome)

    # ---------------------------------------------------------------- display
    def __repr__(self) -> str:
        e = self.effect
        return (f"<causalspec Result {self.plan.name!r}: {self.plan.treatment} -> {self.plan.outcome}, "
                f"{self.plan.estimand} {e.estimate:.6g} (SE {e.std_error:.3g}), n = {self.nobs}, "
                f"{self.plan.estimator.value}>")

    def _repr_html_(self) -> str:
        e = self.effect
        pct = f"{self.plan.vcov.level:.0%}"
        head = (f"<p><b>{html.escape(self.plan.name)}</b>: {html.escape(self.plan.estimand)} of "
                f"<code>{html.escape(self.plan.treatment)}</code> on <code>{html.escape(self.plan.outcome)}</code> "
                f"= <b>{e.estimate:.6g}</b> (SE {e.std_error:.4g}, {pct} CI {e.conf_low:.6g} to "
                f"{e.conf_high:.6g}); naive {self.naive.estimate:.6g}; n = {self.nobs}</p>")
        table = self.tidy().to_html(index=False, float_format=lambda v: f"{v:.6g}", border=0)
        warn = "".join(f"<p>&#9888; {html.escape(w)}</p>" for w in self.warnings)
        return f"<div class='causalspec-result'>{head}{warn}{table}</div>"

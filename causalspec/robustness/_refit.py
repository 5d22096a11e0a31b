"""Refits for the refutation tests: the plan's effect re-estimated on altered data (a placebo treatment, an extra
random covariate, rows left out), fast for OLS plans and through ``causalspec.fit`` for the rest."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular

from causalspec.designs import check_weights, complete_cases, fit
from causalspec.formula import materialize, quote_name
from causalspec.planner import Estimator, SensitivityPlan

__all__ = ["Engine", "RANDOM", "with_column"]


class Engine:
    """Re-estimates the plan's effect on altered data.  OLS plans use one design matrix (rows scaled by the square
    root of the weights when the spec has weights) and numpy linear algebra, the same numbers as ``fit``; other
    estimators go through ``causalspec.fit``.  ``estimate`` only reads the engine, so replications can run in
    threads."""

    def __init__(self, result, data: pd.DataFrame):
        self.plan = replace(result.plan, sensitivity=SensitivityPlan(False, "refutation refit"), heterogeneity=None)
        # the refits see the fit's rows; the DAG's measured nodes come along (fit checks the data has them)
        carry = (*getattr(self.plan.settings, "partial_columns", ()),
                 *(d.node for d in self.plan.decisions if d.role != "latent" and d.node in data.columns))
        self.frame, _ = complete_cases(data, tuple(dict.fromkeys(self.plan.columns)), tuple(dict.fromkeys(carry)))
        if self.plan.weights is not None:  # fit drops zero-weight rows; permutations and subsets range over the rest
            self.frame, _ = check_weights(self.frame, self.plan.weights)
        self.fast = self.plan.estimator is Estimator.OLS
        self.q = self.subsets = None
        if self.fast:
            d = materialize(self.plan.formula, self.frame)
            self.j = list(d.terms).index(result.effect.term)
            self.sw = None if self.plan.weights is None else np.sqrt(self.frame[self.plan.weights].to_numpy(float))
            self.d = d.X[:, self.j].copy()  # the treatment column before weighting, which permutations shuffle
            self.X, self.y = (d.X, d.y) if self.sw is None else (d.X * self.sw[:, None], d.y * self.sw)
            self._partial_out()

    def _scaled(self, v: np.ndarray) -> np.ndarray:
        return v if self.sw is None else v * self.sw

    def _partial_out(self) -> None:
        """Frisch-Waugh-Lovell: an orthonormal basis Q of the other regressors (when they have full rank), and
        the outcome and treatment with them partialled out, so each permuted or augmented refit is two n-vector
        projections instead of a least-squares fit of the whole design."""
        others = [i for i in range(self.X.shape[1]) if i != self.j]
        if not others:
            return
        q, _, ok = _orthonormal(self.X[:, others])
        if not ok:
            return  # an aliased covariate: the general least squares below
        self.q = q
        self.ry = self._residual(self.y)
        self.rd = self._residual(self.X[:, self.j])

    def _residual(self, v: np.ndarray) -> np.ndarray:
        return v - self.q @ (self.q.T @ v)

    def prepare_subsets(self) -> None:
        """The whole design's thin QR, X = Q R, for refits on row subsets S: with C the rows left out,
        Q_S'Q_S = I - Q_C'Q_C and Q_S'y_S = Q'y - Q_C'y_C, so a subset of 80% of the rows costs a pass over the
        other 20%.  The k x k system is solved in Q's coordinates, where it is well conditioned."""
        if self.fast and self.subsets is None:
            q, r, ok = _orthonormal(self.X)
            if ok:
                self.subsets = (q, r, q.T @ self.y)

    def _subset(self, left_out: np.ndarray) -> float | None:
        q, r, qty = self.subsets
        left_out = np.sort(left_out)  # a gather in row order: half the time of a random one
        qc = np.take(q, left_out, axis=0)
        m = np.eye(q.shape[1]) - qc.T @ qc
        if np.linalg.eigvalsh(m).min() <= 1e-8:  # the kept rows lose a regressor (a dummy left out entirely)
            return None
        gamma = np.linalg.solve(m, qty - qc.T @ np.take(self.y, left_out))
        return float(solve_triangular(r, gamma)[self.j])

    # estimate on the plan's own rows with a transformed treatment column / extra column / rows left out
    def treatment_values(self) -> np.ndarray:
        """The treatment column a placebo test permutes: the design's column on the fast path, else the data's."""
        return self.d if self.fast else self.frame[self.plan.treatment].to_numpy()

    def estimate(self, *, treatment=None, extra=None, left_out=None) -> float:
        """The effect re-estimated with ``treatment`` (new values of ``treatment_values()``), an ``extra``
        regressor, or the rows ``left_out`` (positions) removed."""
        given = sum(v is not None for v in (treatment, extra, left_out))
        if self.fast and given == 1:
            if treatment is not None and self.q is not None:
                # (M v)'(M y) / |M v|^2 = v'ry / (v'v - |Q'v|^2) for the placebo treatment v, M = I - QQ'
                v = self._scaled(np.asarray(treatment, dtype=float))
                t = self.q.T @ v
                vv = v @ v
                den = vv - t @ t
                if den > 1e-6 * vv:  # else the subtraction would lose digits: the explicit residual
                    return float((v @ self.ry) / den)
                rd = self._residual(v)
                return float((rd @ self.ry) / (rd @ rd))
            if extra is not None and self.q is not None:  # the treatment's coefficient beside the new column z:
                z = self._scaled(np.asarray(extra, dtype=float))  # with Mz's inner products read off Q'z
                t = self.q.T @ z
                zz = z @ z
                ee = zz - t @ t
                if not ee > 1e-6 * zz:  # z (nearly) in the other regressors' span: the explicit residual
                    re = self._residual(z)
                    ee = re @ re
                gram = np.array([[self.rd @ self.rd, self.rd @ z], [self.rd @ z, ee]])
                return float(np.linalg.solve(gram, [self.rd @ self.ry, z @ self.ry])[0])
            if left_out is not None and self.subsets is not None:
                value = self._subset(left_out)
                if value is not None:
                    return value
        rows = None
        if left_out is not None:
            keep = np.ones(len(self.frame), dtype=bool)
            keep[left_out] = False
            rows = np.flatnonzero(keep)
        if self.fast:
            X, y = self.X, self.y
            if treatment is not None:
                X = X.copy()
                X[:, self.j] = self._scaled(np.asarray(treatment, dtype=float))
            if extra is not None:
                X = np.column_stack([X, self._scaled(np.asarray(extra, dtype=float))])
            if rows is not None:
                X, y = X[rows], y[rows]
            coef, *_ = np.linalg.lstsq(X, y, rcond=None)
            return float(coef[self.j])
        frame, plan = self.frame, self.plan
        if treatment is not None:
            frame = frame.copy()
            frame[plan.treatment] = treatment
        if extra is not None:
            frame, plan = with_column(frame, plan, extra)
        if rows is not None:
            frame = frame.iloc[rows]
        return float(fit(plan, frame).effect.estimate)


def _orthonormal(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Z's thin QR factors Q and R, and whether Z has full column rank (no |R_jj| below 1e-7 of its column's
    norm)."""
    q, r = np.linalg.qr(Z)
    norms = np.sqrt(np.einsum("ij,ij->j", Z, Z))
    return q, r, not np.any(np.abs(np.diag(r)) <= 1e-7 * np.where(norms > 0, norms, 1.0))


RANDOM = "causalspec_random_common_cause"


def with_column(frame: pd.DataFrame, plan, values):
    name = RANDOM
    while name in frame.columns:
        name += "_"
    frame = frame.assign(**{name: values})
    term = quote_name(name)
    return frame, replace(plan, formula=f"{plan.formula} + {term}", settings=plan.settings.with_regressor(name),
                          columns=(*plan.columns, name))

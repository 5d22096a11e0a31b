"""Two-period panel DiD estimators of the ATT with their influence functions, as ``did::att_gt`` uses them.

These are the 2x2 building blocks ``did::att_gt`` calls for every (g, t) cell
with panel data: the doubly robust ``DRDID::drdid_panel``, the normalised IPW
``DRDID::std_ipw_did_panel`` and the outcome-regression ``DRDID::reg_did_panel``
(DRDID 1.2.3).  The numerics live in :mod:`causalspec.estimators.drdid`; here each
cell returns the point estimate and the influence function of every unit in the
cell, which did scales so that ``se = sqrt(mean(psi**2) / n)``.
"""

from __future__ import annotations

import numpy as np

from causalspec.estimators.drdid import DrDidFailure, fit_logit
from causalspec.estimators.drdid._nuisance import rcond as _rcond  # noqa: F401  (_attgt imports it from here)
from causalspec.estimators.drdid._panel import reg_panel, std_ipw_panel, trad_panel

__all__ = ["Cell2x2", "fit_logit", "drdid_panel", "std_ipw_did_panel", "reg_did_panel", "CellFailure"]

# The 2x2 estimator cannot be computed on this cell (did then reports ATT(g,t) as NA).
CellFailure = DrDidFailure


class Cell2x2:
    """The inputs of one 2x2 comparison: outcome change, treated flag, covariates, weights."""

    __slots__ = ("dy", "d", "x", "w")

    def __init__(self, y1: np.ndarray, y0: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray | None = None):
        self.dy = np.asarray(y1, dtype=float) - np.asarray(y0, dtype=float)
        self.d = np.asarray(d, dtype=float)
        self.x = np.asarray(x, dtype=float).reshape(self.d.shape[0], -1)
        w = np.ones_like(self.d) if w is None else np.asarray(w, dtype=float)
        # DRDID normalises the weights to mean one.
        self.w = w / w.mean()

    def with_covariates(self, x: np.ndarray) -> "Cell2x2":
        """The same cell with another covariate matrix."""
        other = Cell2x2.__new__(Cell2x2)
        other.dy, other.d, other.w = self.dy, self.d, self.w
        other.x = np.asarray(x, dtype=float)
        return other


def drdid_panel(c: Cell2x2, trim_level: float = 0.995, logit=None) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD ATT with panel data.

    Matches DRDID::drdid_panel (DRDID 1.2.3), the estimator did::att_gt uses for est_method = "dr".
    Sant'Anna & Zhao (2020), "Doubly robust difference-in-differences estimators", eq. (3.1).
    """
    res = trad_panel(c.dy, c.d, c.x, c.w, trim_level, logit)
    return res.att, res.influence


def std_ipw_did_panel(c: Cell2x2, trim_level: float = 0.995, logit=None) -> tuple[float, np.ndarray]:
    """Normalised (Hajek) inverse-probability-weighted DiD ATT with panel data.

    Matches DRDID::std_ipw_did_panel (DRDID 1.2.3), used by did::att_gt for est_method = "ipw".
    Abadie (2005), "Semiparametric difference-in-differences estimators"; Sant'Anna & Zhao (2020).
    """
    res = std_ipw_panel(c.dy, c.d, c.x, c.w, trim_level, logit)
    return res.att, res.influence


def reg_did_panel(c: Cell2x2) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD ATT with panel data.

    Matches DRDID::reg_did_panel (DRDID 1.2.3), used by did::att_gt for est_method = "reg".
    Heckman, Ichimura & Todd (1997); Sant'Anna & Zhao (2020), section 2.
    """
    x = c.x
    # did's covariate matrix always starts with the intercept; add one when a caller's does not.
    if not np.all(x[:, 0] == 1.0):
        x = np.column_stack([np.ones(x.shape[0]), x])
    res = reg_panel(c.dy, c.d, x, c.w)
    return res.att, res.influence

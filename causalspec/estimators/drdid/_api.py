"""The five estimators for either data layout: the inputs checked once, then the panel or the repeated
cross-section kernel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalspec.estimators.drdid import _panel, _rc
from causalspec.estimators.drdid._nuisance import DrDidFailure, DrDidResult, normalised_weights

__all__ = ["PanelData", "CrossSections", "panel_data", "cross_sections", "drdid_imp", "drdid_trad", "ipw_did",
           "std_ipw_did", "reg_did", "METHODS"]


@dataclass(frozen=True, eq=False)
class PanelData:
    """Two periods of the same units: outcome change ``dy = y1 - y0``, group ``d``, covariates ``x`` (intercept
    first) and weights normalised to mean one (DRDID's ``i.weights / mean(i.weights)``)."""

    dy: np.ndarray
    d: np.ndarray
    x: np.ndarray
    w: np.ndarray


@dataclass(frozen=True, eq=False)
class CrossSections:
    """Repeated cross-sections: one row per observation with its outcome, 0/1 period ``post``, group ``d``,
    covariates ``x`` (intercept first) and weights normalised to mean one."""

    y: np.ndarray
    post: np.ndarray
    d: np.ndarray
    x: np.ndarray
    w: np.ndarray


def _binary(v, n: int, what: str) -> np.ndarray:
    v = np.asarray(v, dtype=float).reshape(-1)
    if v.shape != (n,):
        raise DrDidFailure(f"{what} has {v.shape[0]} values for {n} observations")
    if not np.all((v == 0.0) | (v == 1.0)):
        raise DrDidFailure(f"{what} must be 0 or 1")
    return v


def _covariates(x, n: int) -> np.ndarray:
    if x is None:
        return np.ones((n, 1))
    x = np.asarray(x, dtype=float).reshape(n, -1)
    if not np.all(np.isfinite(x)):
        raise DrDidFailure("the covariates must be finite")
    return x


def panel_data(y1, y0, d, x=None, w=None) -> PanelData:
    """Check and bundle panel inputs (one row per unit; ``x=None`` means an intercept only)."""
    dy = np.asarray(y1, dtype=float).reshape(-1) - np.asarray(y0, dtype=float).reshape(-1)
    n = dy.shape[0]
    d = _binary(d, n, "the group indicator")
    if d.min() == d.max():
        raise DrDidFailure("the group indicator is constant: there must be treated and comparison units")
    if not np.all(np.isfinite(dy)):
        raise DrDidFailure("the outcomes must be finite")
    return PanelData(dy, d, _covariates(x, n), normalised_weights(w, n))


def cross_sections(y, post, d, x=None, w=None) -> CrossSections:
    """Check and bundle repeated cross-section inputs (one row per observation)."""
    y = np.asarray(y, dtype=float).reshape(-1)
    n = y.shape[0]
    post, d = _binary(post, n, "the post-period indicator"), _binary(d, n, "the group indicator")
    for g in (0.0, 1.0):
        for t in (0.0, 1.0):
            if not np.any((d == g) & (post == t)):
                raise DrDidFailure(f"no {'treated' if g else 'comparison'} observations in the "
                                   f"{'post' if t else 'pre'}-treatment period")
    if not np.all(np.isfinite(y)):
        raise DrDidFailure("the outcomes must be finite")
    return CrossSections(y, post, d, _covariates(x, n), normalised_weights(w, n))


def _check_trim(trim_level: float) -> None:
    if not 0.0 < trim_level <= 1.0:
        raise DrDidFailure(f"trim_level must be in (0, 1], not {trim_level!r}")


def drdid_imp(data: PanelData | CrossSections, trim_level: float = 0.995) -> DrDidResult:
    """Improved locally efficient DR-DiD (propensity score by inverse probability tilting, weighted least squares).

    Matches DRDID::drdid(estMethod = "imp") (DRDID 1.2.3: drdid_imp_panel / drdid_imp_rc); Sant'Anna & Zhao (2020).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = np.column_stack([np.ones(400), rng.normal(size=400)])
    >>> d = (rng.uniform(size=400) < 1 / (1 + np.exp(-x[:, 1]))).astype(float)
    >>> y0 = x[:, 1] + rng.normal(size=400)
    >>> res = drdid_imp(panel_data(y0 + 1 + 2 * d, y0, d, x))
    >>> round(res.att, 1)
    2.0
    """
    _check_trim(trim_level)
    if isinstance(data, PanelData):
        return _panel.imp_panel(data.dy, data.d, data.x, data.w, trim_level)
    return _rc.imp_rc(data.y, data.post, data.d, data.x, data.w, trim_level)


def drdid_trad(data: PanelData | CrossSections, trim_level: float = 0.995) -> DrDidResult:
    """Traditional locally efficient DR-DiD (logit propensity score, OLS outcome regressions).

    Matches DRDID::drdid(estMethod = "trad") (DRDID 1.2.3: drdid_panel / drdid_rc); Sant'Anna & Zhao (2020).
    """
    _check_trim(trim_level)
    if isinstance(data, PanelData):
        return _panel.trad_panel(data.dy, data.d, data.x, data.w, trim_level)
    return _rc.trad_rc(data.y, data.post, data.d, data.x, data.w, trim_level)


def ipw_did(data: PanelData | CrossSections, trim_level: float = 0.995) -> DrDidResult:
    """Abadie's (2005) inverse-probability-weighted DiD, weights not normalised (Horvitz-Thompson).

    Matches DRDID::ipwdid(normalized = FALSE) (DRDID 1.2.3: ipw_did_panel / ipw_did_rc).
    """
    _check_trim(trim_level)
    if isinstance(data, PanelData):
        return _panel.ipw_panel(data.dy, data.d, data.x, data.w, trim_level)
    return _rc.ipw_rc(data.y, data.post, data.d, data.x, data.w, trim_level)


def std_ipw_did(data: PanelData | CrossSections, trim_level: float = 0.995) -> DrDidResult:
    """Standardised (Hajek) inverse-probability-weighted DiD: the weights of each group sum to one.

    Matches DRDID::ipwdid(normalized = TRUE) (DRDID 1.2.3: std_ipw_did_panel / std_ipw_did_rc); Abadie (2005).
    """
    _check_trim(trim_level)
    if isinstance(data, PanelData):
        return _panel.std_ipw_panel(data.dy, data.d, data.x, data.w, trim_level)
    return _rc.std_ipw_rc(data.y, data.post, data.d, data.x, data.w, trim_level)


def reg_did(data: PanelData | CrossSections) -> DrDidResult:
    """Outcome-regression DiD (no propensity score, so no trimming).

    Matches DRDID::ordid (DRDID 1.2.3: reg_did_panel / reg_did_rc); Heckman, Ichimura & Todd (1997).
    """
    if isinstance(data, PanelData):
        return _panel.reg_panel(data.dy, data.d, data.x, data.w)
    return _rc.reg_rc(data.y, data.post, data.d, data.x, data.w)


# the estimators by the name design.drdid_method gives them
METHODS = {"imp": drdid_imp, "trad": drdid_trad, "ipw": ipw_did, "std_ipw": std_ipw_did, "reg": reg_did}

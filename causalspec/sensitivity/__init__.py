"""Sensitivity analysis: how strong would hidden bias have to be to change the conclusion?

Numbers only (plots live in :mod:`causalspec.sensitivity` too, but never compute anything):

* omitted-variable bias in the partial-R² parameterisation (Cinelli & Hazlett 2020; matches
  ``sensemakr`` 0.1.6): :func:`partial_r2`, :func:`robustness_value`, bias-adjusted
  estimates, benchmark bounds, :func:`sensemakr`, :func:`sensemakr_from_data`, contour grids;
* E-values (VanderWeele & Ding 2017; matches ``EValue`` 4.1.3): :func:`evalue_rr` and friends;
* coefficient stability (Oster 2019): :func:`oster_delta`, :func:`oster_beta`;
* Rosenbaum bounds for matched pairs (Rosenbaum 2002): :func:`rosenbaum_wilcoxon`,
  :func:`rosenbaum_sign`, :func:`rosenbaum_gamma`.
"""

from ._bounds import Benchmark, PartialR2Bound, ovb_partial_r2_bound
from ._from_data import sensemakr_from_data
from ._ovb import (
    adjusted_ci,
    adjusted_estimate,
    adjusted_se,
    adjusted_t,
    bias,
    extreme_robustness_value,
    group_partial_r2,
    partial_f2,
    partial_r2,
    robustness_value,
)
from ._sensemakr import BoundRow, SensitivityResult, sensemakr

__all__ = [
    "Benchmark",
    "PartialR2Bound",
    "BoundRow",
    "SensitivityResult",
    "partial_r2",
    "partial_f2",
    "group_partial_r2",
    "robustness_value",
    "extreme_robustness_value",
    "bias",
    "adjusted_estimate",
    "adjusted_se",
    "adjusted_t",
    "adjusted_ci",
    "ovb_partial_r2_bound",
    "sensemakr",
    "sensemakr_from_data",
]

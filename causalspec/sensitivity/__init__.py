"""Sensitivity analysis: how strong would hidden bias have to be to change the conclusion?

* Omitted-variable bias in the partial-R² parameterisation (Cinelli & Hazlett 2020; matches
  ``sensemakr`` 0.1.6): :func:`partial_r2`, :func:`robustness_value`, bias-adjusted
  estimates, benchmark bounds, :func:`sensemakr`, :func:`sensemakr_from_data`, contour grids
  (:func:`contour_grid`) and plots (:func:`contour_plot`, :func:`extreme_plot`).
* E-values (VanderWeele & Ding 2017; matches ``EValue`` 4.1.3): :func:`evalue_rr`,
  :func:`evalue_or`, :func:`evalue_hr`, :func:`evalue_md`, :func:`evalue_ols`, :func:`evalue_rd`.
* Coefficient stability (Oster 2019): :func:`oster_delta`, :func:`oster_beta`.
* Parallel-trends sensitivity for event studies (Rambachan & Roth 2023; matches ``HonestDiD``'s documented
  examples): :func:`relative_magnitudes` (Delta^RM, conditional least-favourable hybrid confidence sets),
  :func:`smoothness` (Delta^SD, optimal fixed-length confidence intervals, :func:`flci`).
* Rosenbaum bounds for matched pairs (Rosenbaum 2002): :func:`rosenbaum_wilcoxon`,
  :func:`rosenbaum_sign`, :func:`rosenbaum_gamma`.

Every function takes numbers (or small arrays) and returns numbers or frozen dataclasses;
plots take ``ax=`` and return the Axes they drew (never shown).
"""

from causalspec.sensitivity._bounds import Benchmark, PartialR2Bound, ovb_partial_r2_bound
from causalspec.sensitivity._contour import ContourGrid, ExtremeGrid, contour_grid, contour_grid_for, extreme_grid, extreme_grid_for
from causalspec.sensitivity._evalue import (
    EValueResult,
    RDEValueResult,
    evalue,
    evalue_hr,
    evalue_md,
    evalue_ols,
    evalue_or,
    evalue_rd,
    evalue_rr,
)
from causalspec.sensitivity._factor import regressions_from_factor
from causalspec.sensitivity._from_data import (
    Regressions,
    regressions_from_data,
    regressions_from_design,
    regressions_from_formula,
    sensemakr_from_data,
    sensemakr_from_formula,
    sensemakr_from_regressions,
)
from causalspec.sensitivity._flci import FLCIResult, flci
from causalspec.sensitivity._honest_did import (
    HonestRow,
    ParallelTrendsSensitivity,
    relative_magnitudes,
    smoothness,
    smoothness_m_upper,
)
from causalspec.sensitivity._oster import OsterInputs, OsterResult, oster_beta, oster_beta_approx, oster_delta, oster_from_data
from causalspec.sensitivity._ovb import (
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
from causalspec.sensitivity._plots import contour_plot, extreme_plot, parallel_trends_plot
from causalspec.sensitivity._rosenbaum import RosenbaumResult, rosenbaum_gamma, rosenbaum_sign, rosenbaum_wilcoxon
from causalspec.sensitivity._sensemakr import BoundRow, SensitivityResult, sensemakr

__all__ = [
    # Cinelli-Hazlett omitted-variable bias
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
    "sensemakr_from_formula",
    "Regressions",
    "regressions_from_data",
    "regressions_from_design",
    "regressions_from_factor",
    "regressions_from_formula",
    "sensemakr_from_regressions",
    "ContourGrid",
    "ExtremeGrid",
    "contour_grid",
    "contour_grid_for",
    "extreme_grid",
    "extreme_grid_for",
    "contour_plot",
    "extreme_plot",
    "parallel_trends_plot",
    # E-values
    "EValueResult",
    "RDEValueResult",
    "evalue",
    "evalue_rr",
    "evalue_or",
    "evalue_hr",
    "evalue_md",
    "evalue_ols",
    "evalue_rd",
    # Oster
    "OsterInputs",
    "OsterResult",
    "oster_delta",
    "oster_beta",
    "oster_beta_approx",
    "oster_from_data",
    # Rambachan-Roth
    "FLCIResult",
    "HonestRow",
    "ParallelTrendsSensitivity",
    "flci",
    "relative_magnitudes",
    "smoothness",
    "smoothness_m_upper",
    # Rosenbaum
    "RosenbaumResult",
    "rosenbaum_wilcoxon",
    "rosenbaum_sign",
    "rosenbaum_gamma",
]

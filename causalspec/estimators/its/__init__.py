"""Interrupted time series kernels: the segmented-regression design and its effects, HAC covariances as sandwich
computes them (Newey-West with bwNeweyWest's automatic lag and VAR(1) prewhitening; panel Newey-West), AR(1) GLS
as nlme::gls, and the Breusch-Godfrey test as lmtest::bgtest.  Arrays in, frozen dataclasses out."""

from causalspec.estimators.its._bgtest import BGTest, breusch_godfrey
from causalspec.estimators.its._gls import AR1Fit, ar1_gls
from causalspec.estimators.its._hac import HAC, bw_newey_west, newey_west, panel_newey_west, var1_ols
from causalspec.estimators.its._segments import (
    Combination,
    SegmentedDesign,
    counterfactual_rows,
    effect_combinations,
    segment_names,
    segmented_design,
)

__all__ = ["AR1Fit", "BGTest", "Combination", "HAC", "SegmentedDesign", "ar1_gls", "breusch_godfrey",
           "bw_newey_west", "counterfactual_rows", "effect_combinations", "newey_west", "panel_newey_west",
           "segment_names", "segmented_design", "var1_ols"]

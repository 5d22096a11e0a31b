"""Regression discontinuity kernels: rdrobust's local polynomial estimator and bandwidth selectors, rddensity's
manipulation test and rdplot's binned means.  Arrays in, frozen dataclasses out.

* :func:`rdrobust` — conventional, bias-corrected and robust bias-corrected RD estimates (rdrobust::rdrobust);
* :func:`rddensity` — the local polynomial density test for manipulation of the running variable
  (rddensity::rddensity's default test);
* :func:`rdplot_bins` — the binned means of an RD plot with the number of bins rdplot selects.
"""

from causalspec.estimators.rd._bwselect import BWSELECT
from causalspec.estimators.rd._density import DensityTest, rddensity
from causalspec.estimators.rd._local import KERNELS
from causalspec.estimators.rd._rdplot import RDPlotBins, rdplot_bins
from causalspec.estimators.rd._rdrobust import LABELS, FirstStage, RDResult, rdrobust

__all__ = ["BWSELECT", "KERNELS", "LABELS", "DensityTest", "FirstStage", "RDPlotBins", "RDResult", "rddensity",
           "rdplot_bins", "rdrobust"]

"""Fixed-effects regression, IV and event-study estimators that match R's fixest.

Public entry points: :func:`feols` (OLS with absorbed fixed effects),
:func:`demean`, :func:`interact` (``fe1^fe2``), :func:`fit_stats`,
:func:`i_dummies` (fixest's ``i(var, treat, ref)``) and :func:`sunab`
(Sun & Abraham's interaction-weighted event study).  Variance estimators live in
``causalspec.inference`` (``fixest_vcov``); IV in ``causalspec.estimators._iv``.
"""

from causalspec.estimators.fixest._demean import FixedEffects, demean, interact
from causalspec.estimators.fixest._eventstudy import SunabDesign, i_dummies, sunab, sunab_aggregate, sunab_weights
from causalspec.estimators.fixest._feols import FixestFit, Sample, feols, fit_stats

__all__ = ["FixedEffects", "FixestFit", "Sample", "SunabDesign", "demean", "feols", "fit_stats", "i_dummies",
           "interact", "sunab", "sunab_aggregate", "sunab_weights"]

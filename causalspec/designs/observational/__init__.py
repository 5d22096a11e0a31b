"""The observational design: backdoor adjustment by OLS, the teffects estimators (RA, IPW, IPW-RA, AIPW, AIPW-WLS)
propensity-score matching or propensity-score regression."""

from causalspec.designs._family import Family
from causalspec.designs.observational.fit import fit_ols_adjustment
from causalspec.designs.observational.front_door import fit_front_door
from causalspec.designs.observational.plan import observational_vcov, plan_observational
from causalspec.designs.observational.matching import fit_matching
from causalspec.designs.observational.propensity import fit_weighting
from causalspec.designs.observational.ps_regression import fit_ps_regression
from causalspec.planner import Estimator

FAMILY = Family(
    type="observational",
    plan=plan_observational,
    fitters={Estimator.OLS: fit_ols_adjustment, Estimator.IPW: fit_weighting, Estimator.AIPW: fit_weighting,
             Estimator.RA: fit_weighting, Estimator.IPW_RA: fit_weighting, Estimator.AIPW_WLS: fit_weighting,
             Estimator.MATCHING: fit_matching, Estimator.PS_REGRESSION: fit_ps_regression,
             Estimator.FRONT_DOOR: fit_front_door},
    vcov=observational_vcov,
    compares_adjustment_sets=True,
    figures=("estimates", "sensitivity_contour", "overlap", "love"),
)

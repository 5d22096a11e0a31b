"""The regression discontinuity design (issue 16): rdrobust's local polynomial estimate with robust
bias-corrected inference, and its falsification tests after the fit (density, covariate balance, placebo
cutoffs, donut hole, bandwidths)."""

from causalspec.designs._family import Family
from causalspec.designs.regression_discontinuity.checks import falsification_check
from causalspec.designs.regression_discontinuity.fit import fit_rdrobust
from causalspec.designs.regression_discontinuity.plan import SENSITIVITY_OFF, plan_regression_discontinuity, rd_vcov
from causalspec.planner import Estimator


def rd_family_vcov(inference, plan):
    """The family's variance rule (also what ``Result.with_vcov`` uses): rdrobust's vce."""
    return rd_vcov(inference, plan.settings.nnmatch)


FAMILY = Family(
    type="regression_discontinuity",
    plan=plan_regression_discontinuity,
    fitters={Estimator.RDROBUST: fit_rdrobust},
    vcov=rd_family_vcov,
    checks=(falsification_check,),
    default_refutations=(),
    sensitivity_off=SENSITIVITY_OFF,
    figures=("estimates", "rd_plot", "rd_bandwidths"),
)

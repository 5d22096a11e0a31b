"""The regression discontinuity design (issue 16): planned from the spec, fitted by the estimator that matches the
reference implementation.  Until its planner lands, planning refuses the design with a located error."""

from causalspec.designs._family import Family
from causalspec.designs.regression_discontinuity.plan import not_implemented, plan_regression_discontinuity
from causalspec.planner import Estimator
from causalspec.planner._vcov import regression_vcov


def _vcov(inference, plan):
    return regression_vcov(inference)


FAMILY = Family(type="regression_discontinuity", plan=plan_regression_discontinuity, fitters={Estimator.RDROBUST: not_implemented}, vcov=_vcov, default_refutations=())

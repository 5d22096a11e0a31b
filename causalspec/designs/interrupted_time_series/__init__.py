"""The interrupted time series design (issue 16): planned from the spec, fitted by the estimator that matches the
reference implementation.  Until its planner lands, planning refuses the design with a located error."""

from causalspec.designs._family import Family
from causalspec.designs.interrupted_time_series.plan import not_implemented, plan_interrupted_time_series
from causalspec.planner import Estimator
from causalspec.planner._vcov import regression_vcov


def _vcov(inference, plan):
    return regression_vcov(inference)


FAMILY = Family(type="interrupted_time_series", plan=plan_interrupted_time_series, fitters={Estimator.SEGMENTED: not_implemented}, vcov=_vcov, default_refutations=())

"""The synthetic control design (issue 16): planned from the spec, fitted by the estimator that matches the
reference implementation.  Until its planner lands, planning refuses the design with a located error."""

from causalspec.designs._family import Family
from causalspec.designs.synthetic_control.plan import not_implemented, plan_synthetic_control
from causalspec.planner import Estimator
from causalspec.planner._vcov import regression_vcov


def _vcov(inference, plan):
    return regression_vcov(inference)


FAMILY = Family(type="synthetic_control", plan=plan_synthetic_control, fitters={Estimator.SYNTH: not_implemented}, vcov=_vcov, default_refutations=())

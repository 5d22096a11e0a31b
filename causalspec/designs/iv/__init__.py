"""The instrumental-variables design: two-stage least squares (fixest::feols IV, AER::ivreg)."""

from causalspec.designs._family import Family
from causalspec.designs.iv.fit import fit_iv
from causalspec.designs.iv.plan import plan_iv
from causalspec.planner import Estimator
from causalspec.planner._vcov import fixest_vcov_plan, iv_vcov_plan


def iv_vcov(inference, plan):
    fes = tuple(plan.settings.fixed_effects)
    return fixest_vcov_plan(inference, fes) if fes else iv_vcov_plan(inference)


FAMILY = Family(type="iv", plan=plan_iv, fitters={Estimator.IV_2SLS: fit_iv}, vcov=iv_vcov, model_formula=True)

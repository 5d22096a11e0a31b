"""The instrumental-variables design: two-stage least squares (fixest::feols IV, AER::ivreg)."""

from causalspec.designs._family import Family
from causalspec.designs.iv.fit import fit_iv
from causalspec.designs.iv.plan import iv_variance, plan_iv
from causalspec.planner import Estimator


def iv_vcov(inference, plan):
    return iv_variance(inference, tuple(plan.settings.fixed_effects))


FAMILY = Family(type="iv", plan=plan_iv, fitters={Estimator.IV_2SLS: fit_iv}, vcov=iv_vcov, model_formula=True)

"""The panel design: fixed-effects regression (fixest::feols), compared within units over time."""

from causalspec.designs._family import Family
from causalspec.designs._fixest import fixed_effects_of
from causalspec.designs.panel.fit import fit_feols
from causalspec.designs.panel.plan import plan_panel
from causalspec.planner import Estimator
from causalspec.planner._vcov import fixest_vcov_plan


def panel_vcov(inference, plan):
    """fixest's variances (iid, hetero, clusters) or estimatr's CR0 / CR2 / stata with fixed effects."""
    return fixest_vcov_plan(inference, tuple(plan.settings.fixed_effects))


FAMILY = Family(type="panel", plan=plan_panel, fitters={Estimator.FEOLS: fit_feols}, vcov=panel_vcov, model_formula=True)

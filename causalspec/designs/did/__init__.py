"""Difference in differences: the 2x2 regression, two-way fixed effects on a panel, or a two-period DR-DiD
(DRDID) with covariates on a panel or repeated cross-sections."""

from causalspec.designs._family import Family
from causalspec.designs.did.drdid import fit_drdid
from causalspec.designs.did.drdid_plan import drdid_vcov
from causalspec.designs.did.fit import fit_did_2x2
from causalspec.designs.did.plan import plan_did
from causalspec.designs.panel.fit import fit_feols
from causalspec.planner import Estimator
from causalspec.designs.did.settings import DrDidSettings
from causalspec.designs.panel.settings import PanelSettings
from causalspec.planner._vcov import fixest_vcov_plan, regression_vcov


def did_vcov(inference, plan):
    if isinstance(plan.settings, DrDidSettings):  # DRDID's influence-function SE, nothing else
        return drdid_vcov(inference, plan.settings.panel, plan.settings.unit)
    if isinstance(plan.settings, PanelSettings):  # two-way fixed effects
        return fixest_vcov_plan(inference, tuple(plan.settings.fixed_effects))
    return regression_vcov(inference)


FAMILY = Family(
    type="did", plan=plan_did, fitters={Estimator.DID_2X2: fit_did_2x2, Estimator.TWFE: fit_feols,
                                   Estimator.DRDID: fit_drdid}, vcov=did_vcov,
    default_refutations=("placebo_treatment", "random_common_cause", "data_subsets", "placebo_date"), model_formula=True)

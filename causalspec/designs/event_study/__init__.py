"""Event studies: TWFE with relative-time dummies, Sun & Abraham (2021), Callaway & Sant'Anna (2021)."""

from causalspec.designs._family import Family
from causalspec.designs.event_study.callaway_santanna import fit_callaway_santanna
from causalspec.designs.event_study.fit import fit_event_study
from causalspec.designs.event_study.plan import CS_ANALYTIC_SES, plan_event_study
from causalspec.planner import Estimator, VcovPlan
from causalspec.planner._vcov import fixest_vcov_plan, unsupported_vcov


def event_study_vcov(inference, plan):
    s = plan.settings
    if plan.estimator is Estimator.CALLAWAY_SANTANNA:
        if inference.vcov is not None:
            raise unsupported_vcov(inference.vcov, "Callaway & Sant'Anna", "only did's influence-function variance "
                                   "(clustered by unit)", fix="Leave inference.vcov out.")
        return VcovPlan("influence_function", (s.unit,), inference.level, CS_ANALYTIC_SES)
    return fixest_vcov_plan(inference, (s.unit, s.time))


FAMILY = Family(
    type="event_study", plan=plan_event_study,
    fitters={Estimator.EVENT_STUDY: fit_event_study, Estimator.SUN_ABRAHAM: fit_event_study,
             Estimator.CALLAWAY_SANTANNA: fit_callaway_santanna},
    vcov=event_study_vcov,
    default_refutations=("placebo_treatment", "random_common_cause", "data_subsets", "placebo_date"),
    figures=("estimates", "event_study"), model_formula=True, event_study_coefficients=True)

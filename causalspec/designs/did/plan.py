"""Planning difference in differences: the 2x2 regression, or two-way fixed effects on a panel."""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs._fixest import design_estimand, fixed_effects_of
from causalspec.errors import Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator, Identification, Strategy
from causalspec.planner._vcov import regression_vcov
from causalspec.designs.panel.plan import plan_panel
from causalspec.designs.did.drdid_plan import plan_drdid, refuse_drdid_options
from causalspec.designs.did.settings import DiDSettings
from causalspec.spec.panel import PanelDesign


def plan_did(spec, dag: DAG) -> dict:
    estimand = design_estimand(spec, "difference in differences", "ATT")
    d = spec.design
    estimator = d.estimator
    if estimator == "auto":
        estimator = "2x2" if d.post is not None else "twfe"
    if estimator == "drdid":
        return plan_drdid(spec, dag, estimand)
    refuse_drdid_options(d, estimator)
    if estimator == "2x2":
        if d.post is None:
            raise UnsupportedError(Problem("design.post", "a 2x2 difference in differences needs the post column.",
                                           fix="Set design.post to the 0/1 after-the-change column.",
                                           code="did_post_missing"))
        group = d.group or spec.treatment
        y, g, p = quote_name(spec.outcome), quote_name(group), quote_name(d.post)
        extra = tuple(spec.covariates)
        formula = f"{y} ~ {p} * {g}" + "".join(f" + {quote_name(c)}" for c in extra)
        ident = Identification(True, Strategy.PARALLEL_TRENDS, (), "design",
                                      "difference in differences: the control group's change stands in for the "
                                      "treated group's change without treatment", (), None)
        vcov = regression_vcov(spec.inference)
        settings = DiDSettings(group=group, post=d.post, did_term=f"{d.post}:{group}")
        cols = plan_columns(spec, [(group, "design.group" if d.group else "treatment"), (d.post, "design.post")]
                        + [(c, f"covariates[{i}]") for i, c in enumerate(extra)])
        assumptions = [
            f"Parallel trends: without the change, {spec.outcome} would have moved the same way in the treated "
            f"group ({group} = 1) as in the control group.",
            "No anticipation: the treated group did not react before the change.",
            "The groups' composition is stable across the two periods (no selective entry or exit)."]
        return {"estimand": estimand, **plan_fields(spec, dag, ident, extra, Estimator.DID_2X2,
                       "2x2 difference in differences: OLS of outcome on post, group and their interaction; the "
                       "interaction is the effect", formula, f"{y} ~ {g}", vcov, assumptions, settings, cols,
                       notes=("The naive contrast compares the groups after the change only.",))}

    fes = fixed_effects_of(d)
    if len(fes) < 2:
        raise UnsupportedError(Problem("design.unit", "a two-way fixed-effects DiD needs unit and time.",
                                       fix="Set design.unit and design.time.", code="did_twfe_fe_missing"))
    fields = plan_panel(spec.model_copy(update={"design": _as_panel(d), "estimand": "ATE"}), dag)
    fields["estimand"] = estimand
    fields.update(
        strategy=Strategy.PARALLEL_TRENDS, estimator=Estimator.TWFE,
        estimator_reason="two-way fixed effects (fixest::feols(y ~ treatment | unit + time)): the treatment "
                         "indicator switches on after adoption",
        assumptions=(f"Parallel trends: without treatment, treated and control units' {spec.outcome} would have "
                     "moved in parallel.",
                     "No anticipation: units did not react before treatment.",
                     "Effects are the same across adoption cohorts and over time; with staggered adoption and "
                     "changing effects two-way fixed effects is biased — use design.type event_study with "
                     "sun_abraham or callaway_santanna."))
    return fields


def _as_panel(d):

    return PanelDesign(unit=d.unit, time=d.time, fixed_effects=d.fixed_effects)


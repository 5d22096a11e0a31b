"""The randomized experiment: difference in means (Neyman, or cluster-robust), CUPED or Lin (2013), and its own
checks."""

from causalspec.designs._family import Family
from causalspec.designs.experiment.arms import arms_check
from causalspec.designs.experiment.checks import (
    balance_check,
    decision_check,
    effects_check,
    guardrail_check,
    metric_check,
    sample_ratio_check,
)
from causalspec.designs.experiment.fit import fit_difference_in_means, fit_lin
from causalspec.designs.experiment.plan import experiment_vcov, plan_experiment
from causalspec.planner import Estimator

FAMILY = Family(
    type="experiment",
    plan=plan_experiment,
    fitters={Estimator.DIFFERENCE_IN_MEANS: fit_difference_in_means, Estimator.LIN: fit_lin},
    vcov=experiment_vcov,
    checks=(sample_ratio_check, balance_check, metric_check, arms_check, guardrail_check, effects_check,
            decision_check),
    sensitivity_off=("randomization rules out confounding by design; the experiment's own checks "
                     "(sample-ratio mismatch, balance) stand in for sensitivity bounds"),
)

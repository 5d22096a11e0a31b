"""The CATE learner's plan: spec.heterogeneity with learner dr, t, s, x or r, as frozen data (issue 15).

Planned from the spec without data: the modifiers, segment and holdout columns are checked against the DAG
(never descendants of the treatment: a mediator or collider as a modifier is refused with its path), the
nuisance features are the planner's adjustment set plus the modifiers, and every option the learner does not
read is refused where it is written.  The fit (``designs._heterogeneity``) reads only this record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causalspec.errors import AdjustmentError, Problem, SpecError, UnsupportedError
from causalspec.graph import is_adjustment_set
from causalspec.planner._backdoor import descendant_problems, open_path_problem
from causalspec.spec.heterogeneity_ml import model_params

__all__ = ["HeterogeneityPlan", "plan_heterogeneity", "ML_DESIGNS"]

#: designs whose average effect the CATE learners sit beside
ML_DESIGNS = ("observational", "experiment")
_ML_ONLY = ("outcome_model", "propensity_model", "final_model", "folds", "clip", "segments", "policy", "holdout",
            "rate_bootstrap")


def _model(m) -> tuple[str, tuple[tuple[str, Any], ...]]:
    return m.name, tuple(sorted(model_params(m).items()))


@dataclass(frozen=True)
class HeterogeneityPlan:
    learner: str
    modifiers: tuple[str, ...]
    features: tuple[str, ...]  # the nuisance models' columns: adjustment set, then the modifiers
    outcome_model: tuple[str, tuple]
    propensity_model: tuple[str, tuple] | None  # None: the design's known assignment probability
    known_propensity: float | None
    final_model: tuple[str, tuple]
    folds: int
    clip: float
    segments: tuple[tuple[str, str | None, int | None], ...]  # (name, column, cate quantiles)
    policy: tuple[tuple[str, Any], ...] | None  # value, cost, budget_share, budget_count, can_hurt
    holdout: tuple[str | None, float | None] | None  # (column, share)
    rate_bootstrap: int
    randomized: bool  # the evaluation rows are randomized (an experiment, or a holdout column): uplift curves
    level: float
    seed: int

    def columns(self) -> tuple[str, ...]:
        cols = list(self.features)
        cols += [c for _, c, _ in self.segments if c]
        if self.holdout is not None and self.holdout[0]:
            cols.append(self.holdout[0])
        return tuple(dict.fromkeys(cols))


def plan_heterogeneity(spec, dag, adjustment_set) -> HeterogeneityPlan | None:
    """The plan of a CATE learner, or None for no heterogeneity section or learner linear."""
    h = spec.heterogeneity
    if h is None:
        return None
    if h.learner == "linear":
        written = sorted(f for f in _ML_ONLY if f in h.model_fields_set)
        if written:
            raise SpecError(Problem(f"heterogeneity.{written[0]}", f"{written[0]} is read by the CATE learners "
                                    "(dr, t, s, x, r), not by learner linear (OLS interactions).",
                                    fix=f"Set heterogeneity.learner to dr (or t, s, x, r), or remove "
                                        f"heterogeneity.{written[0]}.", code="option_not_read"))
        return None
    if spec.design.type not in ML_DESIGNS:
        raise UnsupportedError(Problem(
            "heterogeneity.learner", f"the CATE learners sit beside the observational and experiment designs' "
            f"average effect, not the {spec.design.type} design.", fix="Remove heterogeneity, or analyse the data "
            "with the observational or experiment design.", code="heterogeneity_unsupported"))
    problems = descendant_problems(dag, spec.treatment, spec.outcome, h.modifiers, "heterogeneity.modifiers")
    for i, s in enumerate(h.segments):
        if s.column:
            problems += descendant_problems(dag, spec.treatment, spec.outcome, [s.column],
                                            f"heterogeneity.segments[{i}].column")
    if h.holdout is not None and h.holdout.column:
        problems += descendant_problems(dag, spec.treatment, spec.outcome, [h.holdout.column],
                                        "heterogeneity.holdout.column")
    if problems:
        raise SpecError(problems)
    known = None
    if h.propensity_model == "known":
        split = getattr(spec.design, "planned_split", None)
        if spec.design.type != "experiment" or split is None:
            raise SpecError(Problem(
                "heterogeneity.propensity_model", "known uses the design's planned assignment probability: "
                "design.planned_split of an experiment" + ("" if spec.design.type == "experiment" else
                                                           f", which the {spec.design.type} design has not") + ".",
                fix="Set design.planned_split (the share assigned to treatment), or name a propensity model "
                    "such as logistic.", code="propensity_unknown"))
        known = float(split)
    policy = None
    if h.policy is not None:
        b = h.policy.budget
        policy = (("value", h.policy.value), ("cost", h.policy.cost),
                  ("budget_share", None if b is None else b.share), ("budget_count", None if b is None else b.count),
                  ("can_hurt", h.policy.can_hurt))
    holdout = None if h.holdout is None else (h.holdout.column, h.holdout.share)
    features = tuple(dict.fromkeys((*adjustment_set, *h.modifiers)))
    if spec.design.type == "observational" and set(features) != set(adjustment_set) and \
            not is_adjustment_set(dag, spec.treatment, spec.outcome, set(features)):
        raise AdjustmentError(open_path_problem(dag, spec.treatment, spec.outcome, set(features), h.modifiers,
                                                "heterogeneity.modifiers"))
    return HeterogeneityPlan(
        learner=h.learner, modifiers=tuple(h.modifiers), features=features, outcome_model=_model(h.outcome_model),
        propensity_model=None if known is not None else _model(h.propensity_model), known_propensity=known,
        final_model=_model(h.final_model), folds=h.folds, clip=h.clip,
        segments=tuple((s.name, s.column, s.cate_quantiles) for s in h.segments), policy=policy, holdout=holdout,
        rate_bootstrap=h.rate_bootstrap,
        randomized=spec.design.type == "experiment" or (h.holdout is not None and h.holdout.column is not None),
        level=spec.inference.level, seed=spec.seed)

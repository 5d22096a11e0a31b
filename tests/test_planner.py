"""The planner: adjustment choice, refusals that name the path, non-identification, determinism."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.planner import Estimator
from causalspec.errors import AdjustmentError, IdentificationError, UnsupportedError


def spec(edges, treatment="x", outcome="y", **kw):
    return cs.Spec(name="t", treatment=treatment, outcome=outcome, dag={"edges": edges, **kw.pop("dag_extra", {})},
                   **kw)


def test_feature_adoption_plan_uses_the_o_set():
    plan = cs.plan(cs.load("specs/feature_adoption.yaml"))
    assert plan.identified
    assert plan.adjustment_set == ("account_age", "activity", "region_index")
    assert plan.minimal_adjustment_sets == (("account_age", "activity"),)
    roles = {d.node: (d.role, d.adjusted) for d in plan.decisions}
    assert roles["promo_email"] == ("instrument", False)
    assert roles["support_tickets"] == ("descendant_of_treatment", False)
    assert roles["region_index"] == ("precision", True)
    assert roles["account_age"] == ("confounder", True)


def test_smallest_minimal_set_when_no_o_set_among_observed_nodes():
    # the O-set would contain the latent parent u of y; fall back to the smallest minimal set
    s = spec(["a -> x", "a -> y", "b -> a", "b -> x", "x -> y", "u -> y"], dag_extra={"latent": ["u"]})
    plan = cs.plan(s)
    assert plan.optimal_adjustment_set is None
    assert plan.adjustment_set == ("a",)


def test_plan_is_deterministic_byte_for_byte():
    a = cs.plan(cs.load("specs/feature_adoption.yaml")).to_json()
    b = cs.plan(cs.load("specs/feature_adoption.yaml")).to_json()
    assert a == b


def test_mediator_in_explicit_adjustment_is_refused():
    s = spec(["c -> x", "c -> y", "x -> m", "m -> y", "x -> y"], adjustment=["c", "m"])
    with pytest.raises(AdjustmentError, match=r"adjustment\[1\]: 'm' is a mediator \(x -> m -> y\)"):
        cs.plan(s)


def test_descendant_of_treatment_in_covariates_is_refused():
    s = spec(["c -> x", "c -> y", "x -> y", "x -> t"], covariates=["t"])
    with pytest.raises(AdjustmentError, match=r"covariates\[0\]: 't' is a descendant of the treatment \(x -> t\)"):
        cs.plan(s)


def test_collider_in_explicit_adjustment_is_refused_naming_the_path():
    s = spec(["a -> x", "a -> m", "b -> m", "b -> y", "x -> y"], adjustment=["m"])
    with pytest.raises(AdjustmentError, match=r"'m' is a collider on the path x <- a -> m <- b -> y"):
        cs.plan(s)


def test_collider_with_a_blocker_is_accepted():
    s = spec(["a -> x", "a -> m", "b -> m", "b -> y", "x -> y"], adjustment=["m", "a"])
    assert cs.plan(s).adjustment_set == ("a", "m")


def test_open_backdoor_path_is_named_with_the_fix():
    s = spec(["a -> x", "a -> y", "i -> x", "i -> y", "x -> y"], adjustment=["a"])
    with pytest.raises(AdjustmentError, match=r"the backdoor path x <- i -> y stays open given \['a'\]\. Add 'i'"):
        cs.plan(s)


def test_not_identified_plan_names_path_and_offers_an_instrument():
    plan = cs.plan(spec(["x <-> y", "z -> x", "x -> y"]))
    assert not plan.identified
    assert plan.obstacles == ("x <-> y",)
    assert plan.alternatives == ("instrument: z (design.type iv)",)
    assert plan.minimal_adjustment_sets == ()
    assert "NOT IDENTIFIED" in plan.explain()
    with pytest.raises(IdentificationError, match=r"backdoor path x <-> y cannot be blocked"):
        cs.fit(plan, __import__("pandas").DataFrame({"x": [0, 1], "y": [1, 2], "z": [0, 1]}))


def test_front_door_is_used_when_no_adjustment_set_exists():
    """It used to end in NOT IDENTIFIED with the front door only listed as an alternative (issue 11)."""
    plan = cs.plan(spec(["x <-> y", "x -> m", "m -> y"]))
    assert plan.identified and plan.estimator is Estimator.FRONT_DOOR
    assert any(a.startswith("front-door set: m") for a in plan.alternatives)


def test_nothing_identifies_the_bow_graph():
    plan = cs.plan(spec(["x <-> y", "x -> y"]))
    assert not plan.identified
    assert plan.alternatives[0].startswith("none: the effect is not identified from this DAG")


def test_empty_set_when_there_is_no_backdoor_path():
    plan = cs.plan(spec(["x -> y", "w -> y"]))
    assert plan.adjustment_set == ("w",)  # the O-set keeps the precision variable
    assert plan.minimal_adjustment_sets == ((),)


def test_experiment_plans_lin_with_covariates_and_refuses_adjustment():
    plan = cs.plan(cs.load("specs/ab_test.yaml"))
    assert plan.strategy.value == "randomization"
    assert plan.estimator.value == "lin"
    assert plan.covariates == ("pre_spend", "country")
    with pytest.raises(AdjustmentError, match=r"identified by randomization"):
        cs.plan(cs.Spec(name="e", treatment="d", outcome="y", design={"type": "experiment"},
                        dag={"edges": ["d -> y", "w -> y"]}, adjustment=["w"]))


def test_experiment_with_causes_of_treatment_is_refused():
    with pytest.raises(AdjustmentError, match=r"the DAG gives the randomized treatment 'd' causes \(w\)"):
        cs.plan(cs.Spec(name="e", treatment="d", outcome="y", design={"type": "experiment"},
                        dag={"edges": ["w -> d", "d -> y"]}))


def test_att_with_ols_is_refused_with_a_fix():
    with pytest.raises(UnsupportedError, match=r"estimand: the ols estimator targets ATE, not ATT.*Set estimand to ATE"
                                               r", or design.estimator to one of \['ra', 'ipw', 'ipw_ra', 'aipw', 'matching'\]"):
        cs.plan(spec(["z -> x", "z -> y", "x -> y"], estimand="ATT", design={"type": "observational",
                                                                             "estimator": "ols"}))


def test_att_auto_chooses_matching_and_says_why():
    p = cs.plan(spec(["z -> x", "z -> y", "x -> y"], estimand="ATT"))
    assert p.estimator is Estimator.MATCHING
    assert "ATT" in p.estimator_reason
    assert p.settings.propensity.propensity_formula == "x ~ z"


def test_difference_in_means_refuses_other_variances():
    with pytest.raises(UnsupportedError, match=r"inference.vcov: the difference in means uses the Neyman"):
        cs.plan(cs.Spec(name="e", treatment="d", outcome="y", design={"type": "experiment"},
                        inference={"vcov": "HC1"}))


def test_plan_json_has_the_contract_fields():
    import json

    data = json.loads(cs.plan(cs.load("specs/feature_adoption.yaml")).to_json())
    assert data["identified"] is True
    assert data["adjustment_set"] == sorted(data["adjustment_set"])
    assert data["minimal_adjustment_sets"] == [["account_age", "activity"]]
    assert data["vcov"]["r_equivalent"].startswith('sandwich::vcovHC(type = "HC2")')


def test_explain_states_each_node_and_the_formula():
    text = cs.plan(cs.load("specs/feature_adoption.yaml")).explain()
    for node in ("account_age", "activity", "promo_email", "region_index", "support_tickets"):
        assert node in text
    assert "Model      spend ~ feature_usage + account_age + activity + region_index" in text
    assert "conditional exchangeability" in text

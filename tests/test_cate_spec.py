"""The heterogeneity section with a CATE learner, from the spec (issue 15): planned against the DAG, fitted
beside the design's average effect, refused where an option is not read.  The bundled churn_uplift spec runs
on the renewal-discount simulation, whose true effects are known (+0.12 new, +0.04 regular, -0.08 loyal)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError

pytest.importorskip("sklearn")

DATA = pd.read_csv("specs/data/renewal_discount.csv")


@pytest.fixture(scope="module")
def result():
    spec = cs.load("specs/churn_uplift.yaml")
    return cs.fit(cs.plan(spec), DATA)


def test_the_bundled_churn_workflow_recovers_the_known_effects(result):
    cate = result.extras["cate"]
    assert cate["learner"] == "dr" and cate["n_train"] == cate["n_eval"] == 2000
    seg = {g["group"]: g for g in cate["segments"][0]["effects"]}
    truth = {"new": 0.12, "regular": 0.04, "loyal": -0.08}
    for group, g in seg.items():  # each segment's doubly robust effect covers its true effect
        assert g["conf_low"] < truth[group] < g["conf_high"], group
    assert seg["loyal"]["conf_high"] < 0 < seg["new"]["conf_low"]  # harmed and helped, with confidence
    gates = cate["segments"][1]["gates"]
    assert gates[-1]["estimate"] > gates[0]["estimate"]  # the CATE ranks: top quartile gains most
    assert cate["segments"][1]["blp"]["het_p_value"] < 0.01
    # CLAN describes every nuisance feature, each level of a factor included
    assert set(cate["segments"][1]["clan"]) == {"age", "segmentnew", "segmentregular", "usage"}
    assert "uplift" in cate  # the holdout is the randomized half


def test_the_policy_never_treats_the_harmed_segment_and_beats_treating_everyone(result):
    pol = result.extras["cate"]["policy"]
    assert pol["excluded_segments"] == ["loyal"]
    gain = next(v for v in pol["gains"] if v["name"] == "policy - treat all")
    assert gain["conf_low"] > 0
    cate = result.cate()
    hold = DATA.loc[DATA.randomized == 1]
    # the truth: treating where 100 x true CATE > 5 is worth more than treating everyone
    true_gain = (100 * hold.true_cate - 5).clip(lower=0).mean() - (100 * hold.true_cate - 5).mean()
    assert true_gain > 0 and len(cate) == len(DATA)


def test_cate_for_new_rows_is_reproducible_from_the_seed(result):
    new = DATA.head(50)
    a, b = result.cate(new), result.cate(new)
    np.testing.assert_array_equal(a, b)
    loyal = new.segment.to_numpy() == "loyal"
    assert a[loyal].mean() < a[~loyal].mean()


def _spec(**het):
    s = cs.load("specs/churn_uplift.yaml").model_dump(exclude_unset=True)
    s["heterogeneity"] = {**{"modifiers": ["segment", "usage"]}, **het}
    return s


@pytest.mark.parametrize("het, where", [
    ({"learner": "linear", "folds": 3}, "heterogeneity.folds"),                       # read by the learners only
    ({"learner": "dr", "propensity_model": "known"}, "heterogeneity.propensity_model"),  # no planned split here
])
def test_options_a_learner_does_not_read_are_refused_where_written(het, where):
    with pytest.raises(CausalSpecError) as err:
        cs.plan(cs.Spec(**_spec(**het)))
    assert err.value.problems[0].loc == where


def test_a_mediator_as_modifier_is_refused_with_its_path():
    s = _spec(learner="dr")
    s["dag"]["edges"] = [*s["dag"]["edges"], "discount -> engagement", "engagement -> renewed"]
    s["heterogeneity"]["modifiers"] = ["segment", "engagement"]
    with pytest.raises(CausalSpecError) as err:
        cs.plan(cs.Spec(**s))
    p = err.value.problems[0]
    assert p.loc == "heterogeneity.modifiers[1]" and "discount -> engagement -> renewed" in p.message


def test_an_experiment_uses_the_known_assignment_probability():
    rand = DATA.loc[DATA.randomized == 1].reset_index(drop=True)
    spec = cs.Spec(name="exp_cate", treatment="discount", outcome="renewed",
                   dag={"edges": ["discount -> renewed", "segment -> renewed", "usage -> renewed"]},
                   design={"type": "experiment", "planned_split": 0.5},
                   heterogeneity={"modifiers": ["segment", "usage"], "learner": "t", "propensity_model": "known",
                                  "outcome_model": {"name": "linear"}, "segments": [{"name": "s", "column": "segment"}]})
    r = cs.fit(cs.plan(spec), rand)
    seg = {g["group"]: g for g in r.extras["cate"]["segments"][0]["effects"]}
    assert seg["loyal"]["estimate"] < 0 < seg["new"]["estimate"]
    assert "uplift" in r.extras["cate"] and r.extras["cate"]["evaluated_on"].startswith("out of fold")

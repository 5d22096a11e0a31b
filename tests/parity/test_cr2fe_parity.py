"""CR0 / CR2 / stata cluster-robust variances with fixed effects against estimatr::lm_robust(fixed_effects = ).

The cases were computed with Debian's r-cran-estimatr by tools/rparity/build_cr2_fe.R; each runs here through
a panel spec (spec -> plan -> fit).
"""

from __future__ import annotations

import pytest

import causalspec as cs
from parity._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = case_ids("cr2fe_")
EDGES = ["nr -> union", "nr -> married", "nr -> lwage", "year -> union", "year -> lwage", "married -> union",
         "married -> lwage", "expersq -> union", "expersq -> lwage", "union -> lwage"]


@pytest.mark.parametrize("case_id", CASES)
@pytest.mark.parametrize("se_type, kind", [("CR2", "CR2"), ("CR0", "CR0_estimatr"), ("stata", "stata")])
def test_fixed_effects_cluster_variances_match_estimatr(case_id, se_type, kind):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    m = case["model"]
    fes = m["fixed_effects"] if isinstance(m["fixed_effects"], list) else [m["fixed_effects"]]
    edges = [e for e in EDGES if not e.startswith("year") or "year" in fes]  # the DAG the R model assumes
    spec = cs.Spec(name=case_id, treatment="union", outcome="lwage", dag={"edges": edges},
                   adjustment=["expersq", "married"],
                   design={"type": "panel", "fixed_effects": fes},
                   inference={"vcov": kind, "cluster": [m["cluster"]]}, sensitivity={"enabled": False})
    result = cs.fit(cs.plan(spec), case_data(case))
    exp = case["expected"]["variants"][se_type]
    rows = {r.term: r for r in result.coefficients}
    for term in ("union", "expersq", "married"):
        r = rows[term]
        assert_close([r.estimate, r.std_error, r.df, r.statistic, r.p_value, r.conf_low, r.conf_high],
                     [exp["coef"][term], exp["se"][term], exp["df"][term], exp["tstat"][term], exp["pvalue"][term],
                      exp["conf_low"][term], exp["conf_high"][term]], rel=rel, abs_=abs_,
                     what=f"{case_id} {se_type} {term}")
    assert result.plan.vcov.r_equivalent.startswith("estimatr::lm_robust(fixed_effects")

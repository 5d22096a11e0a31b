"""Two-way clustering from a spec (issue 12): ``cluster: [nr, year]`` on an observational design is
sandwich::vcovCL(cluster = ~ nr + year) (Cameron, Gelbach & Miller), not clustering on the nr x year interaction
(which, with one row per cell, is HC1)."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.errors import UnsupportedError

from ._cases import assert_close, case_data, load_case

CASE = "ols_extra_vcovcl_multiway"
ADJ = ["educ", "exper", "expersq", "married"]


def _spec(kind: str, cluster=("nr", "year")) -> cs.Spec:
    edges = [f"{v} -> union" for v in ADJ] + [f"{v} -> lwage" for v in ADJ] + ["union -> lwage"]
    return cs.Spec(name="mw", treatment="union", outcome="lwage", adjustment=ADJ, dag={"edges": edges},
                   inference={"vcov": kind, "cluster": list(cluster)})


@pytest.mark.parametrize("kind, variant", [("CR1", "vcovCL_HC1"), ("CR0", "vcovCL_HC0")])
def test_two_cluster_columns_are_multiway_clustering_as_sandwich_computes_it(kind, variant):
    case = load_case(CASE)
    result = cs.fit(cs.plan(_spec(kind)), case_data(case))
    exp = case["expected"]["vcov_variants"][variant]
    assert result.plan.vcov.r_equivalent == f'sandwich::vcovCL(cluster = ~nr + year, type = "H{kind[1:].replace("R", "C")}")'
    got = {e.term: e for e in result.coefficients}
    for term in ("union", *ADJ):
        assert_close([got[term].estimate, got[term].std_error], [exp["coef"][term], exp["se"][term]], rel=1e-8,
                     what=f"{variant} {term}")
    interaction = cs.fit(cs.plan(_spec("HC1", cluster=())), case_data(case))
    assert result.effect.std_error != pytest.approx(interaction.effect.std_error, rel=1e-3)


def test_cr2_with_two_cluster_columns_is_refused_not_interacted():
    with pytest.raises(UnsupportedError, match=r"inference.cluster: CR2 takes one cluster column; 2 are given"):
        cs.plan(_spec("CR2"))

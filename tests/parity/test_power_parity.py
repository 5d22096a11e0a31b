"""power.t.test / power.prop.test parity, at R's default uniroot tolerance and at tol = 1e-12."""

from __future__ import annotations

import pytest

from parity._cases import assert_close, case_ids, load_case, tolerance

from causalspec.power._power import power_prop_test, power_t_test

FUNCTIONS = {"power_t_test": power_t_test, "power_prop_test": power_prop_test}
FIELDS = {"n": "n", "delta": "delta", "sd": "sd", "p1": "p1", "p2": "p2", "sig.level": "sig_level", "power": "power"}


def _calls():
    for cid in case_ids("power_"):
        case = load_case(cid)
        call = case["r_call"]
        for name, c in case["expected"]["cases"].items():
            fn = "power_prop_test" if "power.prop.test" in call.split(f"{name} = run(", 1)[1][:20] else "power_t_test"
            for which in ("result", "result_tol_1e_12"):
                yield pytest.param(cid, name, fn, which, id=f"{cid}-{name}-{which}")


@pytest.mark.parametrize("case_id,name,fn,which", list(_calls()))
def test_power_calculation_matches_r(case_id, name, fn, which):
    case = load_case(case_id)
    c = case["expected"]["cases"][name]
    kwargs = {FIELDS.get(k, k): v for k, v in c["args"].items()}
    kwargs[FIELDS[c["solved_for"]]] = None
    if which == "result_tol_1e_12":
        kwargs["tol"] = 1e-12
    res = FUNCTIONS[fn](**kwargs)
    exp = c[which]
    rel, abs_ = tolerance(case)
    assert res.solved_for == FIELDS[c["solved_for"]]
    for rname, attr in FIELDS.items():
        if rname in exp:
            assert_close([getattr(res, attr)], [exp[rname]], rel=rel, abs_=abs_, what=f"{name}.{which}.{rname}")
    assert res.alternative == exp["alternative"]
    assert res.method == exp["method"]
    assert res.note == exp.get("note")

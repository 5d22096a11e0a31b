"""Power analysis in public: the functions and ``causalspec power`` give R's numbers, SRM equals chisq.test, and
impossible inputs are located errors (exit 1, no traceback).  R values come from tests/parity/cases."""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import pytest
from scipy import integrate, stats

from parity._cases import case_ids, load_case, tolerance

from causalspec import power
from causalspec.cli import main
from causalspec.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
FLAGS = {"n": "--n", "delta": "--delta", "sd": "--sd", "p1": "--p1", "p2": "--p2", "power": "--power",
         "sig.level": "--sig-level", "type": "--type", "alternative": "--alternative"}


def _cli_json(capsys, *args) -> dict:
    assert main(["power", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _r_cases():
    """Every stored R call the command can express (no strict = TRUE, sig.level not the unknown)."""
    for cid in case_ids("power_"):
        case = load_case(cid)
        for name, c in case["expected"]["cases"].items():
            if "strict" in c["args"] or c["solved_for"] == "sig.level":
                continue
            kind = "proportions" if "p1" in c["result"] and c["result"]["p1"] is not None else "means"
            yield pytest.param(cid, name, kind, id=f"{cid}-{name}")


@pytest.mark.parametrize("case_id,name,kind", list(_r_cases()))
def test_power_command_gives_rs_numbers(case_id, name, kind, capsys):
    case = load_case(case_id)
    c = case["expected"]["cases"][name]
    args = [kind]
    for key, value in c["args"].items():
        args += [FLAGS[key], str(value)]
    got = _cli_json(capsys, *args)
    solved = c["solved_for"]
    assert got["solved_for"] == solved
    rel, _ = tolerance(case)
    assert got[solved] == pytest.approx(c["result"][solved], rel=rel)  # R's default uniroot tolerance, as R prints
    assert got["power"] == pytest.approx(c["result"]["power"], rel=rel)


def _t_power(n: float, delta: float, sd: float, alpha: float = 0.05) -> float:
    """power.t.test's definition, P(T' > t_{1-alpha/2, 2(n-1)}) for noncentral T' = (Z + ncp) / sqrt(V / nu),
    integrated over V ~ chi2(nu) by quadrature: independent of scipy's noncentral t."""
    nu, ncp = 2 * (n - 1), math.sqrt(n / 2) * delta / sd
    crit = stats.t.isf(alpha / 2, nu)
    lo, hi = stats.chi2.ppf(1e-15, nu), stats.chi2.isf(1e-15, nu)
    return integrate.quad(lambda v: stats.norm.sf(crit * math.sqrt(v / nu) - ncp) * stats.chi2.pdf(v, nu), lo, hi,
                          epsabs=1e-14, epsrel=1e-13, limit=500)[0]


def test_sample_size_for_means_solves_the_defining_equation(capsys):
    assert main(["power", "means", "--sd", "10", "--delta", "1", "--power", "0.8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("n = 1,571 per arm (1570.737 before rounding up)")
    assert "              n = 1570.737\n" in out and "NOTE: n is number in *each* group" in out
    exact = power.sample_size_means(delta=1, sd=10, power=0.8, tol=1e-12).n
    assert _t_power(exact, 1, 10) == pytest.approx(0.8, abs=1e-10)
    assert exact == pytest.approx(1570.736888, abs=1e-6)
    assert _cli_json(capsys, "means", "--sd", "10", "--delta", "1")["n"] == pytest.approx(exact, rel=1e-8)


def _prop_n(p1: float, p2: float, alpha: float = 0.05, beta_power: float = 0.8) -> float:
    """power.prop.test's equation solved in closed form: sqrt(n)|p1 - p2| = q_a sqrt(2 pbar qbar) + z_b sqrt(...)."""
    qa, zb = stats.norm.isf(alpha / 2), stats.norm.ppf(beta_power)
    s = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return ((qa * math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2)) + zb * s) / abs(p1 - p2)) ** 2


def test_sample_size_and_power_for_proportions_follow_the_closed_form(capsys):
    n = _cli_json(capsys, "proportions", "--p1", "0.10", "--p2", "0.11", "--power", "0.8")["n"]
    assert n == pytest.approx(_prop_n(0.10, 0.11), rel=1e-9) and n == pytest.approx(14750.79, abs=0.005)
    assert main(["power", "proportions", "--p1", "0.10", "--p2", "0.11", "--n", "5000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("power = 0.3711 with 5,000 per arm")
    qa = stats.norm.isf(0.025)
    want = stats.norm.cdf((math.sqrt(5000) * 0.01 - qa * math.sqrt(0.21 * (1 - 0.105)))
                          / math.sqrt(0.1 * 0.9 + 0.11 * 0.89))
    assert power.power_proportions(5000, 0.10, 0.11).power == pytest.approx(want, rel=1e-12)


def test_minimum_detectable_effects_reach_the_power_asked_for(capsys):
    up = _cli_json(capsys, "proportions", "--p1", "0.10", "--n", "5000", "--mde")
    assert up["solved_for"] == "p2" and up["p2"] > 0.10
    # R's uniroot tolerance leaves p2 ~1e-5 from the root, so the power is 0.8 to about 1e-3 (as R's own)
    assert power.power_proportions(5000, 0.10, up["p2"]).power == pytest.approx(0.8, abs=1e-3)
    down = power.mde_proportions(5000, 0.10, direction="decrease", tol=1e-12)
    assert down.p1 == 0.10 and down.p2 < 0.10
    assert power.power_proportions(5000, 0.10, down.p2).power == pytest.approx(0.8, abs=1e-10)
    d = power.mde_means(40, sd=2, power=0.9, tol=1e-12).delta
    assert power.power_means(40, d, sd=2).power == pytest.approx(0.9, abs=1e-10)


@pytest.mark.parametrize("counts,ratio", [([5012, 4988], None), ([10310, 9690], [1, 1]), ([6100, 2900], [2, 1]),
                                          ([300, 340, 310], [1, 1, 1])])
def test_srm_p_value_equals_scipy_chisquare(counts, ratio, capsys):
    args = ["srm", "--counts", *map(str, counts)] + (["--ratio", *map(str, ratio)] if ratio else [])
    got = _cli_json(capsys, *args)
    shares = [w / sum(ratio) for w in ratio] if ratio else [1 / len(counts)] * len(counts)
    want = stats.chisquare(counts, [sum(counts) * s for s in shares])
    assert got["statistic"] == pytest.approx(want.statistic, rel=1e-12)
    assert got["p_value"] == pytest.approx(want.pvalue, rel=1e-12)
    assert got["df"] == len(counts) - 1 and got["mismatch"] == (want.pvalue < 0.001)


def test_srm_says_the_verdict_first(capsys):
    assert main(["power", "srm", "--counts", "10310", "9690"]) == 0
    assert capsys.readouterr().out.startswith("SAMPLE-RATIO MISMATCH: p = 1.16e-05 < alpha = 0.001.")
    assert main(["power", "srm", "--counts", "5012", "4988", "--ratio", "1", "1"]) == 0
    assert capsys.readouterr().out.startswith("No sample-ratio mismatch: p = 0.81")


@pytest.mark.parametrize("args,where,what", [
    (["means", "--delta", "1", "--power", "1.5"], "--power", "not strictly between 0 and 1"),
    (["means", "--delta", "1", "--power", "0.01"], "--power", "not above the significance level"),
    (["means", "--sd", "0", "--delta", "1"], "--sd", "must be positive"),
    (["means", "--n", "10", "--delta", "1", "--power", "0.8"], "--power", "nothing is left to solve"),
    (["means", "--delta", "1", "--mde", "--n", "10"], "--delta", "--mde solves for the effect"),
    (["means", "--delta", "-1", "--alternative", "one.sided"], "--delta", "no solution"),
    (["means"], "--delta", "the effect to detect is missing"),
    (["proportions", "--p1", "0.1", "--p2", "0.1"], "--p2", "no difference to detect"),
    (["proportions", "--p1", "1.2", "--p2", "0.1"], "--p1", "not strictly between 0 and 1"),
    (["proportions", "--p1", "0.5", "--n", "10", "--mde", "--power", "0.99"], "--n", "no solution"),
    (["srm", "--counts", "5", "-3"], "--counts[1]", "is negative"),
    (["srm", "--counts", "10"], "--counts", "at least two arms"),
    (["srm", "--counts", "10", "10", "--ratio", "1"], "--ratio", "1 weights for 2 arms"),
    (["srm", "--counts", "10", "10", "--ratio", "1", "0"], "--ratio[1]", "must be positive"),
])
def test_impossible_inputs_are_located_errors(args, where, what, capsys):
    assert main(["power", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error[spec_invalid]: {where}: ") and what in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_the_functions_name_their_arguments_in_errors():
    with pytest.raises(SpecError, match=r"^sd: sd = -1: a standard deviation must be positive"):
        power.sample_size_means(delta=1, sd=-1)
    with pytest.raises(SpecError, match=r"^n: n = 1 per arm: at least 2 are needed"):
        power.power_means(1, 0.5)
    with pytest.raises(SpecError, match=r"^ratio\[0\]: -1: every arm's planned weight must be positive"):
        power.srm_test([10, 10], [-1, 1])
    with pytest.raises(SpecError, match=r"^delta: 'x' is not a number"):
        power.sample_size_means(delta="x")  # type: ignore[arg-type]


def test_power_namespace_lists_its_public_names():
    for name in ("power_means", "sample_size_means", "mde_means", "power_proportions", "sample_size_proportions",
                 "mde_proportions", "srm_test", "SRMTest", "srm_check", "power_t_test", "power_prop_test",
                 "PowerResult"):
        assert name in power.__all__ and hasattr(power, name)
    assert not [n for n in power.__all__ if n.startswith("_")]
    leaked = [n for n, v in vars(power).items() if not n.startswith("_") and n not in power.__all__
              and getattr(v, "__module__", "").startswith("causalspec.power._")]
    assert leaked == []


DOC = (ROOT / "docs" / "power.md").read_text()


def test_the_docs_python_example_prints_what_the_page_says(capsys):
    code, shown = re.findall(r"```python\n(.*?)```\n\nprints\n\n```text\n(.*?)```", DOC, re.S)[0]
    exec(compile(code, "docs/power.md", "exec"), {})
    assert capsys.readouterr().out == shown


@pytest.mark.parametrize("block", re.findall(r"```console\n(.*?)```", DOC, re.S))
def test_the_docs_commands_print_what_the_page_says(block, capsys):
    command, _, shown = block.partition("\n")
    argv = shlex.split(command.removeprefix("$ causalspec "))
    code = main(argv)
    out = capsys.readouterr()
    assert code == (1 if shown.startswith("error[") else 0)
    assert (out.err if code else out.out) == shown

"""R parity on the running installation: ``causalspec parity``.

A compact subset of the project's R reference cases ships with the package (``cases/``: one JSON per case
with its R call, R and package versions, data provenance and the expected numbers; ``data/``: the real data
sets they use).  Each case runs through the public API — a spec planned and fitted like a user's, or the
function a user calls — on this machine, whose BLAS, OS and library versions may differ from the project's,
and the worst relative error is compared with the case's tolerance.  The cases are built from
``tests/parity/cases`` by ``tools/rparity/build_shipped_parity.py``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from causalspec._data import read_data
from causalspec._progress import Progress
from causalspec.graph import DAG, adjustment_sets
from causalspec.power._power import power_t_test
from causalspec.sensitivity import evalue_hr, evalue_md, evalue_ols, evalue_or, evalue_rr, relative_magnitudes
from causalspec.api import fit, plan
from causalspec.spec import Spec

__all__ = ["run_parity", "ParityReport", "CaseResult", "CASES_DIR"]

CASES_DIR = Path(__file__).resolve().parent / "cases"
DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class CaseResult:
    case: str
    r_function: str
    worst_rel_error: float
    tolerance: float
    passed: bool
    compared: int
    message: str = ""
    missing: tuple[str, ...] = ()  # checks of the case whose result causalspec did not produce (the case fails)
    not_produced: tuple[str, ...] = ()  # what the R call reports that causalspec does not compute (declared)


@dataclass(frozen=True)
class ParityReport:
    results: tuple[CaseResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def worst(self) -> float:
        errs = [r.worst_rel_error for r in self.results if math.isfinite(r.worst_rel_error)]
        return max(errs, default=0.0)

    @property
    def missing(self) -> tuple[tuple[str, str], ...]:
        """(case, what) for every result R reports that causalspec did not produce: checks it could not resolve
        and the R outputs a case declares causalspec does not compute."""
        return tuple((r.case, what) for r in self.results for what in (*r.missing, *r.not_produced))

    def summary_line(self) -> str:
        n_ok = sum(r.passed for r in self.results)
        missing = len(self.missing)
        return (f"parity: {n_ok}/{len(self.results)} shipped R cases passed on this machine, worst relative error "
                f"{self.worst:.1e}" + (f"; {missing} R result(s) not produced by causalspec, listed" if missing
                                       else "") + " (causalspec parity)")

    def table(self) -> str:
        w = max(len(r.case) for r in self.results)
        lines = [f"{'case':<{w}}  {'R function':<58} {'worst rel. err':>14} {'tolerance':>9}  result"]
        for r in self.results:
            lines.append(f"{r.case:<{w}}  {r.r_function[:58]:<58} {r.worst_rel_error:>14.2e} {r.tolerance:>9.0e}  "
                         f"{'pass' if r.passed else 'FAIL'}{'  ' + r.message if r.message else ''}")
        if self.missing:
            lines.append("R results not produced by causalspec (never skipped silently):")
            lines += [f"  {case}: {what}" for case, what in self.missing]
        lines.append(self.summary_line())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "summary": self.summary_line(), "seconds": round(self.seconds, 2),
                "missing": [{"case": c, "result": w} for c, w in self.missing],
                "cases": [{**r.__dict__, "missing": list(r.missing), "not_produced": list(r.not_produced)}
                          for r in self.results]}


def _rel(actual, expected, abs_tol: float) -> tuple[float, bool]:
    """(relative error, whether it is within the absolute tolerance anyway)."""
    if expected is None or actual is None:
        return (0.0, True) if expected is None and actual is None else (math.inf, False)
    a, e = float(actual), float(expected)
    if not (math.isfinite(a) and math.isfinite(e)):
        return (0.0, True) if a == e else (math.inf, False)
    diff = abs(a - e)
    return (diff / abs(e) if e != 0 else (0.0 if diff == 0 else math.inf)), diff <= abs_tol


def _value(result, path: str):
    kind, *rest = path.split(":")
    if kind == "coef":
        term, field = ":".join(rest[:-1]), rest[-1]
        return getattr({e.term: e for e in result.coefficients}[term], field)
    if kind == "effect":
        return getattr(result.effect, rest[0])
    if kind == "sens":
        return getattr(result.sensitivity.ovb, rest[0])
    if kind == "bound":
        return getattr(result.sensitivity.ovb.bounds[int(rest[0])], rest[1])
    if kind == "balance":  # summary(matchit)$sum.all / $sum.matched, by covariate and R's column name
        when, stat = rest[0], rest[-1]
        covariate = ":".join(rest[1:-1])
        records = {r["covariate"]: r for r in result.extras[f"balance_{when}"]}
        return records[covariate][_BALANCE_FIELDS[stat]]
    raise KeyError(path)


_BALANCE_FIELDS = {"Means Treated": "mean_treated", "Means Control": "mean_control", "Std. Mean Diff.": "smd",
                   "Mean Diff.": "mean_diff", "Var. Ratio": "var_ratio", "eCDF Mean": "ecdf_mean",
                   "eCDF Max": "ecdf_max", "Std. Pair Dist.": "std_pair_dist"}


def _spec_case(case: dict) -> list[tuple[Any, Any]]:

    spec = Spec(**case["spec"])
    frame, _ = read_data(DATA_DIR / Path(case["data"]["file"]).name, None)
    frame = _prepare(case, frame)
    result = fit(plan(spec), frame)
    pairs, missing = [], []
    for c in case["checks"]:
        try:
            pairs.append((_value(result, c["path"]), c["expected"]))
        except (KeyError, AttributeError, IndexError, TypeError):
            missing.append(c["path"])
    return pairs, missing


def _prepare(case: dict, frame):
    """Rows as R read them: lalonde's row names are its id column (MatchIt labels units by them)."""
    if "id" in frame.columns and case["source_case"].startswith("matching_"):
        frame = frame.set_index("id")
    return frame


def _evalue_case(case: dict) -> list[tuple[Any, Any]]:

    fn = {"evalues.RR": evalue_rr, "evalues.OR": evalue_or, "evalues.HR": evalue_hr, "evalues.MD": evalue_md,
          "evalues.OLS": evalue_ols}[case["input"]["function"]]
    res = fn(**case["input"]["args"])
    exp = case["expected"]
    return [(res.rr_point, exp["RR"]["point"]), (res.rr_lower, exp["RR"]["lower"]),
            (res.rr_upper, exp["RR"]["upper"]), (res.evalue_point, exp["E-values"]["point"]),
            (res.evalue_lower, exp["E-values"]["lower"]), (res.evalue_upper, exp["E-values"]["upper"])]


def _power_case(case: dict) -> list[tuple[Any, Any]]:

    names = {"n": "n", "delta": "delta", "sd": "sd", "sig.level": "sig_level", "power": "power"}
    out = []
    for c in case["cases"].values():
        kwargs = {names[k]: v for k, v in c["args"].items()}
        kwargs[names[c["solved_for"]]] = None
        res = power_t_test(**kwargs, tol=1e-12)
        exp = c["result_tol_1e_12"]
        out += [(getattr(res, attr), exp[r]) for r, attr in names.items() if r in exp]
    return out


def _dagitty_case(case: dict) -> list[tuple[Any, Any]]:

    e = case["expected"]
    dag = DAG.from_edges([f"{a} {arrow} {b}" for a, arrow, b in e["edges"]], latent=e["latent"])
    out = []
    for key, want in e["adjustment_sets"].items():
        kind = key.split("_")[0]
        got = {tuple(sorted(s)) for s in adjustment_sets(dag, e["exposure"][0], e["outcome"][0], type=kind)}
        out.append((0.0 if got == {tuple(sorted(s)) for s in want} else 1.0, 0.0))
    return out


def _honestdid_rm_case(case: dict) -> list[tuple[Any, Any]]:

    out = relative_magnitudes(**case["input"])
    pairs = []
    for row, want in zip(out.rows, case["expected"], strict=True):
        pairs += [(row.lower, want["lb"]), (row.upper, want["ub"])]
    return pairs


_KINDS = {"spec": _spec_case, "evalue": _evalue_case, "power_t": _power_case, "dagitty": _dagitty_case,
          "honestdid_rm": _honestdid_rm_case}


def run_parity(progress: bool = False) -> ParityReport:
    """Run every shipped R case on this installation."""

    paths = sorted(CASES_DIR.glob("*.json"))
    bar = Progress(len(paths), "R parity cases", enabled=progress)
    start = time.perf_counter()
    out = []
    for path in paths:
        case = json.loads(path.read_text())
        tol = case.get("tolerance", {})
        rel_tol, abs_tol = float(tol.get("rel", 1e-6)), float(tol.get("abs", 1e-12))
        not_produced = tuple(case.get("not_produced", ()))
        try:
            got = _KINDS[case["kind"]](case)
            pairs, missing = got if isinstance(got, tuple) else (got, [])
            errs = [_rel(a, e, abs_tol) for a, e in pairs]
            worst = max((r for r, _ in errs), default=0.0)
            ok = all(r <= rel_tol or within for r, within in errs) and not missing
            message = f"{len(missing)} result(s) missing" if missing else ""
            out.append(CaseResult(case["id"], case["r_function"], worst, rel_tol, ok, len(pairs), message,
                                  tuple(missing), not_produced))
        except Exception as exc:  # a case that cannot run is a failure to report, not a crash  # noqa: BLE001
            out.append(CaseResult(case["id"], case["r_function"], math.inf, rel_tol, False, 0,
                                  f"{type(exc).__name__}: {exc}", (), not_produced))
        bar.step()
    bar.close()
    return ParityReport(tuple(out), time.perf_counter() - start)

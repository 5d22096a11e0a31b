"""Refutation tests: re-estimate under changes that should (or should not) move the estimate.

Each test re-runs the *same plan* — same formula, same estimator, same rows — on altered data, with
the sensitivity step off.  Random draws come from ``numpy.random.SeedSequence(plan.seed)``, one child
stream per test, so results are deterministic given the spec's seed and do not depend on which other
tests run.  The verdict rules are stated in each result (``rule``) and in docs/sensitivity.md.

A passing refutation is not evidence against confounding: an omitted common cause leaves every one of
these tests passing.  They catch estimates that do not behave like estimates of an effect of the
treatment (a pipeline that finds effects of random treatments, an estimate driven by a few rows).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from causalspec.errors import CausalSpecError, Problem, UnsupportedError
from causalspec.designs import fit
from causalspec.estimators.fixest import feols
from causalspec.inference._fixest import coeftable, fixest_vcov
from causalspec.formula import quote_name
from causalspec.planner import Estimator, SensitivityPlan
from causalspec._progress import Progress
from causalspec._data import as_pandas
from causalspec.robustness._refit import RANDOM, Engine

__all__ = ["Refutation", "RefutationReport", "refute", "RULES"]

_NAMES = ("placebo_treatment", "random_common_cause", "data_subsets", "placebo_outcome", "placebo_date")

COHORT_BASED = frozenset({Estimator.EVENT_STUDY, Estimator.SUN_ABRAHAM, Estimator.CALLAWAY_SANTANNA})

RULES = {
    "placebo_treatment": "pass when the placebo estimates average to zero (|mean| <= 3 Monte Carlo standard errors) "
                         "and the actual estimate stands out from them (permutation p-value <= 0.05)",
    "random_common_cause": "pass when adding an independent random covariate moves the estimate by less than 0.1 "
                           "standard errors on average and never by more than 0.5",
    "data_subsets": "pass when the spread of the subset estimates is at most 1.5 times the spread the reported "
                    "standard error implies (SE * sqrt((1 - f) / f) for subsets of a fraction f); a warning means "
                    "the standard error understates how much the estimate moves when rows change (e.g. iid errors "
                    "under heteroskedasticity) or a few rows drive it",
    "placebo_outcome": "pass when the confidence interval of the effect on the placebo outcome covers zero",
    "placebo_date": "pass when the effect of a treatment dated before the real one has a confidence interval "
                    "covering zero",
}


@dataclass(frozen=True)
class Refutation:
    """One refutation test: what was done, its numbers, the verdict and the rule behind it."""

    name: str
    description: str
    verdict: str  # "pass" | "warn" | "not run"
    rule: str
    numbers: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "verdict": self.verdict, "rule": self.rule,
                "numbers": {k: (None if v is None or not math.isfinite(v) else float(v))
                            for k, v in self.numbers.items()},
                "reason": self.reason}


@dataclass(frozen=True)
class RefutationReport:
    """Every refutation test that ran, with the seed and the time taken."""

    tests: tuple[Refutation, ...]
    seed: int
    simulations: int
    seconds: float

    @property
    def passed(self) -> bool:
        return all(t.verdict != "warn" for t in self.tests)

    def to_dict(self) -> dict[str, Any]:
        return {"computed": True, "seed": self.seed, "simulations": self.simulations,
                "tests": [t.to_dict() for t in self.tests]}

    def table(self) -> str:
        lines = [f"  {'test':<20} {'verdict':<8} numbers"]
        for t in self.tests:
            nums = ", ".join(f"{k} {v:.4g}" for k, v in t.numbers.items() if v is not None)
            lines.append(f"  {t.name.replace('_', ' '):<20} {t.verdict:<8} {nums or t.reason}")
        return "\n".join(lines)


# ------------------------------------------------------------------ tests
def _replicate(stream: np.random.SeedSequence, draw, evaluate, B: int, n_jobs: int, progress) -> np.ndarray:
    """``evaluate(draw(rng_b))`` for b = 1..B, where rng_b is the b-th child of the test's stream.  Each
    replication is a function of its own stream alone, so the numbers are the same for every ``n_jobs``; with
    ``n_jobs > 1`` the replications (their draws included) run in that many threads, as numpy's generators,
    linear algebra and causalspec's kernels release the GIL; a draw lives only inside its own replication."""
    children = stream.spawn(B)

    def one(b: int) -> float:
        return evaluate(draw(np.random.default_rng(children[b])))

    out = np.empty(B)
    with ThreadPoolExecutor(max_workers=n_jobs) if n_jobs > 1 else nullcontext() as pool:
        for b, value in enumerate(map(one, range(B)) if pool is None else pool.map(one, range(B))):
            out[b] = value
            progress.step()
    return out


def _jobs(n_jobs) -> int:
    """``n_jobs`` as a thread count: a whole number >= 1, or -1 for one per core."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or not (n_jobs >= 1 or n_jobs == -1):
        raise UnsupportedError(Problem("n_jobs", f"n_jobs must be a whole number >= 1 or -1 (got {n_jobs!r}).",
                                       fix="Pass n_jobs=2 (causalspec run --jobs 2) for two threads, or -1 for "
                                       "one per core.", code="n_jobs_invalid"))
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def _placebo_treatment(engine, actual, se, stream, B, alpha, progress, n_jobs=1) -> Refutation:
    values, codes = engine.treatment_values(), None
    if engine.fast:  # shuffle the values' smallest integer codes: the same permutation, a fraction of the memory
        uniques, inverse = np.unique(values, return_inverse=True)
        if len(uniques) <= 1 << 16:
            codes = inverse.astype(np.uint8 if len(uniques) <= 1 << 8 else np.uint16)

    def draw(rng) -> np.ndarray:
        return rng.permuted(values) if codes is None else uniques[rng.permuted(codes)]

    est = _replicate(stream, draw, lambda v: engine.estimate(treatment=v), B, n_jobs, progress)
    mean, sd = float(est.mean()), float(est.std(ddof=1)) if B > 1 else 0.0
    mc_se = sd / math.sqrt(B)
    p = (1 + int(np.sum(np.abs(est) >= abs(actual)))) / (1 + B)
    ok = abs(mean) <= 3 * mc_se + 1e-12 * max(1.0, abs(actual)) and p <= alpha
    return Refutation("placebo_treatment", "the treatment column permuted at random; the effect should vanish",
                      "pass" if ok else "warn", RULES["placebo_treatment"],
                      {"actual": actual, "placebo_mean": mean, "placebo_sd": sd, "p_value": p, "replications": B})


def _random_common_cause(engine, actual, se, stream, B, progress, n_jobs=1) -> Refutation:
    n = len(engine.frame)
    shifts = _replicate(stream, lambda rng: rng.standard_normal(n), lambda z: engine.estimate(extra=z), B, n_jobs,
                        progress) - actual
    mean_rel = float(abs(shifts.mean()) / se)
    max_rel = float(np.abs(shifts).max() / se)
    ok = mean_rel < 0.1 and max_rel <= 0.5
    return Refutation("random_common_cause", "an independent N(0, 1) covariate added to the model; the estimate "
                      "should not move", "pass" if ok else "warn", RULES["random_common_cause"],
                      {"actual": actual, "mean_shift": float(shifts.mean()), "mean_shift_in_se": mean_rel,
                       "max_shift_in_se": max_rel, "replications": B})


def _data_subsets(engine, actual, se, stream, B, fraction, progress, n_jobs=1) -> Refutation:
    n = len(engine.frame)
    unit = engine.plan.settings.unit if engine.plan.estimator in COHORT_BASED else None
    if unit:  # panels: keep whole units, so every kept unit keeps all its periods
        codes, uniques = pd.factorize(engine.frame[unit])
    size = len(uniques) if unit else n
    left = size - max(2, int(round(fraction * size)))  # the rows (units) each subset leaves out

    def draw(rng) -> np.ndarray:  # the rows left out
        out = rng.choice(size, size=left, replace=False, shuffle=False)
        if not unit:
            return out
        chosen = np.zeros(size, dtype=bool)
        chosen[out] = True
        return np.flatnonzero(chosen[codes])

    engine.prepare_subsets()
    est = _replicate(stream, draw, lambda out: engine.estimate(left_out=out), B, n_jobs, progress)
    expected = se * math.sqrt((1 - fraction) / fraction)
    sd = float(est.std(ddof=1)) if B > 1 else 0.0
    ratio = sd / expected if expected > 0 else math.inf
    same_sign = float(np.mean(np.sign(est) == np.sign(actual)))
    return Refutation("data_subsets", f"re-estimated on random {fraction:.0%} subsets of the rows; the estimate "
                      "should be stable", "pass" if ratio <= 1.5 else "warn", RULES["data_subsets"],
                      {"actual": actual, "subset_mean": float(est.mean()), "subset_sd": sd,
                       "expected_sd": expected, "sd_ratio": ratio, "same_sign_share": same_sign,
                       "replications": B})


def _placebo_outcome(result, data: pd.DataFrame, column: str) -> Refutation:

    plan = replace(result.plan, sensitivity=SensitivityPlan(False, "refutation refit"), heterogeneity=None)
    if column not in data.columns:
        return Refutation("placebo_outcome", "", "not run", RULES["placebo_outcome"],
                          reason=f"the placebo outcome {column!r} is not a column of the data")
    old = quote_name(plan.outcome)
    formula = quote_name(column) + plan.formula[len(old):] if plan.formula.startswith(old) else plan.formula
    naive = quote_name(column) + plan.naive_formula[len(old):]
    columns = tuple(column if c == plan.outcome else c for c in plan.columns)
    placebo = replace(plan, outcome=column, formula=formula, naive_formula=naive, columns=columns,
                      column_fields=tuple((column, "sensitivity.placebo_outcome") if c == plan.outcome else (c, f)
                                          for c, f in plan.column_fields))
    eff = fit(placebo, data).effect
    ok = eff.conf_low <= 0 <= eff.conf_high
    return Refutation("placebo_outcome", f"the effect on {column!r}, which the treatment cannot affect; it should "
                      "be zero", "pass" if ok else "warn", RULES["placebo_outcome"],
                      {"estimate": eff.estimate, "std_error": eff.std_error, "conf_low": eff.conf_low,
                       "conf_high": eff.conf_high, "p_value": eff.p_value})


def _timing(plan, frame: pd.DataFrame):
    """(unit, time, first treated period per row or NaN for never treated) for panel DiD designs, else None."""
    s = plan.settings
    if plan.estimator in COHORT_BASED and s.first_treated:
        ft = frame[s.first_treated].astype(float)
        return s.unit, s.time, ft.where(ft > 0)
    if plan.estimator is Estimator.TWFE and len(s.fixed_effects) >= 2:
        unit, time = s.fixed_effects[:2]
        treated_time = frame[time].where(frame[plan.treatment].astype(float) == 1)
        return unit, time, treated_time.groupby(frame[unit]).transform("min").astype(float)
    return None


def _placebo_date(result, data: pd.DataFrame, shift: int = 2) -> Refutation:
    """Move each treated unit's adoption `shift` periods earlier and keep only the periods before the real one:
    a difference in differences on pre-treatment data only, which should find nothing."""

    plan = replace(result.plan, heterogeneity=None)  # refits estimate the average effect only
    rule = RULES["placebo_date"]
    if plan.design not in ("did", "event_study"):
        return Refutation("placebo_date", "", "not run", rule, reason="a placebo date needs a DiD design")
    frame = data.loc[:, list(dict.fromkeys(plan.columns))].dropna(subset=[plan.outcome])
    timing = _timing(plan, frame)
    if timing is None:
        return Refutation("placebo_date", "", "not run", rule,
                          reason="a 2x2 design has one period before the change, so no earlier date can be tested")
    unit, time, first = timing
    periods = np.sort(frame[time].unique())
    rank = {t: i for i, t in enumerate(periods)}
    t_rank = frame[time].map(rank).to_numpy(float)
    f_rank = first.map(lambda v: rank.get(v, np.nan) if v == v else np.nan).to_numpy(float)
    keep = np.isnan(f_rank) | (t_rank < f_rank)  # never treated, or before the real adoption
    fake = (~np.isnan(f_rank)) & (t_rank >= f_rank - shift)
    sub = frame.loc[keep]
    d_fake = fake[keep].astype(float)
    if d_fake.sum() == 0 or d_fake.sum() == len(d_fake):
        return Refutation("placebo_date", "", "not run", rule, reason=f"no pre-treatment periods {shift} or more "
                          "before adoption to build a placebo from")
    if plan.estimator in COHORT_BASED and plan.settings.first_treated:
        return _placebo_cohorts(result, frame, keep, f_rank, periods, shift, rule)
    fit = feols(sub[plan.outcome].to_numpy(float), d_fake[:, None], ["placebo"], sub[[unit, time]])
    V = fixest_vcov(fit, "cluster", sub.loc[fit.sample.mask, [unit]] if not fit.sample.mask.all() else sub[[unit]])
    row = coeftable(fit, V, plan.vcov.level).iloc[0]
    ok = row["conf_low"] <= 0 <= row["conf_high"]
    return Refutation("placebo_date", f"adoption moved {shift} periods earlier, on the periods before the real "
                      "adoption only (two-way fixed effects, clustered by unit); the effect should be zero",
                      "pass" if ok else "warn", rule,
                      {"estimate": float(row["estimate"]), "std_error": float(row["std_error"]),
                       "conf_low": float(row["conf_low"]), "conf_high": float(row["conf_high"]),
                       "p_value": float(row["p_value"]), "shift_periods": shift, "rows": int(len(sub))})


def _placebo_cohorts(result, frame, keep, f_rank, periods, shift: int, rule: str) -> Refutation:
    """The chosen cohort estimator (TWFE event study, Sun & Abraham, Callaway & Sant'Anna) re-run on the periods
    before each unit's real adoption, with adoption moved ``shift`` periods earlier; units with no period left
    before the fake date are left out."""
    plan = replace(result.plan, sensitivity=SensitivityPlan(False, "placebo-date refit"))
    s = plan.settings
    fake_rank = f_rank - shift
    usable = np.isnan(f_rank) | (fake_rank >= 1)  # at least one period before the fake adoption
    rows = keep & usable
    fake_first = np.where(np.isnan(f_rank), frame[s.first_treated].to_numpy(float),
                          periods[np.clip(np.nan_to_num(fake_rank, nan=0).astype(int), 0, len(periods) - 1)])
    placebo = frame.loc[rows].assign(**{s.first_treated: fake_first[rows]})
    if not (placebo[s.first_treated].fillna(0) > 0).any():
        return Refutation("placebo_date", "", "not run", rule,
                          reason=f"no cohort has a period {shift} or more before its adoption")
    try:
        eff = fit(plan, placebo).effect
    except CausalSpecError as exc:
        return Refutation("placebo_date", "", "not run", rule, reason=f"the {plan.estimator.value} estimator "
                          f"cannot be fitted on the pre-adoption periods: {exc}")
    ok = eff.conf_low <= 0 <= eff.conf_high
    return Refutation("placebo_date", f"adoption moved {shift} periods earlier, on the periods before the real "
                      f"adoption only, re-estimated with the plan's own estimator ({plan.estimator.value}); the "
                      "effect should be zero", "pass" if ok else "warn", rule,
                      {"estimate": eff.estimate, "std_error": eff.std_error, "conf_low": eff.conf_low,
                       "conf_high": eff.conf_high, "p_value": eff.p_value, "shift_periods": shift,
                       "rows": int(rows.sum())})


def refute(result, data: pd.DataFrame, *, progress: bool = False, tests: tuple[str, ...] | None = None,
           n_jobs: int = 1) -> RefutationReport:
    """Run the refutation tests the plan lists (``plan.sensitivity.refutations``) on the fitted result.

    ``data`` is the data the result was fitted on (rows with missing values are removed as ``fit`` does).
    Deterministic given ``plan.seed``, whatever ``n_jobs``: the replications of the placebo-treatment,
    random-common-cause and data-subsets tests run in ``n_jobs`` threads (``-1``: one per core), their random
    draws still taken in order from one stream per test.  ``progress=True`` draws a progress bar on stderr.
    """
    n_jobs = _jobs(n_jobs)
    data = as_pandas(data)
    sp = result.plan.sensitivity
    names = tuple(tests) if tests is not None else tuple(sp.refutations)
    B = int(sp.simulations)
    start = time.perf_counter()
    engine = Engine(result, data)
    actual, se = float(result.effect.estimate), float(result.effect.std_error)
    streams = dict(zip(_NAMES, np.random.SeedSequence(result.plan.seed).spawn(len(_NAMES))))
    random_tests = [n for n in names if n in ("placebo_treatment", "random_common_cause", "data_subsets")]
    bar = Progress(B * len(random_tests), "refutation tests", enabled=progress)
    out = []
    try:
        for name in names:
            stream = streams[name]
            try:
                if name in ("placebo_treatment", "random_common_cause") and result.plan.estimator in COHORT_BASED:
                    out.append(Refutation(name, "", "not run", RULES[name], reason=(
                        "the event-study estimators build treatment timing from the cohort column, not from the "
                        "treatment column, so this test does not apply")))
                    bar.step(B)
                elif name == "placebo_treatment":
                    out.append(_placebo_treatment(engine, actual, se, stream, B, 0.05, bar, n_jobs))
                elif name == "random_common_cause" and result.plan.settings.with_regressor(RANDOM) is None:
                    out.append(Refutation(name, "", "not run", RULES[name], reason=(
                        f"the {result.plan.estimator.value} model takes no extra covariate, so a random common "
                        "cause cannot enter it")))
                    bar.step(B)
                elif name == "random_common_cause":
                    out.append(_random_common_cause(engine, actual, se, stream, B, bar, n_jobs))
                elif name == "data_subsets":
                    out.append(_data_subsets(engine, actual, se, stream, B, sp.subset_fraction, bar, n_jobs))
                elif name == "placebo_outcome":
                    out.append(_placebo_outcome(result, data, sp.placebo_outcome))
                else:
                    out.append(_placebo_date(result, data))
            except CausalSpecError as exc:
                out.append(Refutation(name, "", "not run", RULES.get(name, ""), reason=str(exc)))
    finally:
        bar.close()
    return RefutationReport(tuple(out), int(result.plan.seed), B, time.perf_counter() - start)

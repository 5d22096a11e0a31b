"""Text for power calculations: the answer in one sentence, then R's ``print.power.htest`` block."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from causalspec.power._api import SRMTest
    from causalspec.power._power import PowerResult

__all__ = ["power_answer", "power_summary", "srm_summary"]


def _r(value: float | None, digits: int = 7) -> str:
    """``format(x, digits = 7)`` as R prints a number in ``print.power.htest``."""
    if value is None:
        return "NULL"
    return f"{value:.{digits}g}"


def _sided(result: "PowerResult") -> str:
    return f"{'two' if result.alternative == 'two.sided' else 'one'}-sided test at {result.sig_level:.4g}"


def _units(result: "PowerResult") -> str:
    return {"paired": "pairs", "one.sample": "observations"}.get(result.type or "", "per arm")


def power_answer(result: "PowerResult") -> str:
    """One sentence: the quantity solved for, then what it was solved from."""
    means = result.p1 is None
    if means:
        effect = f"a difference of {_r(result.delta, 4)} (sd {_r(result.sd, 4)})"
    else:
        effect = f"p1 = {_r(result.p1, 4)} vs p2 = {_r(result.p2, 4)}"
    units = _units(result)
    n_text = f"{result.n:,.0f} {units}" if float(result.n).is_integer() else f"{result.n:,.4g} {units}"
    if result.solved_for == "n":
        need = math.ceil(result.n - 1e-9)
        return (f"n = {need:,} {units} ({_r(result.n)} before rounding up) for power {result.power:.4g} to detect "
                f"{effect}, {_sided(result)}.")
    if result.solved_for == "power":
        return f"power = {result.power:.4g} with {n_text} to detect {effect}, {_sided(result)}."
    if result.solved_for == "delta":
        return (f"minimum detectable effect = {_r(result.delta, 4)} (difference in means; sd {_r(result.sd, 4)}) "
                f"with {n_text} at power {result.power:.4g}, {_sided(result)}.")
    if result.solved_for == "p2" and not means:
        diff = result.p2 - result.p1
        rel = f", {diff / result.p1:+.1%} relative" if result.p1 else ""
        return (f"minimum detectable p2 = {_r(result.p2, 4)} from p1 = {_r(result.p1, 4)} ({diff:+.4g} absolute{rel}) "
                f"with {n_text} at power {result.power:.4g}, {_sided(result)}.")
    solved = getattr(result, result.solved_for)
    return f"{result.solved_for} = {_r(solved, 4)} for power {result.power:.4g} with {n_text}."


def power_summary(result: "PowerResult") -> str:
    """The answer, then the block R prints for a ``power.htest`` (all quantities, the solved one filled in)."""
    if result.p1 is None:
        rows = [("n", result.n), ("delta", result.delta), ("sd", result.sd)]
    else:
        rows = [("n", result.n), ("p1", result.p1), ("p2", result.p2)]
    rows += [("sig.level", result.sig_level), ("power", result.power)]
    lines = [power_answer(result), "", f"     {result.method}", ""]
    lines += [f"{name:>15} = {_r(value)}" for name, value in rows]
    lines.append(f"{'alternative':>15} = {result.alternative}")
    if result.note:
        lines += ["", f"NOTE: {result.note}"]
    return "\n".join(lines) + "\n"


def srm_summary(test: "SRMTest") -> str:
    """The verdict first, then the observed and expected arm sizes and the chi-square test."""
    if test.mismatch:
        head = (f"SAMPLE-RATIO MISMATCH: p = {test.p_value:.3g} < alpha = {test.alpha:g}. The arms are not in the "
                "planned ratio: assignment or logging is broken somewhere, so do not trust the effect estimate "
                "until the cause is found.")
    else:
        head = (f"No sample-ratio mismatch: p = {test.p_value:.3g} >= alpha = {test.alpha:g}; the arm sizes are "
                "consistent with the planned ratio.")
    lines = [head, "", "  arm     observed      expected  planned share"]
    for i, (obs, exp, share) in enumerate(zip(test.counts, test.expected, test.shares), 1):
        shown = f"{int(obs):,}" if float(obs).is_integer() else f"{obs:,.4f}"
        lines.append(f"  {i:<3} {shown:>12}  {exp:>12,.1f}  {share:>13.4f}")
    lines += ["", f"Chi-squared test for given probabilities: X-squared = {test.statistic:.4g}, df = {test.df}, "
                  f"p-value = {test.p_value:.4g}  (matches {test.r_equivalent})"]
    lines += [f"warning: {w}" for w in test.warnings]
    return "\n".join(lines) + "\n"

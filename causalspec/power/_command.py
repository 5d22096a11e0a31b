"""``causalspec power means | proportions | srm``: the arguments and which function answers them.

Kept beside the functions it calls so that ``cli.py`` stays a list of commands; it only reads argparse's
namespace and returns text.  Which quantity is solved for follows from what is missing: give two of ``--n``,
the effect (``--delta`` / ``--p2``) and ``--power``; ``--power`` defaults to 0.8 when it is not the one solved.
Errors name the flag the user typed (``--power: power = 1.5 is not strictly between 0 and 1 ...``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from causalspec.errors import CausalSpecError, Problem, SpecError
from causalspec.power._api import (mde_means, mde_proportions, power_means, power_proportions, sample_size_means,
                                   sample_size_proportions, srm_test)

__all__ = ["add_power_parser", "power_command"]

_FLAGS = {"n": "--n", "delta": "--delta", "sd": "--sd", "p1": "--p1", "p2": "--p2", "power": "--power",
          "sig_level": "--sig-level", "alternative": "--alternative", "counts": "--counts", "ratio": "--ratio",
          "alpha": "--alpha", "direction": "--decrease"}
_SOLVE = ("Give two of --n, the effect and --power; the third is solved for (--power defaults to 0.8 when it is "
          "not the one solved for).  Numbers match R's {r}.")


def add_power_parser(sub) -> None:
    """The ``power`` command and its three kinds, on the CLI's subparsers."""
    pw = sub.add_parser("power", help="power, sample size, minimum detectable effect; sample-ratio mismatch "
                                      "(docs/power.md)")
    kinds = pw.add_subparsers(dest="power_kind", metavar="KIND", required=True)
    means = kinds.add_parser("means", help="difference in means (R's power.t.test)",
                             description=_SOLVE.format(r="power.t.test"))
    props = kinds.add_parser("proportions", help="difference in proportions (R's power.prop.test)",
                             description=_SOLVE.format(r="power.prop.test"))
    for q in (means, props):
        q.add_argument("--n", type=float, help="units per arm (pairs when paired)")
        q.add_argument("--power", type=float, help="the chance of detecting the effect (default 0.8)")
        q.add_argument("--sig-level", "--alpha", dest="sig_level", type=float, default=0.05,
                       help="significance level (default 0.05)")
        q.add_argument("--alternative", choices=("two.sided", "one.sided"), default="two.sided")
        q.add_argument("--mde", action="store_true", help="solve for the minimum detectable effect (needs --n)")
        q.add_argument("--json", action="store_true", help="print every quantity as JSON")
    means.add_argument("--delta", type=float, help="the difference in means to detect")
    means.add_argument("--sd", type=float, default=1.0, help="the outcome's standard deviation (default 1)")
    means.add_argument("--type", choices=("two.sample", "one.sample", "paired"), default="two.sample")
    props.add_argument("--p1", type=float, required=True, help="the control (baseline) proportion")
    props.add_argument("--p2", type=float, help="the treated proportion to detect")
    props.add_argument("--decrease", action="store_true", help="with --mde: the detectable p2 below p1")
    srm = kinds.add_parser("srm", help="sample-ratio mismatch: chi-square test of the arm sizes (R's chisq.test)",
                           description="Are the arm sizes consistent with the planned ratio?  Matches R's "
                                       "chisq.test(counts, p = ratio, rescale.p = TRUE).")
    srm.add_argument("--counts", type=float, nargs="+", required=True, metavar="N", help="units in each arm")
    srm.add_argument("--ratio", type=float, nargs="+", metavar="W", help="planned ratio, e.g. 1 1 (default equal)")
    srm.add_argument("--alpha", type=float, default=0.001,
                     help="flag a mismatch below this p-value (default 0.001)")
    srm.add_argument("--json", action="store_true", help="print the test as JSON")


def power_command(args: argparse.Namespace) -> str:
    """The text (or JSON) ``causalspec power`` prints; causalspec errors come back located at the flags."""
    try:
        res = _answer(args)
    except CausalSpecError as exc:
        raise type(exc)([replace(p, loc=_flag(p.loc)) for p in exc.problems]) from None
    return json.dumps(res.to_dict(), indent=2) + "\n" if args.json else res.summary()


def _flag(loc: str) -> str:
    name, bracket, rest = loc.partition("[")
    return _FLAGS.get(name, name) + bracket + rest


def _answer(args: argparse.Namespace):
    if args.power_kind == "srm":
        return srm_test(args.counts, args.ratio, alpha=args.alpha)
    means = args.power_kind == "means"
    effect, name = (args.delta, "--delta") if means else (args.p2, "--p2")
    if args.mde and effect is not None:
        raise SpecError(Problem(name, "--mde solves for the effect, so the effect cannot be given too.",
                                fix=f"Drop {name}, or drop --mde."))
    if args.n is not None and effect is not None and args.power is not None:
        raise SpecError(Problem("--power", "--n, the effect and --power are all given: nothing is left to solve.",
                                fix="Leave out the one to solve for (--power for the power, --n for the sample "
                                    "size)."))
    common = {"sig_level": args.sig_level, "alternative": args.alternative}
    power = 0.8 if args.power is None else args.power
    if args.mde or (effect is None and args.n is not None):
        if args.n is None:
            raise SpecError(Problem("--n", "the minimum detectable effect needs the sample size.",
                                    fix="Give --n, the units per arm."))
        if means:
            return mde_means(args.n, args.sd, power=power, type=args.type, **common)
        return mde_proportions(args.n, args.p1, power=power, direction="decrease" if args.decrease else "increase",
                               **common)
    if effect is None:
        raise SpecError(Problem(name, "nothing to solve for: the effect to detect is missing.",
                                fix=f"Give {name} (and --power for the sample size, or --n for the power), or "
                                    "--n with --mde for the smallest detectable effect."))
    if args.n is not None:
        if means:
            return power_means(args.n, effect, args.sd, type=args.type, **common)
        return power_proportions(args.n, args.p1, effect, **common)
    if means:
        return sample_size_means(effect, args.sd, power=power, type=args.type, **common)
    return sample_size_proportions(args.p1, effect, power=power, **common)

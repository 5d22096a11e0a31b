"""causalspec: declarative, reviewable causal analysis whose numbers match R.

>>> import causalspec as cs
>>> spec = cs.load("specs/feature_adoption.yaml")   # doctest: +SKIP
>>> print(cs.plan(spec).explain())                  # doctest: +SKIP
>>> result = cs.run(spec)                           # doctest: +SKIP
"""

from causalspec._version import __version__
from causalspec import datasets, errors
from causalspec.api import check, fit, load, plan, run
from causalspec.archive import archive, diff, verify
from causalspec.errors import CausalSpecError
from causalspec.result import Estimate, Result
from causalspec.planner import Plan
from causalspec.report import etable
from causalspec import power, robustness
from causalspec.robustness import refute
from causalspec.spec import Spec, dump, dumps, json_schema, loads

__all__ = [
    "__version__",
    "Spec",
    "Plan",
    "Result",
    "Estimate",
    "CausalSpecError",
    "load",
    "loads",
    "dump",
    "dumps",
    "plan",
    "fit",
    "run",
    "check",
    "archive",
    "verify",
    "diff",
    "etable",
    "refute",
    "robustness",
    "power",
    "json_schema",
    "datasets",
    "errors",
]

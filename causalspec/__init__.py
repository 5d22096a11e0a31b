"""causalspec: declarative, reviewable causal analysis whose numbers match R.

>>> import causalspec as cs
>>> spec = cs.load("specs/feature_adoption.yaml")   # doctest: +SKIP
>>> print(cs.plan(spec).explain())                  # doctest: +SKIP
>>> result = cs.run(spec)                           # doctest: +SKIP
"""

__version__ = "0.1.0"

from . import datasets, errors
from .api import check, fit, load, plan, run
from .archive import archive, diff, verify
from .errors import CausalSpecError
from .estimators import Estimate, Result
from .planner import Plan
from .report import etable
from . import refute
from .spec import Spec, dump, dumps, json_schema, loads

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
    "json_schema",
    "datasets",
    "errors",
]

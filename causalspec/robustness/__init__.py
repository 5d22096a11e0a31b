"""Robustness checks on a fitted result: refutation tests and the specification curve across adjustment sets.

>>> import causalspec as cs
>>> result = cs.run("specs/feature_adoption.yaml", refute=False)          # doctest: +SKIP
>>> report = cs.refute.refute(result, cs.datasets.feature_adoption())    # doctest: +SKIP
"""

from causalspec.robustness._dag_check import dag_checks, dag_tests
from causalspec.robustness._curve import CURVE_RULE, CurveRow, SpecificationCurve, specification_curve, specification_curve_plot
from causalspec.robustness._refute import RULES, Refutation, RefutationReport, refute

__all__ = ["dag_checks", "dag_tests", "refute", "Refutation", "RefutationReport", "RULES", "specification_curve", "SpecificationCurve",
           "CurveRow", "specification_curve_plot", "CURVE_RULE"]

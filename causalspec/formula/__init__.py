"""The formula kernel: R-style formulas parsed (never evaluated), materialised against data, and fixest syntax.

* :mod:`._parse` reads a formula or a term into a small syntax tree, refusing anything that is not a column
  name, a number, an operator or an allow-listed transform;
* :mod:`._evaluate` interprets that tree on a DataFrame (no ``eval``: each node maps to a numpy function);
* :mod:`._terms` expands terms (``a*b``, ``(a+b)^2``) and codes factors as R does;
* :mod:`._materialize` builds the design matrix with R's column names and counts dropped rows;
* :mod:`._fixest` parses fixest formulas (``y ~ x | fe1 + fe2 | d ~ z``).

Column names reach the parser quoted (:func:`quote_name`), so no user text is ever evaluated.
"""

from causalspec.formula._fixest import FixestFormula, parse_fixest
from causalspec.formula._materialize import Design, materialize
from causalspec.formula._parse import check_term, parse_formula, quote_name, r_display

__all__ = ["Design", "FixestFormula", "check_term", "materialize", "parse_fixest", "parse_formula", "quote_name",
           "r_display"]

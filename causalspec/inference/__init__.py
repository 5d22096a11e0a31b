"""Variance estimators shared by all estimators, and the coefficient table.

>>> from causalspec.inference import vcov, coef_table  # doctest: +SKIP
"""

from causalspec.inference._clusters import Clusters, cluster_meat, cluster_sums, make_clusters, score_meat
from causalspec.inference._cr2 import cr2_vcov
from causalspec.inference._table import TIDY_COLUMNS, coef_table
from causalspec.inference._vcov import VCOV_KINDS, Vcov, VcovKind, vcov

__all__ = [
    "Vcov",
    "VcovKind",
    "VCOV_KINDS",
    "vcov",
    "coef_table",
    "TIDY_COLUMNS",
    "Clusters",
    "make_clusters",
    "cluster_sums",
    "cluster_meat",
    "score_meat",
    "cr2_vcov",
]

"""Callaway & Sant'Anna (2021) staggered-adoption difference-in-differences (matches did::att_gt / aggte)."""

from ._aggte import AggteResult, aggte
from ._attgt import AttGtResult, att_gt
from ._mboot import BootstrapResult, multiplier_bootstrap

__all__ = ["att_gt", "AttGtResult", "aggte", "AggteResult", "multiplier_bootstrap", "BootstrapResult"]

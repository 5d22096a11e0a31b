"""Callaway & Sant'Anna (2021) staggered-adoption difference-in-differences (matches did::att_gt / aggte)."""

from causalspec.estimators.callaway_santanna._aggte import AggteResult, aggte
from causalspec.estimators.callaway_santanna._attgt import AttGtResult, att_gt
from causalspec.estimators.callaway_santanna._mboot import BootstrapResult, multiplier_bootstrap

__all__ = ["att_gt", "AttGtResult", "aggte", "AggteResult", "multiplier_bootstrap", "BootstrapResult"]

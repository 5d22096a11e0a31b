"""Two-period difference in differences with covariates: the five ATT estimators of DRDID (Sant'Anna & Zhao
2020), for panel data and for repeated cross-sections, with their analytical SEs and influence functions.

* :func:`drdid_imp` — improved locally efficient doubly robust (``DRDID::drdid``'s default);
* :func:`drdid_trad` — the traditional locally efficient doubly robust estimator (``estMethod = "trad"``);
* :func:`ipw_did` — Abadie's (2005) IPW, weights not normalised (``DRDID::ipwdid(normalized = FALSE)``);
* :func:`std_ipw_did` — standardised (Hajek) IPW (``DRDID::ipwdid``);
* :func:`reg_did` — outcome regression (``DRDID::ordid``).
"""

from causalspec.estimators.drdid._api import (
    METHODS,
    CrossSections,
    PanelData,
    cross_sections,
    drdid_imp,
    drdid_trad,
    ipw_did,
    panel_data,
    reg_did,
    std_ipw_did,
)
from causalspec.estimators.drdid._nuisance import DrDidFailure, DrDidResult, drdid_se, fit_logit

__all__ = ["drdid_imp", "drdid_trad", "ipw_did", "std_ipw_did", "reg_did", "METHODS", "PanelData",
           "CrossSections", "panel_data", "cross_sections", "DrDidResult", "DrDidFailure", "drdid_se", "fit_logit"]

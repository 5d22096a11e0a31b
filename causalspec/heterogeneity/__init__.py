"""Heterogeneous effects, uplift and targeting (issue 15): the numerical kernels.

Arrays in, frozen dataclasses out; no Spec, Plan or Result is seen here.

* learners (``fit_cate``): DR, T, S, X and R with cross-fitting, scikit-learn models by short name
  (``ModelChoice``: linear, ridge, lasso, logistic, gradient_boosting, random_forest);
* group effects: doubly robust segment ATEs, GATES, BLP, CLAN, grf's RATE (AUTOC / QINI);
* uplift metrics identical to scikit-uplift's and CausalML's ``get_qini``;
* the policy (treat when value x CATE > cost) with its doubly robust value, budgets and the value curve;
* figures taking ``ax=``; the ``renewal_discount`` simulator with a known, partly harmful effect.
"""

from causalspec.heterogeneity._groups import (BLP, RATE, GroupEffect, blp, clan, gates, group_ates, is_constant_proxy,
                                              quantile_groups, rate)
from causalspec.heterogeneity._learners import (LEARNERS, CateFit, Nuisances, aipw_scores, check_binary,
                                                check_modifiers, crossfit_nuisances, fit_cate, make_folds)
from causalspec.heterogeneity._models import INSTALL, MODEL_PARAMS, ModelChoice, check_model, require_sklearn
from causalspec.heterogeneity._plots import plot_cate_distribution, plot_group_effects, plot_uplift, plot_value_curve
from causalspec.heterogeneity._policy import Policy, PolicyValue, check_budget, policy, value_curve
from causalspec.heterogeneity._simulate import (RENEWAL_ATE, SEGMENT_BASE, SEGMENT_EFFECTS, SEGMENT_SHARES,
                                                renewal_cate, renewal_discount)
from causalspec.heterogeneity._uplift import (get_qini, perfect_qini_curve, perfect_uplift_curve, qini_auc_score,
                                              qini_curve, uplift_at_k, uplift_auc_score, uplift_curve)

__all__ = [
    "LEARNERS", "CateFit", "Nuisances", "aipw_scores", "check_binary", "check_modifiers", "crossfit_nuisances", "fit_cate", "make_folds",
    "INSTALL", "MODEL_PARAMS", "ModelChoice", "check_model", "require_sklearn",
    "BLP", "RATE", "GroupEffect", "blp", "clan", "gates", "group_ates", "is_constant_proxy", "quantile_groups", "rate",
    "Policy", "PolicyValue", "check_budget", "policy", "value_curve",
    "get_qini", "perfect_qini_curve", "perfect_uplift_curve", "qini_auc_score", "qini_curve", "uplift_at_k",
    "uplift_auc_score", "uplift_curve",
    "plot_cate_distribution", "plot_group_effects", "plot_uplift", "plot_value_curve",
    "RENEWAL_ATE", "SEGMENT_BASE", "SEGMENT_EFFECTS", "SEGMENT_SHARES", "renewal_cate", "renewal_discount",
]

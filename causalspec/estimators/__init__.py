"""Estimation kernels: arrays and frames in, frozen dataclasses out; they never see a Spec, Plan or Result.

* :mod:`._linear` — the one least-squares engine (QR, R's pivoting and rank rule) and ``LinearFit``;
* :mod:`.fixest` — OLS with absorbed fixed effects (fixest's demeaning and convergence rule), ``i()``, ``sunab()``;
* :mod:`._iv` — two-stage least squares (fixest and AER::ivreg);
* :mod:`._experiment` — the difference in means and Lin (2013) (estimatr);
* :mod:`._propensity` — propensity models, IPW, AIPW, overlap and trimming;
* :mod:`._matching` — nearest-neighbour matching as MatchIt does it;
* :mod:`.callaway_santanna` — Callaway & Sant'Anna (2021): ATT(g, t), DR-DiD, aggregations, multiplier bootstrap.
"""

__all__: list[str] = []

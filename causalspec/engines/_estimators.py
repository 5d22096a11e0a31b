"""The regression estimators on an engine: OLS (lm with sandwich / estimatr variances) and fixest's feols.

Each takes a :class:`~causalspec.engines.Source` and column names (what a Plan names: outcome, treatment and
adjustment set as regressors, fixed effects, cluster), builds the complete-case sample in the engine and returns
an :class:`~causalspec.engines.EngineFit` whose numbers are the in-memory path's
(``designs/observational/fit.py`` and ``designs/panel/fit.py``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalspec.engines._fe import fe_design
from causalspec.engines._ols import EngineFit, LinearDesign, solve
from causalspec.engines._sql import Source, lit
from causalspec.errors import Problem, UnsupportedError

__all__ = ["ols", "feols"]


def _tuple(v) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v or ())


def ols(source: Source, outcome: str, regressors: Sequence[str], *, vcov: str = "HC2", cluster=(),
        level: float = 0.95, flavour: str = "sandwich", columns: Sequence[str] | None = None,
        fields: dict[str, str] | None = None) -> EngineFit:
    """``lm(outcome ~ regressors)`` with ``sandwich`` variances (``flavour="estimatr"``: estimatr's CR0 and
    CR1 = stata, G - 1 df), as ``causalspec.inference.vcov``.  ``columns``: every column the plan uses, in the
    order missing values are attributed (the plan's ``columns``)."""
    cluster = _tuple(cluster)
    regressors = tuple(regressors)
    used = tuple(columns) if columns else (outcome, *regressors, *cluster)
    sample = source.sample(tuple(dict.fromkeys((*used, outcome, *regressors, *cluster))), fields,
                           numeric=(outcome, *regressors))
    kind = vcov
    if flavour == "estimatr" and kind in ("CR0", "CR1"):
        kind = "CR0_estimatr" if kind == "CR0" else "stata"
    q = sample.q
    design = LinearDesign(sample, sample.view, q(outcome), tuple(q(r) for r in regressors), regressors, True)
    return solve(design, kind, cluster, convention="sandwich", level=level)


_FIXEST_KINDS = {"iid": "iid", "HC1": "HC1", "hetero": "HC1", "CR1": "CR1", "cluster": "CR1"}


def feols(source: Source, outcome: str, regressors: Sequence[str], fixed_effects: Sequence[str] = (), *,
          vcov: str | None = None, cluster=None, level: float = 0.95, fixef_rm: str = "none",
          columns: Sequence[str] | None = None, fields: dict[str, str] | None = None,
          tol: float = 1e-6, maxiter: int = 10_000) -> EngineFit:
    """``fixest::feols(outcome ~ regressors | fixed_effects)`` with fixest's variance (default: clustered by the
    first fixed effect, iid without one), as ``estimators.fixest.feols`` + ``inference.fixest_vcov``."""
    fes = _tuple(fixed_effects)
    if fixef_rm != "none":
        raise UnsupportedError(Problem("design.singletons", "dropping fixed-effect singletons is not done by the "
                                       "engine in this version.", fix="Use singletons: keep (fixest's default), or "
                                       "engine: memory.", code="engine_singletons"))
    if vcov is None:
        vcov, cluster = ("CR1", fes[:1]) if fes else ("iid", ())
    if vcov not in _FIXEST_KINDS:
        raise UnsupportedError(Problem("inference.vcov", f"{vcov} is not computed by the engine with fixed effects.",
                                       fix="Use iid, HC1 or CR1 (fixest's variances), or engine: memory.",
                                       code="engine_vcov_unsupported"))
    kind = _FIXEST_KINDS[vcov]
    cluster = _tuple(cluster) if kind == "CR1" else ()
    if kind == "CR1" and not cluster:
        cluster = fes[:1]
    regressors = tuple(regressors)
    used = tuple(columns) if columns else (outcome, *regressors, *fes, *cluster)
    sample = source.sample(tuple(dict.fromkeys((*used, outcome, *regressors, *fes, *cluster))), fields,
                           numeric=(outcome, *regressors))
    q = sample.q
    if not fes:
        design = LinearDesign(sample, sample.view, q(outcome), tuple(q(r) for r in regressors), regressors, True)
        return solve(design, kind, cluster, convention="fixest", level=level)
    design, info = fe_design(sample, outcome, regressors, regressors, fes, cluster, tol=tol, maxiter=maxiter)
    fit = solve(design, kind, cluster, convention="fixest", level=level)
    return type(fit)(**{**fit.__dict__, "stats": _fe_stats(sample, outcome, fit, design, len(regressors)),
                        "extras": {**fit.extras, **info}})


def _fe_stats(sample, outcome: str, fit, design, k: int) -> tuple[tuple[str, float], ...]:
    """fixest's r2, ar2, wr2, war2, rmse, sigma and ssr (``estimators.fixest.fit_stats``): the total R2 needs the
    outcome's sum of squares around its mean, two more passes (the mean, then the centred sum); the fixed effects
    count as the intercept (df 1 in ar2), as in fixest."""
    b, q = sample.backend, sample.q
    s = dict(fit.stats)
    n, ssr = fit.nobs, s["ssr"]
    K = k + design.extra_params
    mean = float(b.sums(sample.view, [q(outcome)])[0]) / n
    ssr_null = float(b.sums(sample.view, [f"({q(outcome)} - {lit(mean)}) * ({q(outcome)} - {lit(mean)})"])[0])
    ssr_fe_only = ssr + s["mss"]  # the demeaned outcome's sum of squares
    nb_fe = K - k
    return (("r2", 1 - ssr / ssr_null), ("ar2", 1 - ssr / ssr_null * (n - 1) / (n - K)),
            ("wr2", 1 - ssr / ssr_fe_only), ("war2", 1 - ssr / ssr_fe_only * (n - nb_fe) / (n - K)),
            ("rmse", float(np.sqrt(ssr / n))), ("sigma", float(np.sqrt(ssr / (n - K)))), ("ssr", ssr))

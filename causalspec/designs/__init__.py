"""Design plug-ins: how each study design is planned, fitted and checked.

The spine (``spec -> plan -> fit``) is design-agnostic.  A design type registers here:

* a **planner** ``(spec, dag) -> dict`` returning the design-specific :class:`~causalspec.planner.Plan`
  fields (identification, estimator and why, formulas, variance, assumptions, settings, columns), for design
  types other than ``observational`` and ``experiment`` (those are planned by ``causalspec.planner._rules``);
* **fitters** ``(plan, frame) -> FitOutput`` for the :class:`~causalspec.planner.Estimator` members it uses;
* optional **checks** ``(plan, frame, output) -> FitOutput`` run after the fit (an experiment's
  sample-ratio-mismatch test, balance tables), which may add warnings and extras.

Modules register with the decorators below at import; :func:`load` imports them once.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["planner", "fitter", "check", "planner_for", "fitter_for", "checks_for", "load"]

_PLANNERS: dict[str, Callable] = {}
_FITTERS: dict = {}
_CHECKS: dict[str, list[Callable]] = {}
_LOADED = False


def planner(design_type: str):
    def register(fn: Callable) -> Callable:
        _PLANNERS[design_type] = fn
        return fn
    return register


def fitter(*estimators):
    def register(fn: Callable) -> Callable:
        for e in estimators:
            _FITTERS[e] = fn
        return fn
    return register


def check(design_type: str):
    def register(fn: Callable) -> Callable:
        _CHECKS.setdefault(design_type, []).append(fn)
        return fn
    return register


def load() -> None:
    """Import the design modules (each registers itself).  Idempotent."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from . import experiment, panel, propensity  # noqa: F401


def planner_for(design_type: str) -> Callable | None:
    load()
    return _PLANNERS.get(design_type)


def fitter_for(estimator) -> Callable | None:
    load()
    return _FITTERS.get(estimator)


def checks_for(design_type: str) -> list[Callable]:
    load()
    return list(_CHECKS.get(design_type, ()))

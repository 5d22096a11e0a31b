"""The regression discontinuity family's typed plan settings: what its fitter and checks read beyond the shared
Plan fields (every rdrobust option the spec sets, and the falsification tests to run)."""

from __future__ import annotations

from dataclasses import dataclass

from causalspec.planner._settings import Settings

__all__ = ["RDSettings", "FalsificationSettings"]


@dataclass(frozen=True)
class FalsificationSettings(Settings):
    """Which falsification tests run after the fit, and with what (None: the data-driven defaults)."""

    density: bool
    balance: tuple[str, ...]
    placebo_cutoffs: tuple[float, ...] | None
    donut: tuple[float, ...] | None
    bandwidths: tuple[float, ...]


@dataclass(frozen=True)
class RDSettings(Settings):
    """rdrobust's options: running variable, cutoff, sharp or fuzzy, kernel, orders, bandwidth choice, variance."""

    running: str
    cutoff: float
    fuzzy: bool
    kernel: str
    p: int
    q: int
    bwselect: str
    h: tuple[float, float] | None
    b: tuple[float, float] | None
    rho: float | None
    nnmatch: int
    covariates: tuple[str, ...]
    falsification: FalsificationSettings | None  # None: turned off
    _omit_none = ("h", "b", "rho")

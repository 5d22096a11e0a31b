"""Inference for a synthetic control by refitting: placebos in space and in time, leave-one-out donors.

* In-space placebos (Abadie, Diamond & Hainmueller 2010, section 4.1; 2015, section 4): every donor in turn is
  treated as if it were the treated unit, with the remaining donors (never the treated unit) as its pool, and
  its synthetic control fitted exactly as the treated unit's was (SCtools::generate.placebos).
* The permutation p-value (ADH 2015, section 4): each unit's ratio of post- to pre-treatment RMSPE of its gaps;
  p = (number of units whose ratio is at least the treated unit's, the treated unit included) / (J + 1), the
  treated unit's rank (SCtools::mspe.test on the ratio of RMSPEs; the ranking is the same for MSPEs).
* Leave-one-out (ADH 2015, section 5.3): the synthetic control refitted without each donor of positive weight.
* In-time placebo (ADH 2015, section 5.1): a fake treatment date inside the pre-period; the design layer
  builds the matrices that end before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalspec._progress import Progress
from causalspec.estimators.synth._synth import SynthFit, synth

__all__ = ["SynthGaps", "fit_gaps", "rmspe_ratio", "permutation_p", "in_space_placebos", "leave_one_out"]


@dataclass(frozen=True)
class SynthGaps:
    """One unit's synthetic control and its gaps (outcome minus synthetic) in every period."""

    unit: int  # column index of the unit treated in this fit
    donors: tuple[int, ...]  # column indices of its donor pool
    fit: SynthFit
    gaps: np.ndarray

    def rmspe(self, mask: np.ndarray) -> float:
        g = self.gaps[mask]
        return float(np.sqrt(np.mean(g ** 2))) if g.size else float("nan")


def fit_gaps(P, Zfit, Yall, unit: int, donors, **options) -> SynthGaps:
    """Fit ``unit``'s synthetic control from ``donors`` (columns of the predictor matrix ``P``, the fit-period
    outcomes ``Zfit`` and the outcomes in every period ``Yall``) and return its gaps."""
    donors = tuple(int(d) for d in donors)
    fit = synth(P[:, unit], P[:, list(donors)], Zfit[:, unit], Zfit[:, list(donors)], **options)
    gaps = Yall[:, unit] - Yall[:, list(donors)] @ fit.weights
    return SynthGaps(unit, donors, fit, gaps)


def rmspe_ratio(gaps: np.ndarray, pre: np.ndarray, post: np.ndarray) -> float:
    """Post-treatment RMSPE over pre-treatment RMSPE of one unit's gaps (inf when the pre-period fit is exact)."""
    pre_rmspe = float(np.sqrt(np.mean(gaps[pre] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gaps[post] ** 2)))
    return post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf")


def permutation_p(treated_ratio: float, placebo_ratios) -> float:
    """The treated unit's rank among all units by RMSPE ratio, divided by the number of units (ADH 2015)."""
    ratios = np.asarray(list(placebo_ratios), dtype=float)
    return float((1 + np.sum(ratios >= treated_ratio)) / (1 + len(ratios)))


def in_space_placebos(P, Zfit, Yall, treated: int, donors, *, progress: bool = False,
                      **options) -> tuple[SynthGaps, ...]:
    """Every donor treated in turn, the other donors as its pool (the treated unit left out)."""
    donors = [int(d) for d in donors if int(d) != treated]
    bar = Progress(len(donors), "synthetic control placebos", enabled=progress)
    out = []
    for d in donors:
        out.append(fit_gaps(P, Zfit, Yall, d, [x for x in donors if x != d], **options))
        bar.step()
    bar.close()
    return tuple(out)


def leave_one_out(P, Zfit, Yall, base: SynthGaps, *, threshold: float = 1e-6,
                  **options) -> tuple[tuple[int, SynthGaps], ...]:
    """The treated unit's synthetic control refitted without each donor whose weight exceeds ``threshold``."""
    out = []
    for d, w in zip(base.donors, base.fit.weights):
        if w > threshold and len(base.donors) > 1:
            out.append((d, fit_gaps(P, Zfit, Yall, base.unit, [x for x in base.donors if x != d], **options)))
    return tuple(out)

"""Synthetic control kernels: arrays in, frozen dataclasses out (they never see a Spec, Plan or Result).

* :func:`synth` — Abadie, Diamond & Hainmueller's synthetic control, the nested V / W optimisation of R's
  ``Synth::synth()``, with the donor weights solved exactly on the simplex (:func:`simplex_least_squares`);
* :func:`in_space_placebos`, :func:`leave_one_out`, :func:`permutation_p`, :func:`rmspe_ratio` — inference by
  refitting (ADH 2010, 2015; SCtools);
* :func:`synthdid_estimate`, :func:`sc_estimate`, :func:`did_estimate` — R's synthdid estimators on one block
  (Arkhangelsky et al. 2021), and their :func:`placebo_se`, :func:`bootstrap_se`, :func:`jackknife_se`.
"""

from causalspec.estimators.synth._inference import (
    SynthGaps,
    fit_gaps,
    in_space_placebos,
    leave_one_out,
    permutation_p,
    rmspe_ratio,
)
from causalspec.estimators.synth._sdid import (
    SDIDFit,
    SDIDOptions,
    did_estimate,
    effect_curve,
    estimate_with,
    sc_estimate,
    synthdid_estimate,
)
from causalspec.estimators.synth._sdid_se import (
    SEResult,
    bootstrap_draws,
    bootstrap_se,
    jackknife_se,
    placebo_draws,
    placebo_se,
)
from causalspec.estimators.synth._simplex import simplex_least_squares
from causalspec.estimators.synth._synth import SynthFit, synth

__all__ = ["synth", "SynthFit", "simplex_least_squares", "SynthGaps", "fit_gaps", "in_space_placebos",
           "leave_one_out", "permutation_p", "rmspe_ratio", "synthdid_estimate", "sc_estimate", "did_estimate",
           "estimate_with", "effect_curve", "SDIDFit", "SDIDOptions", "SEResult", "placebo_se", "bootstrap_se",
           "jackknife_se", "placebo_draws", "bootstrap_draws"]

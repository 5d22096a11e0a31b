"""Design plug-in: the experiment's own checks, run after the fit and reported before the effect.

* Sample-ratio mismatch: Pearson chi-square of the arm sizes against ``design.planned_split``
  (``stats::chisq.test(counts, p = planned)``); a p-value below ``design.srm_alpha`` (default 0.001, the
  usual threshold, since any real mismatch is large) means the assignment or the logging is broken and the
  arms are not comparable — the warning is the first thing the summary prints.
* Covariate balance: standardized mean differences of the covariates between arms (pooled SD); with
  randomization they are noise, so |SMD| > 0.1 is reported as a note.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import check

__all__ = ["sample_ratio_check", "balance_check"]


@check("experiment")
def sample_ratio_check(plan, frame: pd.DataFrame, out):
    from ..estimators._abtest import srm_check

    split = plan.settings.get("planned_split")
    if split is None:
        return out
    t = frame[plan.treatment].astype(float).to_numpy()
    counts = [int((t == 0).sum()), int((t == 1).sum())]
    test = srm_check(counts, [1 - split, split])
    extras = {**out.extras, "sample_ratio": {
        "control": counts[0], "treatment": counts[1], "planned_split": split,
        "observed_split": counts[1] / max(sum(counts), 1), "chi_square": test.statistic, "p_value": test.p_value,
        "alpha": plan.settings.get("srm_alpha", 0.001), "r_equivalent": "stats::chisq.test(counts, p = planned)"}}
    warnings = out.warnings
    if test.p_value < plan.settings.get("srm_alpha", 0.001):
        warnings = (f"SAMPLE RATIO MISMATCH: {counts[1]:,} treated and {counts[0]:,} control units "
                    f"({counts[1] / sum(counts):.1%} treated) where {split:.0%} was planned; chi-square "
                    f"{test.statistic:.1f}, p = {test.p_value:.2g}. Assignment or logging is broken and the arms "
                    "are not comparable: do not read the effect below until the cause is found.",) + warnings
    return replace(out, extras=extras, warnings=warnings)


@check("experiment")
def balance_check(plan, frame: pd.DataFrame, out):
    covs = [c for c in plan.covariates if pd.api.types.is_numeric_dtype(frame[c])]
    if not covs:
        return out
    t = frame[plan.treatment].astype(float).to_numpy() == 1
    rows, notes = [], list(out.notes)
    for c in covs:
        x = frame[c].to_numpy(float)
        sd = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
        smd = float((x[t].mean() - x[~t].mean()) / sd) if sd > 0 else 0.0
        rows.append({"covariate": c, "mean_treatment": float(x[t].mean()), "mean_control": float(x[~t].mean()),
                     "smd": smd})
        if abs(smd) > 0.1:
            notes.append(f"covariate {c!r} is imbalanced between arms (standardized mean difference {smd:+.2f}).")
    return replace(out, extras={**out.extras, "balance": rows}, notes=tuple(notes))

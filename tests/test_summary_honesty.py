"""Summaries say what was fitted (issue 11): fixed-effects fits show the within R² and the fixed-effect sizes,
and clustered standard errors with few clusters come with a warning that names the alternatives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import causalspec as cs

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_fixed_effects_summary_shows_within_r2_and_fe_counts_not_nan():
    result = cs.run(SPECS / "wagepan_fe.yaml", refute=False)
    text = result.summary()
    stats = dict(result.fit_stats)
    assert f"Within R-squared: {stats['wr2']:.4g}" in text
    assert f"Adj. R-squared: {stats['ar2']:.4g}" in text and "nan" not in text.split("Observations:")[1][:200]
    assert "Fixed effects: nr (545 levels), year (8 levels)" in text


def _clustered(groups: int) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 40 * groups
    g = np.repeat(np.arange(groups), 40)
    z = rng.normal(size=n)
    x = (z + rng.normal(size=n) > 0).astype(float)
    return pd.DataFrame({"g": g, "z": z, "x": x, "y": x + z + rng.normal(size=groups)[g] + rng.normal(size=n)})


def test_cr1_with_few_clusters_warns_and_names_cr2_and_the_wild_bootstrap():
    spec = cs.Spec(name="c", treatment="x", outcome="y", dag={"edges": ["z -> x", "z -> y", "x -> y"]},
                   inference={"vcov": "CR1", "cluster": "g"})
    few = cs.fit(cs.plan(spec), _clustered(8))
    assert any(w.startswith("few clusters: 8 clusters of 'g'") and "CR2" in w and "wild" in w for w in few.warnings)
    many = cs.fit(cs.plan(spec), _clustered(40))
    assert not any(w.startswith("few clusters") for w in many.warnings)
    cr2 = cs.fit(cs.plan(cs.Spec(**{**spec.model_dump(), "inference": {"vcov": "CR2", "cluster": ["g"]}})),
                 _clustered(8))
    assert not any(w.startswith("few clusters") for w in cr2.warnings)

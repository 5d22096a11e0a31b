"""No user text ever reaches an evaluator: every spec field that names a column or a term, in every design,
with a column named like Python code.  The name must be treated as a name (the fit works, or a located
CausalSpecError refuses it) and the code must never run.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError

MPDTA = Path(cs.__file__).parent / "parity" / "data" / "mpdta.csv"


def _evil(tag: str, marker: Path) -> str:
    return f"I(__import__('os').system('touch {marker}_{tag}'))"


def _edges(*pairs):
    return [f'"{a}" -> "{b}"' for a, b in pairs]


def _cross_section(names: dict[str, str], n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    z = rng.normal(size=n)
    w = rng.normal(size=n)
    inst = rng.normal(size=n)
    d = (z + inst + rng.normal(size=n) > 0).astype(float)
    y = 2 * d + z + 0.5 * w + rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "d": d, "z": z, "w": w, "inst": inst, "g": np.repeat(np.arange(40), n // 40),
                          "pre": y + rng.normal(size=n), "guard": rng.normal(size=n)})
    return frame.rename(columns=names)


def _cases(marker: Path):
    Z, W, G, INST, PRE, GUARD = (_evil(t, marker) for t in ("z", "w", "g", "inst", "pre", "guard"))
    names = {"z": Z, "w": W, "g": G, "inst": INST, "pre": PRE, "guard": GUARD}
    cross = _cross_section(names)
    dag = {"edges": _edges((Z, "d"), (Z, "y"), ("d", "y"), (W, "y"))}
    for estimator, estimand in (("ols", "ATE"), ("ipw", "ATE"), ("aipw", "ATE"), ("matching", "ATT")):
        extra = {"inference": {"vcov": "CR1", "cluster": [G]}} if estimator == "ols" else {}
        yield (f"observational-{estimator}", dict(
            name="evil", treatment="d", outcome="y", estimand=estimand, dag=dag, covariates=[W] if estimator == "ols"
            else [], design={"type": "observational", "estimator": estimator},
            sensitivity={"benchmarks": [Z]} if estimator == "ols" else {}, **extra), cross)
    yield ("observational-explicit", dict(name="evil", treatment="d", outcome="y", dag=dag, adjustment=[Z]), cross)
    yield ("experiment-lin", dict(
        name="evil", treatment="d", outcome="y", covariates=[W], dag={"edges": _edges(("d", "y"), (W, "y"))},
        design={"type": "experiment", "cuped": PRE, "guardrails": [{"column": GUARD, "direction": "increase", "threshold": 1.0}]}), cross)
    yield ("iv", dict(
        name="evil", treatment="d", outcome="y", dag={"edges": _edges((INST, "d"), ("d", "y"), ("u", "d"), ("u", "y")),
                                                      "latent": ["u"]},
        design={"type": "iv", "instruments": [INST]}, inference={"vcov": "HC1"}), cross)
    yield ("did-2x2", dict(
        name="evil", treatment="d", outcome="y", covariates=[W], dag={"edges": _edges(("d", "y"), (W, "y"))},
        design={"type": "did", "post": Z}), cross.assign(**{Z: (cross[Z] > 0).astype(float)}))
    panel = pd.read_csv(MPDTA)
    U, T, F, X = (_evil(t, marker) for t in ("unit", "year", "first", "lpop"))
    panel = panel.rename(columns={"countyreal": U, "year": T, "first.treat": F, "lpop": X})
    panel["post"] = ((panel[F] > 0) & (panel[T] >= panel[F])).astype(float)
    es_dag = {"edges": _edges(("post", "lemp"), (X, "lemp"))}
    yield ("panel", dict(name="evil", treatment="post", outcome="lemp", dag=es_dag,
                         design={"type": "panel", "unit": U, "time": T}), panel)
    for estimator in ("twfe", "sun_abraham", "callaway_santanna"):
        yield (f"event_study-{estimator}", dict(
            name="evil", treatment="post", outcome="lemp", dag=es_dag,
            covariates=[X] if estimator == "callaway_santanna" else [],
            design={"type": "event_study", "unit": U, "time": T, "first_treated": F, "estimator": estimator}),
               panel)


@pytest.mark.parametrize("case", range(12))
def test_a_column_named_like_code_is_a_name_in_every_design(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    cases = list(_cases(marker))
    assert len(cases) == 12
    name, fields, data = cases[case]
    try:
        spec = cs.Spec(**fields)
        result = cs.run(spec, data=data, refute=False)
    except CausalSpecError:
        result = None  # a located refusal is fine; running the code is not
    leaked = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("PWNED"))
    assert leaked == [], f"{name}: user text was executed ({leaked})"
    assert not any(Path(os.getcwd()).glob("PWNED*"))
    if result is not None:
        assert np.isfinite(result.effect.estimate), name


def test_the_callaway_santanna_covariate_from_the_report_is_not_executed(tmp_path, monkeypatch):
    """The issue's example: a C-S covariate named I(__import__('os').system(...)) with a data column of that name."""
    monkeypatch.chdir(tmp_path)
    evil = "I(__import__('os').system('touch PWNED'))"
    panel = pd.read_csv(MPDTA).rename(columns={"lpop": evil})
    panel["post"] = ((panel["first.treat"] > 0) & (panel["year"] >= panel["first.treat"])).astype(float)
    spec = cs.Spec(name="evil", treatment="post", outcome="lemp", covariates=[evil],
                   dag={"edges": _edges(("post", "lemp"), (evil, "lemp"))},
                   design={"type": "event_study", "unit": "countyreal", "time": "year", "first_treated": "first.treat",
                           "estimator": "callaway_santanna"})
    result = cs.run(spec, data=panel, refute=False)
    assert not (tmp_path / "PWNED").exists()
    # the same numbers as the column under its plain name: the name is only a name
    plain = cs.run(cs.Spec(**{**spec.model_dump(), "covariates": ["lpop"],
                              "dag": {"edges": _edges(("post", "lemp"), ("lpop", "lemp"))}}),
                   data=panel.rename(columns={evil: "lpop"}), refute=False)
    assert result.effect.estimate == pytest.approx(plain.effect.estimate, rel=1e-12)

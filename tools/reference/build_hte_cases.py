"""Build the heterogeneity parity cases against EconML, CausalML and scikit-uplift (run by hand, never at test time).

    pip install -e ".[ml]" econml causalml scikit-uplift
    python tools/reference/build_hte_cases.py

Writes ``tests/parity/data/hte_renewal.csv`` (600 rows of ``causalspec.heterogeneity.renewal_discount`` with
fixed fold assignments and a known propensity column) and ``tests/parity/cases/hte_*.json``: each case records
the package versions, the exact peer call, the data file and its sha256, the causalspec call that must reproduce
it, and the expected numbers.  The nuisance and final models handed to the peers are built by causalspec's own
``make_regressor`` / ``make_classifier`` from the same short names, so both sides fit identical scikit-learn
estimators on identical rows; differences can only come from the learners' own arithmetic.

EconML's DRLearner fits ONE outcome model on [X, W, T]; causalspec fits one per arm.  The case hands EconML an
arm-wise regression (``ArmwiseRegression`` below: the same model fitted separately on the rows with T = 0 and
T = 1, predicting with the model of the T it is given), which is exactly causalspec's outcome model.
CausalML's DR-learner uses a different, three-way rotating split (propensity, outcome and effect models on
different thirds), so it is not compared; its T, S, X and R learners are.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from causalspec.heterogeneity import ModelChoice, fit_cate, make_folds, renewal_discount  # noqa: E402
from causalspec.heterogeneity._models import make_classifier, make_regressor  # noqa: E402

PARITY = ROOT / "tests" / "parity"
DATA = PARITY / "data" / "hte_renewal.csv"
NUIS = ["usage", "new", "loyal", "age"]  # nuisance features: modifiers first, then the other control
MODS = ["usage", "new", "loyal"]
VERSIONS = {p: version(p) for p in ("econml", "causalml", "scikit-uplift", "scikit-learn", "numpy", "pandas")}


class ArmwiseRegression(BaseEstimator, RegressorMixin):
    """A regressor on [features, T]: one clone of ``model`` per value of the last column (the treatment)."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X)
        self.models_ = {a: clone(self.model).fit(X[X[:, -1] == a, :-1], np.asarray(y)[X[:, -1] == a])
                        for a in (0.0, 1.0)}
        return self

    def predict(self, X):
        X = np.asarray(X)
        out = np.empty(len(X))
        for a, m in self.models_.items():
            sel = X[:, -1] == a
            if sel.any():
                out[sel] = m.predict(X[sel, :-1])
        return out


def build_data() -> pd.DataFrame:
    df = renewal_discount(n=600, seed=99, randomized_share=0.0)
    out = pd.DataFrame({"usage": df.usage, "age": df.age.astype(float), "new": (df.segment == "new").astype(int),
                        "loyal": (df.segment == "loyal").astype(int), "discount": df.discount,
                        "renewed": df.renewed})
    # the targeted arm's true propensity (known here, the known_propensity path of the learners)
    logit = -0.4 + 0.8 * out.new - 0.6 * out.loyal + 1.2 * (out.usage - 0.5)
    out["p"] = (1 / (1 + np.exp(-logit))).round(12)
    out["fold"] = make_folds(out.discount.to_numpy(), 5, 7)
    skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    out["fold_r"] = -1
    for k, (_, test) in enumerate(skf.split(out[NUIS], out.discount)):
        out.loc[test, "fold_r"] = k
    # a continuous score with ties (rounded) for the uplift metrics, and a tie-free one for CausalML
    rng = np.random.default_rng(5)
    out["score"] = (0.1 * out.new - 0.08 * out.loyal + 0.08 * (out.usage - 0.5) + rng.normal(0, 0.05, 600)).round(2)
    out["score_free"] = out.score + rng.uniform(0, 1e-3, 600)
    DATA.write_text(out.to_csv(index=False, float_format="%.12g"))
    return pd.read_csv(DATA)


def _arrays(df):
    return (df[NUIS].to_numpy(float), df[MODS].to_numpy(float), df.discount.to_numpy(float),
            df.renewed.to_numpy(float))


def _case(case_id, call, causalspec_call, expected, **extra):
    sha = hashlib.sha256(DATA.read_bytes()).hexdigest()
    case = {"id": case_id, "family": "heterogeneity_ml", "data": {"file": "data/hte_renewal.csv", "rows": 600,
            "origin": {"package": "causalspec", "call": "renewal_discount(n=600, seed=99, randomized_share=0.0)"},
            "sha256": sha}, "peer_call": call, "versions": VERSIONS, "causalspec_call": causalspec_call,
            "tolerance": extra.pop("tolerance", {"rel": 1e-8, "abs": 1e-10}), **extra, "expected": expected}
    (PARITY / "cases" / f"{case_id}.json").write_text(json.dumps(case, indent=1) + "\n")
    print(case_id, "written")


def learners(df):
    from causalml.inference.meta import BaseRRegressor, BaseSRegressor, BaseTRegressor, BaseXRegressor
    from econml.dr import DRLearner
    from econml.metalearners import SLearner, TLearner, XLearner

    X, Z, t, y = _arrays(df)
    W = df[["age"]].to_numpy(float)
    folds = df.fold.to_numpy()
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(5)]
    for out_name, out_params in (("linear", {}), ("ridge", {"alpha": 2.0}), ("lasso", {"alpha": 0.001})):
        oc = ModelChoice.of(out_name, out_params)
        pc = ModelChoice.of("logistic", {"C": 1.0})
        fc = ModelChoice.of("ridge", {"alpha": 1.0}) if out_name == "ridge" else ModelChoice.of("linear")
        est = DRLearner(model_propensity=make_classifier(pc, 0), model_regression=ArmwiseRegression(
            make_regressor(oc, 0)), model_final=make_regressor(fc, 0), cv=splits, min_propensity=0.01,
            random_state=0)
        est.fit(y, t, X=Z, W=W)
        cate = est.effect(Z)
        _case(f"hte_dr_econml_{out_name}", f"econml.dr.DRLearner(model_propensity={pc.describe()}, model_regression="
              f"ArmwiseRegression({oc.describe()}), model_final={fc.describe()}, cv=<folds column>, "
              "min_propensity=0.01).fit(renewed, discount, X=[usage, new, loyal], W=[age]).effect(X)",
              {"learner": "dr", "X": NUIS, "Z": MODS, "outcome": [oc.name, dict(oc.params)],
               "propensity": [pc.name, dict(pc.params)], "final": [fc.name, dict(fc.params)], "folds": "fold",
               "clip": 0.01}, {"cate": cate.tolist()})
    lin = ModelChoice.of("linear")
    ridge = ModelChoice.of("ridge", {"alpha": 2.0})
    pc = ModelChoice.of("logistic", {"C": 1.0})
    p = df.p.to_numpy(float)
    # T
    cml = BaseTRegressor(learner=make_regressor(lin, 0)).fit_predict(X, t, y).ravel()
    eml = TLearner(models=make_regressor(lin, 0)).fit(y, t, X=X).effect(X)
    _case("hte_t_linear", {"causalml": "BaseTRegressor(learner=LinearRegression()).fit_predict(X, discount, renewed)",
          "econml": "TLearner(models=LinearRegression()).fit(renewed, discount, X=X).effect(X)"},
          {"learner": "t", "X": NUIS, "Z": MODS, "outcome": ["linear", {}], "propensity": [pc.name, dict(pc.params)],
           "final": ["linear", {}], "folds": "fold", "clip": 0.01}, {"cate": cml.tolist(), "cate_econml": eml.tolist()})
    # S (ridge: a penalised model, so the treatment column's penalty matters and both packages must agree)
    cml = BaseSRegressor(learner=make_regressor(ridge, 0)).fit_predict(X, t, y).ravel()
    eml = SLearner(overall_model=make_regressor(ridge, 0)).fit(y, t, X=X).effect(X)
    _case("hte_s_ridge", {"causalml": "BaseSRegressor(learner=Ridge(alpha=2.0)).fit_predict(X, discount, renewed)",
          "econml": "SLearner(overall_model=Ridge(alpha=2.0)).fit(renewed, discount, X=X).effect(X)"},
          {"learner": "s", "X": NUIS, "Z": MODS, "outcome": [ridge.name, dict(ridge.params)],
           "propensity": [pc.name, dict(pc.params)], "final": ["linear", {}], "folds": "fold", "clip": 0.01},
          {"cate": cml.tolist(), "cate_econml": eml.tolist()})
    # X: CausalML with the known propensity column, EconML with a fitted logistic propensity
    cml = BaseXRegressor(learner=make_regressor(lin, 0)).fit_predict(X, t, y, p=p).ravel()
    eml = XLearner(models=make_regressor(lin, 0), propensity_model=make_classifier(pc, 0)).fit(y, t, X=X).effect(X)
    _case("hte_x_linear", {"causalml": "BaseXRegressor(learner=LinearRegression()).fit_predict(X, discount, "
          "renewed, p=p)", "econml": "XLearner(models=LinearRegression(), propensity_model=LogisticRegression("
          "C=1.0, max_iter=1000, tol=1e-6)).fit(renewed, discount, X=X).effect(X)"},
          {"learner": "x", "X": NUIS, "Z": MODS, "outcome": ["linear", {}], "propensity": [pc.name, dict(pc.params)],
           "final": ["linear", {}], "folds": "fold", "clip": 0.01,
           "known_propensity_for": "cate (CausalML); cate_econml uses the propensity model"},
          {"cate": cml.tolist(), "cate_econml": eml.tolist()})
    # R: CausalML given the propensity, StratifiedKFold(5, shuffle=True, random_state=42) = column fold_r
    r = BaseRRegressor(outcome_learner=make_regressor(lin, 0), effect_learner=make_regressor(lin, 0), n_fold=5,
                       random_state=42)
    cml = r.fit_predict(X, t, y, p=p, verbose=False).ravel()
    # CausalML's effect model sees all of X; causalspec's final stage sees Z, so the case uses Z = X
    _case("hte_r_linear", {"causalml": "BaseRRegressor(outcome_learner=LinearRegression(), effect_learner="
          "LinearRegression(), n_fold=5, random_state=42).fit_predict(X, discount, renewed, p=p)"},
          {"learner": "r", "X": NUIS, "Z": NUIS, "outcome": ["linear", {}], "propensity": None,
           "known_propensity": "p", "final": ["linear", {}], "folds": "fold_r", "clip": 0.01}, {"cate": cml.tolist()})


def uplift(df):
    from causalml.metrics import get_qini
    from sklift import metrics as sk

    y, t = df.renewed.to_numpy(), df.discount.to_numpy()
    exp = {}
    for col in ("score", "score_free"):
        s = df[col].to_numpy()
        e = exp[col] = {}
        e["qini_auc_score"] = sk.qini_auc_score(y, s, t)
        e["qini_auc_score_no_negative"] = sk.qini_auc_score(y, s, t, negative_effect=False)
        e["uplift_auc_score"] = sk.uplift_auc_score(y, s, t)
        for strategy in ("overall", "by_group"):
            for k in (0.3, 0.5, 120):
                e[f"uplift_at_k_{strategy}_{k}"] = sk.uplift_at_k(y, s, t, strategy=strategy, k=k)
        x, v = sk.qini_curve(y, s, t)
        e["qini_curve"] = [x.tolist(), v.tolist()]
        x, v = sk.uplift_curve(y, s, t)
        e["uplift_curve"] = [x.tolist(), v.tolist()]
    frame = pd.DataFrame({"y": y, "w": t, "model": df.score_free.to_numpy()})
    exp["score_free"]["get_qini"] = get_qini(frame).model.tolist()
    exp["score_free"]["get_qini_normalized"] = get_qini(frame, normalize=True).model.tolist()
    _case("hte_uplift_sklift", {"scikit-uplift": "sklift.metrics.<name>(renewed, score, discount[, ...])",
          "causalml": "causalml.metrics.get_qini(pd.DataFrame({'y': renewed, 'w': discount, 'model': score_free})"
          "[, normalize=True]).model"}, {"module": "causalspec.heterogeneity", "functions": "same names"}, exp,
          tolerance={"rel": 1e-12, "abs": 1e-12})


if __name__ == "__main__":
    frame = build_data()
    learners(frame)
    uplift(frame)

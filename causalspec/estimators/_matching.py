"""Matching as ``MatchIt::matchit`` (4.5.1) does it: the matched sample (match matrix, weights, subclasses), its
balance and sample sizes, and nearest-neighbour matching on a propensity score or the Mahalanobis distance,
optionally within exact strata of named covariates.

The scalar-distance kernel is :mod:`._nearest` (``nn_matchC_vec``), the Mahalanobis one :mod:`._mahalanobis`
(``nn_matchC``); exact, coarsened exact and subclassification are :mod:`._subclassify`.  Weights, subclasses
and the balance table follow MatchIt's conventions (``summary.matchit``); the effect is the weighted regression
on the matched data (:mod:`._matched_effect`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.estimators._balance import BALANCE_COLUMNS, balance_table, sample_sizes
from causalspec.estimators._mahalanobis import distance_covariates, mahalanobis_transform, nn_match_covariates
from causalspec.estimators._nearest import INT_MAX, matching_weights, mm_subclass, nearest_neighbor
from causalspec.estimators._propensity import BinomialLink, PropensityModel, binomial_irls, fit_propensity, r_summary
from causalspec.formula._evaluate import Factor, evaluate
from causalspec.formula._parse import parse_formula
from causalspec.formula._terms import variable_nodes

__all__ = [
    "Matching",
    "nearest_neighbor",
    "match_nearest",
    "matching_weights",
    "mm_subclass",
    "balance_table",
    "sample_sizes",
    "distance_summaries",
    "model_variables",
    "matchit_model_table",
    "unit_labels",
    "BALANCE_COLUMNS",
]

MOrder = Literal["largest", "smallest", "data", "random"]


@dataclass(frozen=True)
class Matching:
    """A matched sample: who was matched to whom, the weights, subclasses and the settings used.

    ``treat`` is the data's treatment (1 = treated); the focal group is the treated for the ATT and the
    controls for the ATC.  ``mm`` holds, per focal unit in data order, the rows of its matches (-1 = empty
    slot; None for exact, coarsened exact and subclassification, which form no pairs).  ``subclass`` is per row
    (0 = in none; None after matching with replacement); ``distance`` is the matching distance per row (None
    for the Mahalanobis distance and the exact methods, which have no scalar distance).
    """

    labels: tuple[str, ...]
    treat: np.ndarray
    distance: np.ndarray | None
    mm: np.ndarray | None
    weights: np.ndarray
    subclass: np.ndarray | None
    ratio: int
    replace: bool
    caliper: float | None
    m_order: str | None
    discarded: np.ndarray
    propensity: PropensityModel | None = None
    covariates: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())
    method: str = "nearest"
    estimand: str = "ATT"
    distance_kind: str | None = "glm"
    exact: tuple[str, ...] = ()
    q_cut: tuple[float, ...] | None = None

    @property
    def focal(self) -> np.ndarray:
        """1 for the focal group (the treated for the ATT and ATE, the controls for the ATC)."""
        t = np.asarray(self.treat).astype(int)
        return 1 - t if self.estimand == "ATC" else t

    @property
    def match_matrix(self) -> dict[str, tuple[str | None, ...]]:
        """``m$match.matrix``: each focal unit's label -> its matched labels (None: empty slot)."""
        if self.mm is None:
            return {}
        fr = np.flatnonzero(self.focal == 1)
        return {self.labels[u]: tuple(self.labels[c] if c >= 0 else None for c in self.mm[r])
                for r, u in enumerate(fr)}

    @property
    def matched(self) -> np.ndarray:
        """Boolean mask of the rows kept (weight > 0)."""
        return self.weights > 0

    def matched_sample(self) -> dict:
        """The matched sample as MatchIt returns it, keyed by unit label (JSON types): ``match_matrix`` (focal
        unit -> matched units; None without pairs), ``weights`` of the units kept (every other unit has weight 0),
        ``subclass`` of the units in one (None with replacement), and ``q_cut`` for subclassification."""
        keep = np.flatnonzero(self.matched)
        sub = None
        if self.subclass is not None:
            sub = {self.labels[i]: int(self.subclass[i]) for i in np.flatnonzero(self.subclass > 0)}
        return {"method": self.method, "estimand": self.estimand, "distance": self.distance_kind,
                "match_matrix": ({k: list(v) for k, v in self.match_matrix.items()} if self.mm is not None else None),
                "weights": {self.labels[i]: float(self.weights[i]) for i in keep}, "subclass": sub,
                "q_cut": None if self.q_cut is None else [float(v) for v in self.q_cut],
                "n_matched": {"treated": int((self.matched & (self.treat == 1)).sum()),
                              "control": int((self.matched & (self.treat == 0)).sum())}}

    def balance(self, *, standardize: bool = True, pair_dist: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``summary(m)$sum.all`` and ``summary(m)$sum.matched`` (``$sum.across`` for subclassification), with
        the distance row first when there is a scalar distance.  Pair distances are left out (NaN) for
        subclassification, as ``summary.matchit.subclass`` does by default."""
        X = self.covariates if self.covariates is not None else pd.DataFrame(index=range(len(self.treat)))
        if self.distance is not None:
            X = pd.concat([pd.DataFrame({"distance": self.distance}, index=X.index), X], axis=1)
        if pair_dist is None:
            pair_dist = self.method != "subclass"
        before = balance_table(X, self.treat, standardize=standardize, estimand=self.estimand)
        after = balance_table(X, self.treat, self.weights, subclass=self.subclass, mm=self.mm,
                              focal=self.focal, standardize=standardize, pair_dist=pair_dist, estimand=self.estimand)
        return before, after

    def sample_sizes(self) -> pd.DataFrame:
        return sample_sizes(self.treat, self.weights, self.discarded)


def model_variables(formula: str, data: pd.DataFrame) -> list[tuple[str, np.ndarray | Factor]]:
    """The model-frame variables of the formula's right-hand side, in order (MatchIt's ``covs``): each a numeric
    column or a :class:`Factor` (a matrix-valued term gives one numeric column per suffix)."""
    parsed = parse_formula(formula)
    columns = {str(c): c for c in data.columns}
    out: list[tuple[str, np.ndarray | Factor]] = []
    for label, node in variable_nodes(parsed.rhs, {}).items():
        v = evaluate(node, data, columns)
        if isinstance(v, Factor):
            out.append((label, v.drop_unused()))
        else:
            out += [(label + sfx, np.asarray(v.values[:, k], dtype=float)) for k, sfx in enumerate(v.suffixes)]
    return out


def _covariate_matrix(formula: str, data: pd.DataFrame) -> pd.DataFrame:
    """MatchIt's balance covariates: each model-frame variable of the formula's right-hand side, in order
    of appearance, factors expanded to one column per level (``get.covs.matrix``, contrasts = FALSE).

    Interaction terms of the formula are not variables, so (as in MatchIt) they get no row.
    """
    out: dict[str, np.ndarray] = {}
    for label, v in model_variables(formula, data):
        if isinstance(v, Factor):
            for i, level in enumerate(v.levels):
                out[label + level] = (v.codes == i).astype(float)
        else:
            out[label] = v
    return pd.DataFrame(out, index=data.index)


def unit_labels(data: pd.DataFrame, id_column: str | None) -> tuple[str, ...]:
    """Unit labels (R's row names): the id column or the DataFrame index, as text; refused unless unique."""
    labels = tuple(str(v) for v in (data[id_column] if id_column else data.index))
    if len(set(labels)) != len(labels):
        raise DataError("unit labels are not unique.", loc=id_column or "index",
                        fix="Pass an id_column whose values identify each row once.")
    return labels


def fit_score(formula: str, data: pd.DataFrame, link: str = "logit") -> PropensityModel:
    """The propensity model ``matchit(distance = "glm", link)`` fits (logit, probit or cloglog); missing values
    refused, as MatchIt."""
    ps = fit_propensity(formula, data, link=link)
    if ps.dropped:
        raise DataError("missing values are not allowed in the treatment or covariates of a matching model "
                        f"({', '.join(f'{k}: {v} row(s)' for k, v in ps.dropped.items())}).", loc="matching.formula",
                        fix="Drop or impute those rows before matching (MatchIt refuses them too).")
    return ps


def matchit_model_table(ps: PropensityModel) -> dict[str, dict[str, float | None]]:
    """``summary(m$model)$coefficients``: MatchIt fits the score with ``glm(family = quasibinomial(link))``
    (``distance2glm``), so the SEs carry the estimated dispersion and the tests are t tests on the residual df.

    The dispersion is ``summary.glm``'s: sum(working weight x working residual^2) / df, with the working weights
    of glm.fit's last iteration (those at the previous iterate, recovered by stopping one iteration earlier) and
    the residuals at the final fit.
    """
    link = BinomialLink(ps.link)
    kept = list(ps.kept)
    df = len(ps.treat) - len(kept)
    if ps.iterations > 1:
        prev = binomial_irls(ps.treat.astype(float), ps.X, link=ps.link, maxit=ps.iterations - 1)
        eta0, mu0 = prev.eta, prev.fitted
    else:  # glm.fit's start: mustart = (y + 1/2) / 2
        mu0 = (ps.treat + 0.5) / 2.0
        eta0 = link.linkfun(mu0)
    w2 = link.mu_eta(eta0) ** 2 / (mu0 * (1.0 - mu0))
    res = (ps.treat - ps.score) / link.mu_eta(ps.linear_predictor)
    dispersion = float(np.sum(w2 * res**2) / df) if df > 0 else float("nan")
    out = {}
    for term, row in ps.coef_table().items():
        b, se = row["estimate"], row["std_error"]
        if b is None or se is None:
            out[term] = {"estimate": b, "std_error": None, "statistic": None, "p_value": None}
            continue
        se_q = se * np.sqrt(dispersion)
        t = b / se_q
        out[term] = {"estimate": b, "std_error": float(se_q), "statistic": float(t),
                     "p_value": float(2 * stats.t.sf(abs(t), df))}
    return out


def exact_strata(data: pd.DataFrame, exact: Sequence[str]) -> np.ndarray:
    """``exactify(model.frame(exact), include_vars = TRUE)``: one stratum code per row, in order of appearance.
    Numbers are compared as ``as.character()`` writes them (15 significant digits), text and factors as text."""
    keys = []
    for name in exact:
        if name not in data.columns:
            raise DataError(f"the exact-matching column {name!r} is not in the data.", loc="matching.exact",
                            fix="Name columns of the data.")
        col = data[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            keys.append([f"{float(v):.15g}" for v in col])
        else:
            keys.append([str(v) for v in col])
    joined = [", ".join(parts) for parts in zip(*keys)]
    codes = {k: i for i, k in enumerate(dict.fromkeys(joined))}
    return np.array([codes[k] for k in joined], dtype=int)


def match_nearest(formula: str, data: pd.DataFrame, *, id_column: str | None = None, ratio: int = 1,
                  replace: bool = False, caliper: float | None = None, std_caliper: bool = True,
                  m_order: MOrder | None = None, distance: Literal["glm", "linear.logit", "mahalanobis"] = "glm",
                  discard: Literal["none", "both", "treated", "control"] = "none",
                  seed: int | None = None, algorithm: Literal["matchit-4.5.1", "exact"] = "matchit-4.5.1",
                  estimand: Literal["ATT", "ATC"] = "ATT", exact: Sequence[str] = (), link: str = "logit") -> Matching:
    """Nearest-neighbour matching for the ATT (or the ATC, the controls being the focal group).

    Matches ``MatchIt::matchit(formula, data, method = "nearest", distance = "glm" | "mahalanobis",
    exact = ~ ..., estimand)`` (4.5.1); Ho, Imai, King & Stuart (2007), Political Analysis 15:199.

    Parameters
    ----------
    formula : ``"treat ~ x1 + x2"``: the propensity model (or the Mahalanobis covariates) and the balance covariates.
    id_column : column holding unit labels (R's row names); default: the DataFrame index.
    ratio, replace : k:1 matching, with or without replacement.
    caliper : caliper width; in standard deviations of the distance when ``std_caliper``
        (MatchIt: ``caliper * sd(distance)`` over the non-discarded units).  Not with the Mahalanobis distance.
    m_order : focal visiting order; default "largest" for the ATT, "smallest" for the ATC (MatchIt's), and data
        order for the Mahalanobis distance or matching with replacement.
    distance : "glm" matches on the fitted probability (MatchIt's default); "linear.logit" on its logit;
        "mahalanobis" on MatchIt's Mahalanobis distance of the covariates (:mod:`._mahalanobis`).
    discard : drop units outside the common support of the propensity score before matching.
    seed : only for ``m_order="random"`` (numpy Generator; R's order cannot be reproduced).
    algorithm : "matchit-4.5.1" (default) gives MatchIt 4.5.1's matched sets exactly, including its integer
        ``abs()`` (see :func:`nearest_neighbor`); "exact" uses real distance differences.
    exact : columns to match exactly on: units are matched only within the strata they define.
    link : the propensity model's link (``matchit(link = "probit")``); "linear.logit" then means its linear
        predictor (MatchIt's ``link = "linear.probit"``).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 1, 0, 0, 0, 0], "x": [1., 2., 0.9, 2.2, 5., 1.5]})
    >>> m = match_nearest("t ~ x", d)
    >>> sorted(m.match_matrix.items())
    [('0', ('5',)), ('1', ('3',))]
    """
    if ratio < 1 or int(ratio) != ratio:
        raise SpecError(f"ratio must be a whole number >= 1, not {ratio!r}.", loc="matching.ratio",
                        fix="Use 1 for pair matching or k for k:1 matching.")
    if distance not in ("glm", "linear.logit", "mahalanobis"):
        raise UnsupportedError(f"distance {distance!r} is not implemented.", loc="matching.distance",
                               fix="Use 'glm' (propensity score), 'linear.logit' or 'mahalanobis'.")
    labels = unit_labels(data, id_column)
    mahal = distance == "mahalanobis"
    ps = fit_score(formula, data, link)  # with the Mahalanobis distance: a diagnostic, not used to match
    treat = ps.treat
    focal = 1 - treat if estimand == "ATC" else treat
    dist = None if mahal else (ps.score if distance == "glm" else ps.linear_predictor)
    if mahal and (caliper is not None or discard != "none"):
        raise UnsupportedError("a caliper or discard on the distance needs a propensity score, not the Mahalanobis "
                               "distance.", loc="matching.caliper", fix="Remove caliper (or use distance glm).")
    disc = _discard(dist, treat, discard) if dist is not None else np.zeros(len(treat), dtype=bool)
    n1 = int(focal.sum())
    reuse_max = INT_MAX if replace else 1
    cal = None
    if caliper is not None:
        if not caliper > 0:
            raise SpecError(f"caliper must be positive, not {caliper!r}.", loc="matching.caliper",
                            fix="Use for example 0.2 (standard deviations of the distance).")
        cal = float(caliper * np.std(dist[~disc], ddof=1)) if std_caliper else float(caliper)
    default_order = "smallest" if estimand == "ATC" else "largest"
    order_name = "data" if (reuse_max >= n1 or mahal) else (m_order or default_order)
    if order_name not in ("largest", "smallest", "random", "data"):
        raise SpecError(f"unknown m_order {m_order!r}.", loc="matching.m_order",
                        fix="Use largest, smallest, data or random.")
    rng = np.random.default_rng(seed)
    X = distance_covariates(formula, data)[0] if mahal else None
    metric = mahalanobis_transform(X, focal, disc) if mahal else None

    def match(rows: np.ndarray) -> np.ndarray:
        f = focal[rows]
        if mahal:
            return nn_match_covariates(X[rows], f, ratio=ratio, reuse_max=reuse_max, discarded=disc[rows],
                                       metric=metric)
        d = dist[rows]
        df = d[f == 1]
        order = {"largest": lambda: np.argsort(-df, kind="stable"), "smallest": lambda: np.argsort(df, kind="stable"),
                 "random": lambda: rng.permutation(len(df)), "data": lambda: np.arange(len(df))}[order_name]()
        return nearest_neighbor(d, f, ratio=ratio, reuse_max=reuse_max, caliper=cal, order=order,
                                discarded=disc[rows], algorithm=algorithm)

    if exact:
        strata = exact_strata(data, exact)
        mm = np.full((n1, ratio), -1, dtype=int)
        focal_pos = np.cumsum(focal) - 1  # each focal row's position among the focal units
        for s in np.unique(strata):
            rows = np.flatnonzero(strata == s)
            if not (focal[rows] == 1).any():
                continue
            local = match(rows)
            mm[focal_pos[rows[focal[rows] == 1]]] = np.where(local >= 0, rows[np.maximum(local, 0)], -1)
    else:
        mm = match(np.arange(len(treat)))
    notes = list(ps.notes) if not mahal else []
    arms = ("controls", "treated units") if estimand == "ATT" else ("treated units", "controls")
    n0_avail = int(((focal == 0) & ~disc).sum())
    if not replace and n0_avail < n1 * ratio:
        notes.append(f"only {n0_avail} {arms[0]} for {n1} {arms[1]} at ratio {ratio}: "
                     f"not every {arms[1][:-1]} gets all its matches (MatchIt warns the same).")
    if cal is not None and algorithm == "matchit-4.5.1" and np.ptp(dist) < 1.0:
        notes.append("caliper: MatchIt 4.5.1 compares distance differences as integers, so a caliper on "
                     "the propensity-score scale is not enforced (kosukeimai/MatchIt#163); the match reproduces "
                     "that. Use algorithm='exact' to enforce the caliper.")
    w = matching_weights(mm, focal)
    if not (w[focal == 1] > 0).any() or not (w[focal == 0] > 0).any():
        raise DataError("no pairs could be formed (check the caliper, the exact strata and the common support).",
                        loc="matching", fix="Widen the caliper, drop exact or discard.")
    unmatched = int(((w == 0) & (focal == 1) & ~disc).sum())
    if unmatched:
        why = ("within the caliper" if cal is not None else "in its exact stratum" if exact
               else "left to match (each is used once)")
        notes.append(f"{unmatched} {arms[1]} found no {arms[0][:-1]} {why} and were dropped.")
    sub = None if replace else mm_subclass(mm, focal)
    return Matching(labels, treat, dist, mm, w, sub, int(ratio), bool(replace), cal, order_name, disc, ps,
                    _covariate_matrix(formula, data), tuple(notes), "nearest", estimand, distance, tuple(exact))


def _discard(dist: np.ndarray, treat: np.ndarray, rule: str) -> np.ndarray:
    """MatchIt's ``discard``: drop units whose distance lies outside the other group's range."""
    t = treat == 1
    lo_t, hi_t, lo_c, hi_c = dist[t].min(), dist[t].max(), dist[~t].min(), dist[~t].max()
    out_c = ~t & ((dist < lo_t) | (dist > hi_t))
    out_t = t & ((dist < lo_c) | (dist > hi_c))
    if rule == "none":
        return np.zeros(len(dist), dtype=bool)
    if rule == "both":
        return out_c | out_t
    if rule == "control":
        return out_c
    if rule == "treated":
        return out_t
    raise SpecError(f"unknown discard rule {rule!r}.", loc="matching.discard", fix="Use none, both, treated or control.")


def distance_summaries(m: Matching) -> dict[str, dict[str, float]] | None:
    """``summary()`` of the matching distance over all units and by arm; None without a scalar distance."""
    if m.distance is None:
        return None
    return {"all": r_summary(m.distance), "treated": r_summary(m.distance[m.treat == 1]),
            "control": r_summary(m.distance[m.treat == 0])}

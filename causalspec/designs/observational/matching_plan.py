"""Planning ``design.matching``: which MatchIt method runs, with which of its arguments, for which estimand.

Each method reads some of the options; an option the chosen method does not read is refused where it is written
(MatchIt itself warns that it ignores them, ``check.inputs``), so no accepted option changes nothing.  Rules, in
order: the estimand the method targets, the options it does not read, the covariates named (exact strata,
coarsening), then the settings the fitter reads.
"""

from __future__ import annotations

from causalspec.errors import Problem, SpecError, UnsupportedError
from causalspec.designs.observational.settings import MatchingSettings

__all__ = ["matching_settings", "MATCHING_ESTIMANDS", "READERS", "PAIRED_METHODS"]

# the estimands each MatchIt method targets (matchit2nearest, matchit2optimal: ATT / ATC; weights.subclass: ATT /
# ATC / ATE)
MATCHING_ESTIMANDS = {"nearest": ("ATT", "ATC"), "optimal": ("ATT", "ATC"), "full": ("ATT", "ATC", "ATE"),
                      "exact": ("ATT", "ATC", "ATE"), "cem": ("ATT", "ATC", "ATE"), "subclass": ("ATT", "ATC", "ATE")}
# methods whose subclasses are matched sets (pairs, k:1 sets, full-matching sets): SEs clustered on them
PAIRED_METHODS = ("nearest", "optimal", "full")
# design.matching options and the methods that read them (distance: mahalanobis only with nearest)
READERS = {"ratio": ("nearest", "optimal"), "replace": ("nearest",), "caliper": ("nearest",),
           "algorithm": ("nearest",), "distance": ("nearest", "optimal", "full", "subclass"),
           "exact": ("nearest", "optimal", "full"), "cutpoints": ("cem",),
           "subclasses": ("subclass",)}
_DEFAULTS = {"ratio": 1, "replace": None, "caliper": None, "algorithm": "matchit-4.5.1", "distance": "propensity",
             "exact": (), "cutpoints": {}, "subclasses": 6}
_R_ARGUMENT = {"ratio": "ratio", "replace": "replace", "caliper": "caliper", "algorithm": "(the nn_matchC_vec "
               "comparison)", "distance": "distance", "exact": "exact", "cutpoints": "cutpoints",
               "subclasses": "subclass"}


def _unread(m) -> list[Problem]:
    out = []
    for name, readers in READERS.items():
        if m.method in readers or getattr(m, name) == _DEFAULTS[name]:
            continue
        out.append(Problem(
            f"design.matching.{name}", f"{name} (MatchIt's {_R_ARGUMENT[name]}) is read by method "
            f"{' or '.join(readers)}, not by method {m.method} the spec chose, so it would change nothing (matchit() "
            "ignores it too).", fix=f"Remove design.matching.{name}, or set design.matching.method to "
            f"{' or '.join(readers)}.", code="option_not_read"))
    if m.distance == "mahalanobis":
        if m.method == "subclass":
            out.append(Problem("design.matching.distance", "subclassification forms strata of a scalar score; the "
                               "Mahalanobis distance has none (matchit(method = \"subclass\") refuses it).",
                               fix="Use distance propensity or logit, or method nearest.", code="option_not_read"))
        for name in ("caliper", "algorithm"):
            if getattr(m, name) != _DEFAULTS[name]:
                out.append(Problem(
                    f"design.matching.{name}", f"{name} applies to a scalar (propensity-score) distance; with "
                    "distance mahalanobis MatchIt matches on covariate distances, where it is not read.",
                    fix=f"Remove design.matching.{name}, or use distance propensity or logit.",
                    code="option_not_read"))
    return out


def _named(m, adjusted: tuple[str, ...]) -> list[Problem]:
    out = []
    names = [(f"design.matching.exact[{i}]", v) for i, v in enumerate(m.exact)]
    names += [(f"design.matching.cutpoints.{v}", v) for v in m.cutpoints]
    for loc, v in names:
        if v not in adjusted:
            out.append(Problem(loc, f"{v!r} is not adjusted for (adjustment set and covariates: {list(adjusted)}); "
                                    "matching may only stratify on variables the plan adjusts for.",
                               fix=f"Add {v!r} to covariates if it is a pre-treatment cause of the outcome, or remove "
                                   "it here.", code="matching_variable_not_adjusted"))
    if len(set(m.exact)) != len(m.exact):
        out.append(Problem("design.matching.exact", "a variable is named twice.", fix="Name each variable once.",
                           code="spec_invalid"))
    return out


def matching_settings(spec, adjusted: tuple[str, ...]) -> MatchingSettings:
    """The MatchIt method and the arguments it reads, after refusing every option it would ignore.

    ``adjusted`` is the adjustment set plus covariates: the only variables exact strata and coarsening may name.
    """
    d = spec.design
    m = d.matching
    allowed = MATCHING_ESTIMANDS[m.method]
    if spec.estimand not in allowed:
        others = [k for k, v in MATCHING_ESTIMANDS.items() if spec.estimand in v]
        raise UnsupportedError(Problem(
            "estimand", f"matching method {m.method} targets {' or '.join(allowed)}, not {spec.estimand} (MatchIt's "
            f"matchit(method = \"{m.method}\")).", fix=f"Set estimand to {' or '.join(allowed)}, or "
            f"design.matching.method to one of {others}, or use another design.estimator.",
            code="unsupported_estimand"))
    problems = _unread(m) + _named(m, adjusted)
    if problems:
        cls = SpecError if any(p.code != "option_not_read" for p in problems) else UnsupportedError
        raise cls(problems)
    if m.method == "nearest":
        replace = m.replace if m.replace is not None else d.estimator == "auto"
        return MatchingSettings(ratio=m.ratio, replace=replace, caliper=m.caliper,
                                algorithm=m.algorithm if m.distance != "mahalanobis" else None,
                                distance=m.distance, method="nearest", exact=tuple(m.exact))
    if m.method in ("optimal", "full"):
        return MatchingSettings(ratio=m.ratio if m.method == "optimal" else None, replace=None, caliper=None,
                                algorithm=None, distance=m.distance, method=m.method, exact=tuple(m.exact))
    if m.method == "subclass":
        return MatchingSettings(ratio=None, replace=None, caliper=None, algorithm=None, distance=m.distance,
                                method="subclass", subclasses=m.subclasses)
    cut = tuple(sorted(m.cutpoints.items())) if m.method == "cem" else None
    return MatchingSettings(ratio=None, replace=None, caliper=None, algorithm=None, distance=None, method=m.method,
                            cutpoints=cut)

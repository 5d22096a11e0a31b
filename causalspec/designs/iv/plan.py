"""Planning instrumental variables: instruments checked against the DAG (dagitty's conditional instruments)."""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs._fixest import design_estimand
from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG, adjustment_sets, instrumental_variables, paths
from causalspec.planner import Estimator, Identification, Strategy
from causalspec.planner._vcov import fe_columns, fixest_vcov_plan, iv_vcov_plan
from causalspec.designs.iv.settings import IVSettings


def plan_iv(spec, dag: DAG) -> dict:
    estimand = design_estimand(spec, "two-stage least squares (a local average effect for the compliers, under "
                               "monotonicity; the ATE only under a constant effect)", "LATE")
    d = spec.design
    x, y = spec.treatment, spec.outcome
    valid = instrumental_variables(dag, x, y)
    controls: set[str] = set()
    for i, z in enumerate(d.instruments):
        if z not in dag.nodes:
            raise AdjustmentError(Problem(f"design.instruments[{i}]", f"{z!r} is not a node of the DAG.",
                                          fix=f'Add the instrument to the DAG, e.g. "{z} -> {x}".',
                                          code="unknown_node"))
        if x not in dag.descendants([z]):
            raise AdjustmentError(Problem(
                f"design.instruments[{i}]", f"{z!r} has no directed path into the treatment {x!r}, so it cannot "
                "move it (relevance fails).", fix=f'Remove it, or add the edge "{z} -> {x}" if it belongs.',
                code="instrument_irrelevant"))
        given = [tuple(g) for zz, g in valid if zz == z]
        if not given:
            raise AdjustmentError(Problem(
                f"design.instruments[{i}]", f"{z!r} is not a valid instrument: {_iv_violation(dag, z, x, y)}.",
                fix="An instrument may reach the outcome only through the treatment and share no cause with it; "
                    "remove it or fix the DAG.", code="instrument_invalid"))
        controls |= set(min(given, key=lambda g: (len(g), g)))
    exog = tuple(sorted(controls))
    extra = tuple(c for c in spec.covariates if c not in exog)
    fes = tuple(d.fixed_effects)
    yq, xq = quote_name(y), quote_name(x)
    rhs = " + ".join(quote_name(v) for v in (*exog, *extra)) or "1"
    formula = (f"{yq} ~ {rhs}" + (f" | {' + '.join(fes)}" if fes else "")
               + f" | {xq} ~ {' + '.join(quote_name(z) for z in d.instruments)}")
    ident = Identification(True, Strategy.INSTRUMENTAL_VARIABLES, exog, "instruments",
                                  "the conditioning sets that make the instruments valid (dagitty's conditional "
                                  "instruments)", tuple(tuple(s) for s in adjustment_sets(dag, x, y, "minimal")),
                                  None)
    vcov = iv_variance(spec.inference, fes)
    settings = IVSettings(instruments=tuple(d.instruments), exogenous=tuple(exog + extra), fixed_effects=tuple(fes))
    assumptions = [
        f"Relevance: {', '.join(d.instruments)} move {x} (checked in the data by the first-stage F statistic).",
        f"Exclusion and independence: given {', '.join(exog) or 'nothing'}, the instruments affect {y} only through "
        f"{x} and share no cause with {y} (checked against the DAG).",
        "Monotonicity, or a constant effect: otherwise 2SLS estimates a local average effect for compliers."]
    cols = plan_columns(spec, [(v, "dag") for v in exog] + [(c, f"covariates[{i}]") for i, c in enumerate(extra)]
                    + [(z, f"design.instruments[{i}]") for i, z in enumerate(d.instruments)]
                    + [(c, "design.fixed_effects") for c in fe_columns(fes)])
    return {"estimand": estimand, **plan_fields(spec, dag, ident, extra, Estimator.IV_2SLS,
                   "two-stage least squares (fixest::feols IV; AER::ivreg without fixed effects)", formula,
                   f"{yq} ~ {xq}", vcov, assumptions, settings, cols)}


def _iv_violation(dag: DAG, z: str, x: str, y: str) -> str:
    """Name a path that breaks exclusion or independence (z to y, not through x's effect)."""
    edges = [f"{a} {arrow} {b}" for a, arrow, b in dag.edges if not (a == x and arrow == "->")]
    cut = DAG.from_edges(edges, nodes=list(dag.nodes), latent=list(dag.latent))
    for p in paths(cut, z, y):
        if p.open:
            return f"the path {p.text} reaches the outcome without going through the treatment's effect"
    return "no observed conditioning set closes every path from it to the outcome other than through the treatment"


def iv_variance(inference, fes: tuple[str, ...]):
    """The IV design's variance: fixest's with fixed effects (estimatr's CR0 / CR2 / stata refused: lm_robust has no
    instrumental variables, and the 2SLS fit would compute fixest's CR1 under their label), AER's without."""
    if not fes:
        return iv_vcov_plan(inference)
    vc = fixest_vcov_plan(inference, fes)
    if vc.kind in ("CR0_estimatr", "CR2", "stata"):
        raise UnsupportedError(Problem(
            "inference.vcov", f"{vc.kind} with fixed effects is estimatr::lm_robust's, which has no IV estimator.",
            fix="Use CR1 (fixest::feols(y ~ x | fe | d ~ z, vcov = ~cluster)), HC1 or iid.", code="unsupported_vcov"))
    return vc

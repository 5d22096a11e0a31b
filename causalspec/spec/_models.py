"""The analysis spec: typed, frozen pydantic models.

A spec is what a reviewer approves: the causal graph, the question (treatment,
outcome, estimand), the study design and how uncertainty is measured.  It holds
no data and no code.  Structural checks (types, unknown keys) are pydantic's;
the checks that need the whole spec (is the treatment a node of the DAG? is the
graph acyclic?) run in :meth:`Spec._check_semantics` and collect every problem
before raising once.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_serializer, model_validator

from causalspec.errors import GraphError, Problem, SpecError
from causalspec.graph import DAG, edge_pattern, from_dot, from_gml

__all__ = [
    "Spec",
    "DagSpec",
    "ObservationalDesign",
    "ExperimentDesign",
    "PanelDesign",
    "IVDesign",
    "DiDDesign",
    "EventStudyDesign",
    "ModelSpec",
    "SensitivitySpec",
    "Design",
    "Inference",
    "Heterogeneity",
    "VCOV_KINDS",
]

SPEC_VERSION = 1
_GRAPH_FORMS = ("edges", "dot", "gml")

VCOV_KINDS = ("iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR0_estimatr", "CR1", "CR2", "stata")
VcovKind = Literal["iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR0_estimatr", "CR1", "CR2", "stata"]
CLUSTERED = frozenset({"CR0", "CR0_estimatr", "CR1", "CR2", "stata"})
# designs identified by the study's structure (randomization, a cutoff, a donor pool, an interruption), whose DAG
# defaults to treatment -> outcome when the spec gives none
DAG_OPTIONAL = frozenset({"experiment", "regression_discontinuity", "synthetic_control", "interrupted_time_series"})

from causalspec.spec._base import _NAME, _Model
from causalspec.spec._validation import spec_error_from_validation  # noqa: F401  (re-exported)
from causalspec.spec._checks import check_names as _check_names, did_you_mean as _did_you_mean, role_column_problems
from causalspec.spec._data_source import DataField, Engine
from causalspec.spec._model_formula import ModelSpec
from causalspec.spec._sensitivity import SensitivitySpec
from causalspec.spec.did import DiDDesign
from causalspec.spec.event_study import EventStudyDesign
from causalspec.spec.experiment import ExperimentDesign
from causalspec.spec.iv import IVDesign
from causalspec.spec.observational import MatchingOptions, ObservationalDesign  # noqa: F401  (re-exported)
from causalspec.spec.panel import PanelDesign
from causalspec.spec.interrupted_time_series import InterruptedTimeSeriesDesign
from causalspec.spec.regression_discontinuity import RegressionDiscontinuityDesign
from causalspec.spec.heterogeneity_ml import HeterogeneityML
from causalspec.spec.synthetic_control import SyntheticControlDesign


def _edge_pattern(schema: dict) -> None:
    schema["pattern"] = edge_pattern()  # computed when a schema is asked for, not at import


class DagSpec(_Model):
    """The causal graph: a list of edges, or the same graph as Graphviz DOT or GML text.

    ``"a -> b"`` is a direct cause; ``"a <-> b"`` an unobserved common cause of
    ``a`` and ``b``.  Names of nodes that are not columns of the data (never
    measured) go in ``latent``; ``nodes`` lists isolated nodes.  Exactly one of
    ``edges``, ``dot`` and ``gml`` gives the graph (docs/data-and-graphs.md).
    """

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [k]} for k in _GRAPH_FORMS]})

    edges: tuple[Annotated[str, Field(min_length=1, max_length=1000, json_schema_extra=_edge_pattern)], ...] | None = \
        Field(None, description='Edges such as "account_age -> spend" or "u <-> y" (an unobserved common cause).')
    dot: Annotated[str, Field(min_length=1, max_length=200_000)] | None = Field(
        None, description='The graph as Graphviz DOT text, "digraph { z -> {x y}; x -> y; u [latent=true] }": '
                          "-> edges, { } groups and subgraphs; a -> b [dir=both] is an unobserved common cause; "
                          "other attributes are ignored.")
    gml: Annotated[str, Field(min_length=1, max_length=200_000)] | None = Field(
        None, description='The graph as GML text (graph [ directed 1 node [ id 0 label "z" ] edge [ source 0 target 1 '
                          "] ... ]): a node's label is its name; latent 1 marks an unmeasured node.")
    latent: tuple[_NAME, ...] = Field((), description="Nodes that are not measured (never adjusted for).")
    nodes: tuple[_NAME, ...] = Field((), description="Isolated nodes with no edges.")
    adjusted: tuple[_NAME, ...] = Field(
        (), description="Nodes every adjustment set must contain (dagitty's [adjusted]): with adjustment: auto the "
                        "planner completes them into the minimal valid sets that contain them (dagitty::"
                        "adjustmentSets with adjusted nodes).")

    @model_validator(mode="after")
    def _one_form(self) -> "DagSpec":
        given = [k for k in _GRAPH_FORMS if getattr(self, k) is not None]
        if len(given) != 1:
            raise SpecError(Problem(
                given[1] if given else "edges", f"the graph is given twice, as {' and '.join(given)}." if given
                else "this field is required (or dot, or gml).", fix='Give one of edges: ["a -> b"], dot: '
                '"digraph { a -> b }" or gml: "graph [ ... ]".', code="dag_form" if given else "missing"))
        return self

    @model_serializer(mode="wrap")
    def _only_the_form_given(self, handler) -> dict:
        # a dumped spec shows the form the author wrote, and old edge-list specs dump as they always did
        return {k: v for k, v in handler(self).items() if not (k in _GRAPH_FORMS and v is None)}


class WildBootstrap(_Model):
    """The wild cluster bootstrap (restricted, WCR) for few clusters: p-value and CI by test inversion."""

    weights: Literal["rademacher", "webb"] = Field("rademacher", description="Bootstrap weight distribution.")
    draws: int = Field(9999, ge=99, le=1_000_000, description="Bootstrap replications (B).")


class Inference(_Model):
    """How standard errors and confidence intervals are computed."""

    vcov: VcovKind | None = Field(
        None,
        description=(
            "Variance estimator: iid; HC0-HC3 (sandwich::vcovHC; HC2 is estimatr::lm_robust's default); "
            "CR0/CR1 clustered (sandwich::vcovCL type HC0/HC1, which keep G/(G-1); fixest ~cluster for CR1 with "
            "fixed effects); CR0_estimatr (estimatr's CR0: no small-sample factor, G-1 degrees of freedom); CR2 "
            "(estimatr, Bell-McCaffrey); stata (estimatr's CR1 with G-1 degrees of freedom). Left out: the "
            "design's default - HC2 (CR2 with a cluster) for regression adjustment and experiments as "
            "estimatr::lm_robust, fixest's default (clustered by the first fixed effect) for fixed-effects "
            "designs, iid for IV without fixed effects as AER::ivreg."
        ),
    )
    cluster: tuple[_NAME, ...] = Field(
        (), description="Cluster column(s), required by CR0, CR1, CR2 and stata. Several columns mean multi-way "
                        "clustering in every design (Cameron-Gelbach-Miller): sandwich::vcovCL(cluster = ~a + b) "
                        "for regressions without fixed effects, fixest's vcov = ~a + b with them; CR2 and stata take "
                        "one column (estimatr).")
    level: float = Field(0.95, gt=0.0, lt=1.0, description="Confidence level of the intervals (R's level / "
                                                           "conf.level, alpha = 1 - level).")
    wild_bootstrap: WildBootstrap | None = Field(
        None, description="Also report the wild cluster bootstrap p-value and CI (needs a cluster column): "
                          "fwildclusterboot::boottest's restricted WCR bootstrap.")

    @field_validator("cluster", mode="before")
    @classmethod
    def _one_cluster_as_list(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _cluster_matches_vcov(self) -> "Inference":
        if self.vcov in CLUSTERED and not self.cluster:
            raise SpecError(Problem(
                "vcov", f"vcov {self.vcov!r} is clustered but no cluster column is given.",
                fix="Add 'cluster: <column>' under inference, or choose iid or HC0-HC3.", code="cluster_missing"))
        if self.wild_bootstrap is not None and not self.cluster:
            raise SpecError(Problem(
                "wild_bootstrap", "the wild cluster bootstrap resamples clusters, but no cluster column is given.",
                fix="Add 'cluster: <column>' and a clustered vcov (CR1, CR2), or remove wild_bootstrap.",
                code="wild_without_cluster"))
        if self.cluster and self.vcov is not None and self.vcov not in CLUSTERED:
            raise SpecError(Problem(
                "cluster", f"cluster is set but vcov {self.vcov!r} is not clustered.",
                fix="Use vcov CR1, CR2 or stata, or remove cluster.", code="cluster_unused"))
        return self


# One schema module per design family (spec/<family>.py), one member of this union; the family's planning and
# fitting live in causalspec/designs/<family>/ and its record in causalspec.designs.FAMILIES (a test checks that
# this union and FAMILIES correspond one to one).  See docs/architecture.md.
DESIGN_MODELS = (ObservationalDesign, ExperimentDesign, PanelDesign, IVDesign, DiDDesign, EventStudyDesign,
                 RegressionDiscontinuityDesign, SyntheticControlDesign, InterruptedTimeSeriesDesign)
Design = Annotated[
    Union[ObservationalDesign, ExperimentDesign, PanelDesign, IVDesign, DiDDesign, EventStudyDesign,
          RegressionDiscontinuityDesign, SyntheticControlDesign, InterruptedTimeSeriesDesign],
    Field(discriminator="type"),
]


#: The heterogeneity section (learner linear: OLS interactions; dr, t, s, x, r: CATE learners) lives in its
#: own schema module; the old name stays for imports.
Heterogeneity = HeterogeneityML


class Spec(_Model):
    """A causal analysis, as a reviewer reads it.

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.Spec(name="demo", treatment="x", outcome="y",
    ...                dag={"edges": ["z -> x", "z -> y", "x -> y"]})
    >>> spec.graph.parents("x")
    ('z',)
    """

    version: Literal[1] = Field(SPEC_VERSION, description="Spec format version.")
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\- ]+$")] = Field(
        ..., description="Short name of the analysis (letters, digits, space, _ . -)."
    )
    description: str = Field("", max_length=20_000, description="What question the analysis answers, in words.")
    data: DataField | None = Field(
        None,
        description=(
            "A CSV or Parquet path relative to the spec file, a Parquet glob (events/*.parquet; engine duckdb, "
            "spark or auto), or the name of a bundled data set (see causalspec.datasets.names()); or "
            "{path, table} for a DuckDB database table, or {path, query} for one read-only SELECT. May be left "
            "out of a spec that is only planned."
        ),
    )
    engine: Engine = Field(
        "memory", description="Where the model is fitted: memory (pandas, every estimator); duckdb (embedded, "
                              "out of core: only aggregates reach Python); spark (local[2], or the session "
                              "passed to causalspec.run); auto: duckdb when the data are a glob, a table or a "
                              "query, or files larger than the memory budget CAUSALSPEC_MAX_DATA_BYTES (default "
                              "512 MB, the in-memory reader's limit), else memory. The plan and the numbers are "
                              "the same (docs/scale.md); what duckdb or spark cannot compute is refused when the "
                              "spec is planned.")
    dag: DagSpec | Annotated[str, Field(max_length=200_000)] | None = Field(
        None,
        description=(
            'The causal graph: {edges: ["a -> b", ...], latent: [...]}, Graphviz DOT {dot: "digraph { a -> b }"}, '
            'GML {gml: "graph [ ... ]"}, or dagitty text "dag { a -> b }". Required for observational designs; '
            "for experiments it defaults to treatment -> outcome."
        ),
    )
    treatment: _NAME = Field(..., description="The treatment (exposure) column.")
    outcome: _NAME = Field(..., description="The outcome column.")
    estimand: Literal["ATE", "ATT", "ATC", "ATO"] = Field(
        "ATE", description="The causal estimand: ATE (everyone), ATT (the treated), ATC (the controls) or ATO (the "
                           "overlap population, weighted by e(1 - e): Li, Morgan & Zaslavsky 2018; observational "
                           "estimator ipw only, refused by every other design and estimator).")
    design: Design = Field(default_factory=ObservationalDesign, description="The study design (a union on type).")
    adjustment: Literal["auto"] | tuple[_NAME, ...] = Field(
        "auto", description="auto: the planner chooses from the DAG; or an explicit list that the planner checks."
    )
    covariates: tuple[_NAME, ...] = Field(
        (), description="Precision covariates (causes of the outcome only) added to the model to sharpen it."
    )
    weights: _NAME | None = Field(
        None, description="Observation weights (a numeric column, > 0; rows with weight 0 are dropped and "
                          "counted): lm(weights = w), fixest::feols(weights = ~w), "
                          "estimatr::lm_robust(weights = w), AER::ivreg(weights = w). OLS, fixed effects, DiD, "
                          "TWFE / Sun-Abraham event studies and IV (2SLS, with or without fixed effects); refused "
                          "(at weights) for the other estimators.")
    inference: Inference = Field(default_factory=Inference, description="Standard errors and intervals.")
    heterogeneity: Heterogeneity | None = Field(
        None, description="Effect modification: how the effect varies with pre-treatment covariates.")
    sensitivity: SensitivitySpec = Field(
        default_factory=SensitivitySpec, description="Sensitivity bounds and refutation tests (on by default).")
    model: ModelSpec | None = Field(None, description="Advanced: a fixest-style formula replacing the planner's.")
    seed: int = Field(20240601, ge=0, lt=2**63, description="Seed for every random step (numpy Generator).")

    # The folder of the file the spec was loaded from (relative data paths resolve against it). Not a field:
    # two specs with the same fields are equal wherever they were read from.
    _origin: Any = PrivateAttr(None)
    _source: Any = PrivateAttr(None)
    _lines: Any = PrivateAttr(None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Spec):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(self.model_dump_json())

    @property
    def origin(self):
        """The folder of the spec file this spec was loaded from, or None."""
        return self._origin

    @field_validator("dag", mode="before")
    @classmethod
    def _dag_mapping(cls, value: Any) -> Any:
        # a mapping is a DagSpec: its errors are located at dag.edges, not at each member of the union
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return DagSpec(**value)
        return value

    @field_validator("adjustment", mode="before")
    @classmethod
    def _adjustment_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(value)
        return value

    @cached_property
    def graph(self) -> DAG:
        """The DAG as a :class:`causalspec.graph.DAG` (for experiments without one: treatment -> outcome)."""
        return _build_graph(self)

    @model_validator(mode="after")
    def _check_semantics(self) -> "Spec":
        problems = self._semantic_problems()
        if problems:
            raise SpecError(problems)
        return self

    def _semantic_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.treatment == self.outcome:
            problems.append(Problem(
                "outcome", f"treatment and outcome are both {self.treatment!r}.",
                fix="Name the outcome column you want the treatment's effect on.", code="same_treatment_outcome"))
        if self.dag is None:
            if self.design.type not in DAG_OPTIONAL:
                problems.append(Problem(
                    "dag", f"a {self.design.type} design needs a DAG to choose what to adjust for.",
                    fix='Add dag: {edges: ["confounder -> treatment", "confounder -> outcome", '
                        '"treatment -> outcome"]}.', code="dag_missing"))
            return problems
        try:
            graph = _build_graph(self)
        except GraphError as exc:
            return problems + list(exc.problems)
        nodes = set(graph.nodes)
        latent = set(graph.latent)
        for field in ("treatment", "outcome"):
            name = getattr(self, field)
            if name not in nodes:
                problems.append(Problem(
                    field, f"{name!r} is not a node of the DAG{_did_you_mean(name, nodes)}.",
                    fix=f"Add an edge with {name!r} to dag.edges or fix the spelling.", code="unknown_node"))
            elif name in latent:
                problems.append(Problem(
                    field, f"{name!r} is a latent (unmeasured) node.",
                    fix=f"Remove {name!r} from dag.latent: the {field} must be measured.", code="latent_role"))
        if self.treatment in nodes and self.outcome in nodes and self.treatment != self.outcome:
            if self.outcome not in graph.descendants([self.treatment]):
                problems.append(Problem(
                    "dag.edges", f"there is no directed path from {self.treatment!r} to {self.outcome!r}, "
                    "so the DAG says the effect is zero.",
                    fix=f'Add "{self.treatment} -> {self.outcome}" (or a path through a mediator) to dag.edges.',
                    code="no_causal_path"))
        if isinstance(self.adjustment, tuple):
            problems += _check_names(self.adjustment, "adjustment", nodes, latent, self)
        problems += _check_names(self.covariates, "covariates", nodes, latent, self)
        if self.heterogeneity is not None:
            h = self.heterogeneity
            problems += _check_names(h.modifiers, "heterogeneity.modifiers", nodes, latent, self)
            problems += [Problem(f"heterogeneity.at.{name}", f"{name!r} is not one of the modifiers "
                                 f"{list(h.modifiers)}{_did_you_mean(name, h.modifiers)}.",
                                 fix="Name a modifier, or add it to heterogeneity.modifiers.", code="unknown_modifier")
                         for name in h.at if name not in h.modifiers]
        problems += role_column_problems(self, graph)
        return problems


def _build_graph(spec: Spec) -> DAG:
    dag = spec.dag
    if dag is None:
        return DAG.from_edges([_edge(spec.treatment, spec.outcome)])
    if isinstance(dag, str):
        return DAG.from_dagitty(dag)
    extra = {"latent": dag.latent, "nodes": dag.nodes, "adjusted": dag.adjusted}
    if dag.dot is not None:
        return from_dot(dag.dot, loc="dag.dot", **extra)
    if dag.gml is not None:
        return from_gml(dag.gml, loc="dag.gml", **extra)
    return DAG.from_edges(dag.edges, **extra)


def _edge(a: str, b: str) -> str:
    def q(name: str) -> str:
        return f'"{name}"' if re.search(r'[\s<>\-"]', name) else name

    return f"{q(a)} -> {q(b)}"

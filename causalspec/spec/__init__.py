"""The analysis spec: typed models, safe loading of YAML / TOML / JSON files, and the JSON Schema."""

from causalspec.spec._data_source import ENGINES, DataSpec, data_label
from causalspec.spec._load import dump, dumps, from_dict, load, loads
from causalspec.spec._models import (
    SPEC_VERSION,
    VCOV_KINDS,
    DagSpec,
    Design,
    DiDDesign,
    EventStudyDesign,
    IVDesign,
    ModelSpec,
    PanelDesign,
    SensitivitySpec,
    ExperimentDesign,
    Inference,
    ObservationalDesign,
    Spec,
)

__all__ = [
    "Spec",
    "DagSpec",
    "Design",
    "ObservationalDesign",
    "ExperimentDesign",
    "PanelDesign",
    "IVDesign",
    "DiDDesign",
    "EventStudyDesign",
    "ModelSpec",
    "SensitivitySpec",
    "Inference",
    "DataSpec",
    "ENGINES",
    "data_label",
    "VCOV_KINDS",
    "load",
    "loads",
    "dump",
    "dumps",
    "from_dict",
    "json_schema",
    "SCHEMA_ID",
    "SPEC_VERSION",
]


#: The schema's ``$id``: one URL per spec version (``version: 1``).
SCHEMA_ID = f"https://causalspec.org/schema/spec-v{SPEC_VERSION}.json"


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12, as pydantic writes it) of spec files, for editors and review bots.

    ``$id`` names the spec version; each ``dag.edges`` string carries a ``pattern`` that matches exactly what the
    edge parser accepts (:func:`causalspec.graph.edge_pattern`), so an editor flags ``"z --> w"`` while it is typed.

    Examples
    --------
    >>> schema = json_schema()
    >>> schema["$id"]
    'https://causalspec.org/schema/spec-v1.json'
    """
    schema = Spec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema,
            "title": "causalspec analysis spec"}

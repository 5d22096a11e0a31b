"""The analysis spec: typed models, safe loading of YAML / TOML / JSON files, and the JSON Schema."""

from causalspec.spec._data_source import ENGINES, DataSpec, data_label
from causalspec.spec._load import dump, dumps, from_dict, load, loads
from causalspec.spec._models import (
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
]


def json_schema() -> dict:
    """The JSON Schema of spec files, for editors and review bots."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "causalspec analysis spec"
    return schema

"""Spec models and files: round trips, safety, located errors, the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import causalspec as cs
from causalspec.errors import SpecError, SpecFileError
from causalspec.spec import json_schema

SPECS = Path(__file__).resolve().parents[1] / "specs"

BASE = {
    "name": "demo",
    "treatment": "x",
    "outcome": "y",
    "dag": {"edges": ["z -> x", "z -> y", "x -> y"]},
}


@pytest.mark.parametrize("fmt", ["yaml", "toml", "json"])
@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_load_dump_load_is_equal(path, fmt):
    spec = cs.load(path)
    again = cs.loads(cs.dumps(spec, fmt), fmt)
    assert again == spec
    assert cs.dumps(again, fmt) == cs.dumps(spec, fmt)


def test_dump_writes_atomically_and_reloads(tmp_path):
    spec = cs.Spec(**BASE)
    target = cs.dump(spec, tmp_path / "demo.toml")
    assert cs.load(target) == spec
    assert not list(tmp_path.glob("*.tmp"))


def test_python_construction_raises_spec_error_not_pydantic():
    with pytest.raises(SpecError, match=r"treatment: 'q' is not a node of the DAG"):
        cs.Spec(**{**BASE, "treatment": "q"})
    with pytest.raises(SpecError, match=r"name: this field is required"):
        cs.Spec(treatment="x", outcome="y", dag={"edges": ["x -> y"]})


def test_every_problem_is_collected_before_raising():
    with pytest.raises(SpecError) as info:
        cs.Spec(**{**BASE, "treatment": "q", "covariates": ["w", "w"], "adjustment": ["nope"]})
    locs = [p.loc for p in info.value.problems]
    assert locs == ["treatment", "adjustment[0]", "covariates[0]", "covariates[1]", "covariates[1]"]


def test_names_with_spaces_and_symbols_are_plain_text():
    spec = cs.Spec(name="odd names", treatment="uses feature?", outcome="spend ($)",
                   dag={"edges": ['"account age" -> "uses feature?"', '"account age" -> "spend ($)"',
                                  '"uses feature?" -> "spend ($)"']})
    plan = cs.plan(spec)
    assert plan.adjustment_set == ("account age",)
    assert plan.formula == "`spend ($)` ~ `uses feature?` + `account age`"


def test_dagitty_text_is_accepted():
    spec = cs.Spec(name="d", treatment="x", outcome="y", dag="dag { z -> x; z -> y; x -> y }")
    assert cs.plan(spec).adjustment_set == ("z",)


def test_unknown_nested_key_suggests_the_right_one():
    with pytest.raises(SpecError, match=r"inference.levl: unknown key 'levl' \(did you mean 'level'\?\)"):
        cs.Spec(**BASE, inference={"levl": 0.9})


def test_level_out_of_range_is_located():
    with pytest.raises(SpecError, match=r"inference.level: "):
        cs.Spec(**BASE, inference={"level": 1.5})


def test_experiment_without_dag_defaults_to_treatment_causes_outcome():
    spec = cs.Spec(name="ab", treatment="variant", outcome="spend", design={"type": "experiment"})
    assert spec.graph.parents("spend") == ("variant",)


def test_observational_without_dag_is_refused():
    with pytest.raises(SpecError, match=r"dag: a observational design needs a DAG"):
        cs.Spec(name="o", treatment="x", outcome="y")


@pytest.mark.parametrize("text, match", [
    ("[1, 2, 3]", "top level is a list"),
    ("name: a\n  bad: indentation: here", "not valid YAML"),
    ("a: !!binary aGVsbG8=", "YAML tag"),
    ("a: 2001-12-14", "YAML tag 'tag:yaml.org,2002:timestamp'"),
    ("   \n\n", "the spec is empty"),
])
def test_hostile_or_malformed_yaml_is_refused(text, match):
    with pytest.raises(SpecFileError, match=match):
        cs.loads(text)


def test_large_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * 3_000_000)
    with pytest.raises(SpecFileError, match=r"a spec is at most"):
        cs.load(big)


def test_non_utf8_file_is_refused(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecFileError, match=r"not UTF-8"):
        cs.load(bad)


def test_missing_and_wrong_type_files(tmp_path):
    with pytest.raises(SpecFileError, match=r"no such file"):
        cs.load(tmp_path / "absent.yaml")
    with pytest.raises(SpecFileError, match=r"unknown spec file type '.txt'"):
        cs.load(tmp_path / "spec.txt")


def test_json_errors_have_lines():
    text = json.dumps({**BASE, "treatment": "q"}, indent=2)
    with pytest.raises(SpecError) as info:
        cs.loads(text, "json", source="a.json")
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.loc) == ("a.json", text.splitlines().index('  "treatment": "q",') + 1,
                                                          "treatment")


def test_schema_lists_every_field_and_design():
    schema = json_schema()
    assert set(schema["properties"]) == set(cs.Spec.model_fields)
    text = json.dumps(schema)
    assert '"observational"' in text and '"experiment"' in text
    assert schema["additionalProperties"] is False


def test_a_bad_value_is_not_repeated_inside_the_allowed_list_and_a_case_slip_is_named():
    import pytest
    from causalspec.errors import SpecError

    with pytest.raises(SpecError, match=r"inference.vcov: 'hc2' is not one of the allowed values\. Write 'HC2' "
                                        r"\(values are case-sensitive\)\.$"):
        cs.Spec(name="a", treatment="x", outcome="y", dag={"edges": ["x -> y"]}, inference={"vcov": "hc2"})
    with pytest.raises(SpecError) as info:
        cs.Spec(name="a", treatment="x", outcome="y", dag={"edges": ["x -> y"]}, inference={"vcov": "HC9"})
    text = str(info.value)
    assert "'HC2'" in text and "'hc2'" not in text and text.count("'HC2'") == 1

"""The published JSON Schema (issue 18): an ``$id``, draft 2020-12, and edge strings whose ``pattern`` accepts
exactly what the edge parser accepts, so an editor flags a malformed edge while it is typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import causalspec as cs
from causalspec.graph import edge_pattern
from causalspec.graph._edges import parse_edge
from causalspec.spec import SCHEMA_ID, json_schema

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
PATTERN = re.compile(edge_pattern())


def _accepted(text: str) -> bool:
    return not isinstance(parse_edge(text), str)


def _edge_items(schema: dict) -> dict:
    (array,) = [a for a in schema["$defs"]["DagSpec"]["properties"]["edges"]["anyOf"] if a.get("type") == "array"]
    return array["items"]


def test_the_schema_names_its_draft_and_its_id():
    schema = json_schema()
    assert list(schema)[:2] == ["$schema", "$id"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID == "https://causalspec.org/schema/spec-v1.json"
    assert cs.json_schema() == schema


def test_edge_strings_carry_the_parsers_pattern_and_dag_takes_one_form():
    schema = json_schema()
    assert _edge_items(schema)["pattern"] == edge_pattern()
    assert schema["$defs"]["DagSpec"]["oneOf"] == [{"required": ["edges"]}, {"required": ["dot"]},
                                                   {"required": ["gml"]}]


def test_the_pattern_uses_only_syntax_python_and_ecma_262_share():
    text = edge_pattern()
    assert text.startswith("^") and text.endswith("$")
    for construct in ("(?P", "(?<", "(?=", "(?!", "\\A", "\\Z", "\\d", "\\w", "\\s", "\\x", "\\U"):
        assert construct not in text, construct
    assert re.findall(r"\\(.)", text) and set(re.findall(r"\\(.)", text)) <= {"u", "\\"}


def test_every_edge_of_every_bundled_spec_matches():
    dags = [yaml.safe_load(path.read_text()).get("dag") for path in SPECS]
    edges = [e for dag in dags if isinstance(dag, dict) for e in dag.get("edges", ())]
    assert len(edges) > 50
    assert [e for e in edges if not PATTERN.fullmatch(e)] == []


@pytest.mark.parametrize("edge", ["z --> w", "z => w", "z -> ", "z", "z - -> w", "z ->> w", "z → w", "z <-- w",
                                  '"z" w -> y', '"z -> w', "z -> -> w", "z <- -w", "z- -> w", "z -> w\x00"])
def test_malformed_edges_are_refused_by_the_pattern_and_the_parser(edge):
    assert not PATTERN.fullmatch(edge)
    assert not _accepted(edge)


@pytest.mark.parametrize("edge", ["a -> b", "a <- b", "a <-> b", "a -> b -> c <- d", '"a -> b" -> c', "age-group -> y",
                                  "account age -> spend", '"a \\" b" <-> c', '"x→y" -> z',
                                  "  a->b  ", "a -b -> c", "café -> thé"])
def test_well_formed_edges_are_accepted_by_both(edge):
    assert PATTERN.fullmatch(edge)
    assert _accepted(edge)


# the characters whose handling differs: arrows, a lone - or =, quotes and escapes, whitespace the parser strips
# (tab, U+3000, U+001C), a NUL, a non-ASCII letter and a Unicode arrow
ALPHABET = list('ab -<>="\\\t\x00é→\u3000\x1c\n')


@settings(max_examples=1200, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=14))
def test_the_pattern_matches_exactly_what_the_parser_accepts(text):
    assert bool(PATTERN.fullmatch(text)) == _accepted(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="ab_- é", min_size=1, max_size=5), min_size=2, max_size=4),
       st.lists(st.sampled_from(["->", "<-", "<->", " -> ", " <-> "]), min_size=3, max_size=3))
def test_chains_of_names_and_arrows_agree(names, arrows):
    text = names[0] + "".join(a + n for a, n in zip(arrows, names[1:]))
    assert bool(PATTERN.fullmatch(text)) == _accepted(text)


def test_the_schema_validates_the_bundled_specs_when_jsonschema_is_installed():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in SPECS:
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path.name
    bad = yaml.safe_load((ROOT / "specs" / "feature_adoption.yaml").read_text())
    bad["dag"]["edges"][0] = "account_age --> activity"
    assert list(validator.iter_errors(bad))

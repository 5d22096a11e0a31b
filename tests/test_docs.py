"""Docs stay true: the spec reference equals the models, error codes are documented, examples run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from causalspec.errors import ERROR_CODES
from causalspec.spec._reference import BEGIN, END, render_reference

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_spec_reference_is_in_sync_with_the_models():
    text = (DOCS / "spec.md").read_text()
    current = text[text.index(BEGIN): text.index(END) + len(END)]
    assert current == render_reference(), (
        "docs/spec.md is out of date: regenerate the table with causalspec.spec._reference.render_reference()")


def test_every_error_class_code_is_documented():
    text = (DOCS / "errors.md").read_text()
    for code, cls in ERROR_CODES.items():
        assert re.search(rf"\| `{code}` \| `{cls.__name__}`", text), f"{code} ({cls.__name__}) missing in errors.md"


def test_every_problem_code_from_the_broken_specs_is_documented():
    text = (DOCS / "errors.md").read_text()
    expected = yaml.safe_load((ROOT / "tests" / "specs" / "broken" / "expected.yaml").read_text())
    for name, want in expected.items():
        assert f"`{want['code']}`" in text, f"{want['code']} (from {name}) is not in docs/errors.md"


def test_readme_starts_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("pip install")]
    assert lines[0].startswith("pip install . && causalspec run specs/feature_adoption.yaml")
    assert lines[1].startswith('pip install ".[test]" && pytest')
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    # CI runs the same two steps (the install, then plain pytest), starting the second-kernel pass between them
    install = ci.index('pip install ".[test]" || exit 1')
    assert "pytest" in ci[install:], "CI must run plain pytest after the README's install"


def test_json_contract_doc_lists_every_key():
    import causalspec as cs

    text = (DOCS / "json.md").read_text()
    result = cs.run("specs/feature_adoption.yaml")
    for key in result.to_dict():
        assert f"`{key}`" in text, f"JSON key {key} is not documented in docs/json.md"

"""Review output: diff Markdown pieces, GitHub annotations on the exact line, and the pre-commit hooks."""

import re
from pathlib import Path

import pytest
import yaml

from causalspec import cli
from causalspec.archive import diff
from causalspec.archive._diff_markdown import code, table
from causalspec.archive._diff_plan import diff_plans
from causalspec.archive._diff_results import diff_results
from causalspec.archive._diff_tree import changes, render

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "specs" / "broken"
EXPECTED = yaml.safe_load((BROKEN / "expected.yaml").read_text())


def _effect(estimate: float, low: float, high: float) -> dict:
    return {"effect": {"term": "x", "estimate": estimate, "std_error": 1.0, "conf_low": low, "conf_high": high,
                       "p_value": 0.01}, "nobs": 100}


# --- verdict ---------------------------------------------------------------------------------------------------


def test_a_ci_that_now_covers_zero_changes_the_conclusion():
    verdict = diff_results(_effect(2.0, 0.5, 3.5), _effect(1.0, -0.5, 2.5), "").verdict
    assert verdict == "**CONCLUSION CHANGED:** effect +2 → +1 (-50%); the CI now covers 0"


def test_a_flipped_sign_changes_the_conclusion():
    verdict = diff_results(_effect(2.0, 0.5, 3.5), _effect(-2.0, -3.5, -0.5), "").verdict
    assert verdict == "**CONCLUSION CHANGED:** effect +2 → -2 (-200%); the sign flipped"


def test_a_ci_that_now_excludes_zero_changes_the_conclusion():
    verdict = diff_results(_effect(1.0, -0.5, 2.5), _effect(2.0, 0.5, 3.5), "").verdict
    assert verdict.endswith("the CI now excludes 0")


def test_equal_results_have_no_verdict_and_no_table():
    same = diff_results(_effect(2.0, 0.5, 3.5), _effect(2.0, 0.5, 3.5), "")
    assert same.verdict is None and same.lines == ()


def test_forged_results_with_text_for_numbers_print_no_numbers_and_no_new_lines():
    forged = _effect(2.0, 0.5, 3.5)
    forged["effect"]["estimate"] = "9\n::error::forged"
    forged["warnings"] = ["w\n@someone"]
    out = diff_results(_effect(2.0, 0.5, 3.5), forged, "")
    text = "\n".join(out.lines)
    assert "| effect estimate | 2 | n/a | n/a | n/a |" in out.lines
    assert "- warning: + `w\\n@someone`" in out.lines
    assert not any(line.startswith(("::", "@")) for line in text.splitlines())


def test_a_forged_plan_cannot_add_lines_through_keys_or_node_names():
    forged = {"adjustment_set": ["a\n::error::x"], "decisions": [{"node": "n`\n@x", "role": "r\n::warning::y"}, 7],
              "k\n::error::z": 1}
    out = diff_plans({"adjustment_set": [], "decisions": []}, forged)
    text = "\n".join(out.lines + out.summary)
    assert "- adjustment set: + `a\\n::error::x`" in out.lines
    assert "- `k\\n::error::z`: *(absent)* → `1`" in out.lines
    assert not any(line.lstrip(" -").startswith(("::", "@")) for line in text.splitlines())
    assert len(text.splitlines()) == len(out.lines) + len(out.summary)


# --- spec fields by dotted path ---------------------------------------------------------------------------------


def test_edges_compare_as_a_set_and_print_as_edges():
    a = {"dag": {"edges": ["a -> b", "b <-> c"], "latent": ["u", "v"]}}
    b = {"dag": {"edges": ["c <-> b", "b <- a", "a -> c"], "latent": ["v", "u"]}}
    assert render(changes(a, b)) == ["- `dag.edges`: + `a -> c`"]


def test_lists_whose_order_matters_compare_as_values():
    assert render(changes({"sensitivity": {"kd": [1, 2]}}, {"sensitivity": {"kd": [2, 1]}})) == [
        "- `sensitivity.kd`: [`1`, `2`] → [`2`, `1`]"]


def test_a_switched_section_lists_its_leaves_never_a_dict_repr():
    found = render(changes({"design": {"ipw": None}}, {"design": {"ipw": {"estimand": "ATT", "trim": 0.1}}}))
    assert found == ["- `design.ipw.estimand`: *(absent)* → `ATT`", "- `design.ipw.trim`: *(absent)* → `0.1`"]


def test_code_spans_cannot_be_closed_or_broken_by_a_value():
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    assert code("line\n::error::x") == "`line\\n::error::x`"


def test_table_cells_cannot_add_columns():
    assert table(("", "A"), [("a|b", "1")])[2] == "| a\\|b | 1 |"


# --- validate --format github: the exact line -------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, want in EXPECTED.items() if want["line"] is not None])
def test_github_annotations_carry_the_line_of_each_broken_field(name, capsys, monkeypatch):
    monkeypatch.chdir(BROKEN)
    assert cli.main(["validate", "--format", "github", name]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    want = EXPECTED[name]
    assert first.startswith(f"::error file={name},line={want['line']},title=causalspec {want['code']}::")


NESTED = {
    "s.yaml": ("version: 1\nname: demo\ntreatment: x\noutcome: y\ndag:\n  edges:\n    - z -> x\n    - z -> y\n"
               "    - x -> y\n  latent: [w]\ncovariates:\n  - z\n  - q\ndesign:\n  type: observational\n"
               "  estimator: magic\ninference:\n  vcov: HC9\n  level: 1.5\n"),
    "s.toml": ('version = 1\nname = "demo"\ntreatment = "x"\noutcome = "y"\ncovariates = ["z", "q"]\n\n[dag]\n'
               'edges = ["z -> x", "z -> y", "x -> y"]\n\n[design]\ntype = "observational"\nestimator = "magic"\n'
               '\n[inference]\nvcov = "HC9"\n'),
    "s.json": ('{\n  "version": 1,\n  "name": "demo",\n  "treatment": "x",\n  "outcome": "y",\n'
               '  "covariates": ["z",\n                 "q"],\n'
               '  "dag": {"edges": ["z -> x", "z -> y", "x -> y"]},\n  "design": {\n    "type": "observational",\n'
               '    "estimator": "magic"\n  },\n  "inference": {"vcov": "HC9"}\n}\n'),
}
NESTED_LINES = {
    "s.yaml": {"design.estimator": 16, "inference.vcov": 18, "inference.level": 19, "dag.latent": 10,
               "covariates[1]": 13},
    "s.toml": {"design.estimator": 12, "inference.vcov": 15, "covariates[1]": 5},
    "s.json": {"design.estimator": 11, "inference.vcov": 13, "covariates[1]": 7},
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_github_annotations_point_at_nested_fields_and_list_items(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(NESTED[name])
    assert cli.main(["validate", "--no-data", "--format", "github", name]) == 1
    found = {}
    for line in capsys.readouterr().out.splitlines():
        head, _, message = line.partition("::")[2].partition("::")
        props = dict(p.split("=", 1) for p in head.removeprefix("error ").split(","))
        found[message.partition(":")[0]] = int(props["line"])
    assert {loc: found.get(loc) for loc in NESTED_LINES[name]} == NESTED_LINES[name]


def test_a_file_level_annotation_message_does_not_start_with_a_colon(capsys, monkeypatch):
    monkeypatch.chdir(BROKEN)
    cli.main(["validate", "--format", "github", "12_python_tag.yaml"])
    assert "::: " not in capsys.readouterr().out


# --- pre-commit hooks -------------------------------------------------------------------------------------------

HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_the_hooks_are_the_causalspec_command_which_the_package_installs():
    assert set(HOOKS) == {"causalspec-validate", "causalspec-validate-no-data"}
    assert all(h["language"] == "python" and h["entry"].split()[:2] == ["causalspec", "validate"]
               for h in HOOKS.values())
    assert 'causalspec = "causalspec.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_the_hooks_match_every_shipped_spec_and_no_data_file():
    files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").rglob("*") if p.is_file()]
    for hook in HOOKS.values():
        matched = {f for f in files if re.search(hook["files"], f)}
        assert "specs/feature_adoption.yaml" in matched and "specs/scale/scale_events.yaml" in matched
        assert not any(f.endswith((".csv", ".parquet", ".md")) for f in matched)


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_each_hook_passes_on_a_valid_spec_and_fails_on_a_broken_one(hook, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = HOOKS[hook]["entry"].split()[1:]
    assert cli.main(argv + ["specs/feature_adoption.yaml"]) == 0  # pre-commit appends the file names
    assert cli.main(argv + ["tests/specs/broken/09_mediator_adjusted.yaml"]) == 1


# --- docs/review.md shows what diff prints today ----------------------------------------------------------------


def test_the_example_in_the_review_doc_is_what_diff_prints(tmp_path, monkeypatch):
    (tmp_path / "base" / "specs").mkdir(parents=True)
    (tmp_path / "specs").mkdir()
    text = (ROOT / "specs" / "feature_adoption.yaml").read_text()
    (tmp_path / "base" / "specs" / "feature_adoption.yaml").write_text(text)
    (tmp_path / "specs" / "feature_adoption.yaml").write_text(
        text.replace("vcov: HC2", "vcov: HC3").replace("    - feature_usage -> spend\n",
                                                       "    - feature_usage -> spend\n    - promo_email -> spend\n"))
    monkeypatch.chdir(tmp_path)
    printed = diff("base/specs/feature_adoption.yaml", "specs/feature_adoption.yaml", run=True)
    assert f"````markdown\n{printed}````\n" in (ROOT / "docs" / "review.md").read_text()

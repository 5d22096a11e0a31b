"""causalspec diff: the Markdown a reviewer reads in a pull request (docs/review.md).

The issue's scenario (vcov HC2 -> HC3 plus a new confounder edge) must show the vcov change, the role change,
the adjustment-set change and the estimate / SE / CI deltas, whether the two specs are fitted (run=True) or
their archives are compared.
"""

from pathlib import Path

import pytest

import causalspec as cs
from causalspec.archive import archive, diff

SPECS = Path(__file__).resolve().parents[1] / "specs"
BASE = SPECS / "feature_adoption.yaml"
HC3_AND_PROMO = {"vcov: HC2": "vcov: HC3",  # the issue: HC3 plus an edge that makes promo_email a confounder
                 "    - feature_usage -> spend\n": "    - feature_usage -> spend\n    - promo_email -> spend\n"}


def variant(folder: Path, name: str, replacements: dict, base: Path = BASE) -> Path:
    text = base.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def body(markdown: str) -> list[str]:
    return markdown.splitlines()[2:]  # everything after the header naming the two inputs


def results(path: Path) -> dict:
    return cs.run(path, refute=False).to_dict()


def table_row(label: str, x: float, y: float) -> str:
    rel = "0%" if y == x else f"{(y - x) / abs(x) * 100:+.3g}%"
    return f"| {label} | {x:.6g} | {y:.6g} | {'0' if y == x else f'{y - x:+.4g}'} | {rel} |"


@pytest.fixture(scope="module")
def issue_specs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("issue")
    return BASE, variant(folder, "hc3_promo", HC3_AND_PROMO)


@pytest.fixture(scope="module")
def issue_archives(issue_specs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("archives")
    return archive(issue_specs[0], folder / "a"), archive(issue_specs[1], folder / "b")


def test_hc3_plus_a_confounder_edge_shows_vcov_role_adjustment_and_result_changes(issue_specs):
    a, b = issue_specs
    ra, rb = results(a), results(b)
    ea, eb = ra["effect"], rb["effect"]
    lines = diff(a, b, run=True).splitlines()
    rel = (eb["estimate"] - ea["estimate"]) / abs(ea["estimate"]) * 100
    rel_se = (eb["std_error"] - ea["std_error"]) / ea["std_error"] * 100
    assert lines[2] == (
        f"Conclusion unchanged: effect {ea['estimate']:+.4g} → {eb['estimate']:+.4g} ({rel:+.3g}%), "
        f"SE {ea['std_error']:.4g} → {eb['std_error']:.4g} ({rel_se:+.3g}%), still excludes 0; "
        "plan changed: adjustment set +{`promo_email`}, `promo_email`: `instrument` → `confounder`, "
        "vcov `HC2` → `HC3`")
    assert "- `inference.vcov`: `HC2` → `HC3`" in lines
    assert "- `dag.edges`: + `promo_email -> spend`" in lines
    assert "- adjustment set: + `promo_email`" in lines
    assert ("  - `promo_email`: `instrument` → `confounder` (not adjusted → adjusted) — `in the adjustment set: "
            "a common cause of treatment and outcome; needed to block a backdoor path`") in lines
    assert "- `vcov.kind`: `HC2` → `HC3`" in lines
    for key, label in (("estimate", "effect estimate"), ("std_error", "effect SE"),
                       ("conf_low", "effect CI low (95%)"), ("conf_high", "effect CI high (95%)")):
        assert table_row(label, ea[key], eb[key]) in lines
    assert table_row("naive SE", ra["naive"]["std_error"], rb["naive"]["std_error"]) in lines
    assert table_row("robustness value RV", ra["sensitivity"]["ovb"]["rv_q"],
                     rb["sensitivity"]["ovb"]["rv_q"]) in lines
    assert "| nobs | 5000 | 5000 | 0 | 0% |" in lines
    # the numbers the issue quotes: the effect moves from 9.965 to 9.899, its SE from 0.2656 to 0.2697
    assert abs(ea["estimate"] - 9.965) < 5e-4 and abs(eb["estimate"] - 9.899) < 5e-4
    assert abs(ea["std_error"] - 0.2656) < 5e-5 and abs(eb["std_error"] - 0.2697) < 5e-5


def test_a_role_change_with_the_same_adjustment_set_shows_only_the_se_change(tmp_path):
    b = variant(tmp_path, "region", {"vcov: HC2": "vcov: HC3", "    - feature_usage -> spend\n":
                                     "    - feature_usage -> spend\n    - region_index -> feature_usage\n"})
    ra, rb = results(BASE)["effect"], results(b)["effect"]
    lines = diff(BASE, b, run=True).splitlines()
    rel_se = (rb["std_error"] - ra["std_error"]) / ra["std_error"] * 100
    assert lines[2] == (f"Conclusion unchanged: effect {ra['estimate']:+.4g} (unchanged), SE {ra['std_error']:.4g} "
                        f"→ {rb['std_error']:.4g} ({rel_se:+.3g}%), still excludes 0; plan changed: "
                        "`region_index`: `precision` → `confounder`, vcov `HC2` → `HC3`")
    assert not any(line.startswith("- adjustment set") for line in lines)
    assert any(line.startswith("  - `region_index`: `precision` → `confounder` (adjusted) — ") for line in lines)
    assert table_row("effect estimate", ra["estimate"], rb["estimate"]) in lines
    assert table_row("effect SE", ra["std_error"], rb["std_error"]) in lines


def test_archives_diff_exactly_as_their_specs_fitted(issue_specs, issue_archives):
    from_archives = diff(*issue_archives)
    assert body(from_archives) == body(diff(*issue_specs, run=True))
    assert "**Results**" in from_archives


def test_an_archive_against_itself_is_identical(issue_archives):
    assert body(diff(issue_archives[0], issue_archives[0])) == ["**Identical**: same spec, plan and results"]


def test_a_spec_against_an_archive_says_which_side_has_no_results(issue_specs, issue_archives):
    lines = diff(issue_specs[0], issue_archives[1]).splitlines()
    assert any(line.startswith("Results not compared: A has none (a spec is compared on its plan; pass run=True")
               for line in lines)


def test_two_specs_without_run_compare_plans_and_say_results_were_not_compared(issue_specs):
    verdict = diff(*issue_specs).splitlines()[2]
    assert verdict == ("Plan changed: adjustment set +{`promo_email`}, `promo_email`: `instrument` → `confounder`, "
                       "vcov `HC2` → `HC3` (results not compared: pass --run to fit both specs)")


def test_identical_specs_are_identical_with_and_without_run():
    assert body(diff(BASE, BASE)) == ["**Identical**: same spec and plan"]
    assert body(diff(BASE, BASE, run=True)) == ["**Identical**: same spec, plan and results"]


def test_edges_are_compared_as_a_set_in_canonical_form(tmp_path):
    b = variant(tmp_path, "reordered", {"    - account_age -> activity\n": "",
                                        "    - activity -> support_tickets\n":
                                        "    - activity -> support_tickets\n    - activity <- account_age\n"})
    assert body(diff(BASE, b)) == ["**Identical**: same spec and plan"]


def test_a_removed_edge_is_listed_as_an_edge_with_its_plan_consequences(tmp_path):
    b = variant(tmp_path, "no_region", {"    - region_index -> spend\n": ""})
    lines = diff(BASE, b).splitlines()
    assert lines[2].startswith("Plan changed: adjustment set −{`region_index`}")
    assert "- `dag.edges`: − `region_index -> spend`" in lines
    assert "- adjustment set: − `region_index`" in lines
    assert "  - `region_index`: no longer in the DAG (was `precision`)" in lines
    assert ("- `formula`: `spend ~ feature_usage + account_age + activity + region_index` → "
            "`spend ~ feature_usage + account_age + activity`") in lines
    assert not any("{'" in line or "['" in line for line in lines)  # no Python reprs


def test_a_renamed_treatment_is_named_in_the_verdict_with_the_roles_it_moves(tmp_path):
    b = variant(tmp_path, "promo", {"treatment: feature_usage": "treatment: promo_email"})
    lines = diff(BASE, b).splitlines()
    assert lines[2].startswith("Question changed: treatment `feature_usage` → `promo_email`; plan changed: ")
    assert "- `treatment`: `feature_usage` → `promo_email`" in lines
    assert any(line.startswith("  - `promo_email`: `instrument` → `treatment` (not adjusted) — ") for line in lines)
    assert any(line.startswith("  - `feature_usage`: `treatment` → `mediator` (not adjusted) — ") for line in lines)


def test_a_changed_estimand_shows_the_estimator_and_variance_it_brings(tmp_path):
    a = variant(tmp_path, "ate", {"inference:\n  vcov: HC2\n  level: 0.95\n": ""})
    b = variant(tmp_path, "att", {"estimand: ATE": "estimand: ATT"}, base=a)
    lines = diff(a, b).splitlines()
    assert lines[2] == ("Question changed: estimand `ATE` → `ATT`; plan changed: estimator `ols` → `matching`, "
                        "vcov `HC2` → `HC3` (results not compared: pass --run to fit both specs)")
    assert "- `estimand`: `ATE` → `ATT`" in lines
    assert "- `estimator`: `ols` → `matching`" in lines
    assert "- `settings.method`: *(absent)* → `nearest`" in lines


def test_a_changed_design_type_names_the_fields_each_type_brings(tmp_path):
    b = variant(tmp_path, "obs", {"  type: experiment\n  estimator: lin": "  type: observational"},
                base=SPECS / "ab_test.yaml")
    lines = diff(SPECS / "ab_test.yaml", b).splitlines()
    assert lines[2].startswith("Question changed: design.type `experiment` → `observational`; plan changed: ")
    assert "- `design.type`: `experiment` → `observational`" in lines
    assert "- `design.estimator`: `lin` → `auto`" in lines
    assert any(line.startswith("- `design`: fields no longer set: `planned_split`, `srm_alpha`") for line in lines)
    assert any(line.startswith("- `design`: fields of the new type: `matching`") for line in lines)


def test_a_changed_description_only_is_a_spec_change(tmp_path):
    b = variant(tmp_path, "desc", {"Effect of using": "The effect of using"})
    lines = diff(BASE, b, run=True).splitlines()
    assert lines[2] == "No result change; spec changed (1 field); plan unchanged"
    assert [line for line in lines if line.startswith("**")] == ["**Spec**"]

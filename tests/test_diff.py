from pathlib import Path

from causalspec.archive import archive, diff

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_diff_of_two_specs_lists_plan_changes_in_markdown():
    text = diff(SPECS / "ab_test.yaml", SPECS / "feature_adoption.yaml")
    assert text.startswith("### causalspec diff") and "**Plan**" in text and "adjustment_set" in text


def test_diff_of_an_archive_with_itself_reports_no_differences(tmp_path):
    out = archive(SPECS / "ab_test.yaml", tmp_path / "a")
    assert "No differences" in diff(out, out)


def test_diff_of_two_archives_reports_the_effect_change(tmp_path):
    a = archive(SPECS / "ab_test.yaml", tmp_path / "a")
    b = archive(SPECS / "feature_adoption.yaml", tmp_path / "b")
    assert "**Results**" in diff(a, b)

import json
from pathlib import Path

import pytest

from causalspec.archive import archive, verify

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
# Bundled specs whose run takes half a minute or more (Synth's 16 placebo refits, synthdid's 200 placebo draws,
# refutations of cross-fitted learners) are archived through a small spec of the same design and options: the
# archive and verify code paths are the same, and the bundled specs' numbers are tested in their design tests.
HEAVY = {"synthetic_control_basque": ROOT / "tests/specs/synthetic_control/small_synth.yaml",
         "sdid_prop99": ROOT / "tests/specs/synthetic_control/small_sdid.yaml",
         "churn_uplift": ROOT / "tests/specs/cate/small_cate.yaml"}
ROUND_TRIPS = [HEAVY.get(p.stem, p) for p in SPECS]


@pytest.mark.parametrize("spec", ROUND_TRIPS, ids=lambda p: p.stem)
def test_archive_then_verify_is_identical(spec, tmp_path):
    out = archive(spec, tmp_path / "a")
    report = verify(out)
    assert report.exit_code == 0, report


def test_verify_detects_a_tampered_results_file(tmp_path):
    out = archive(SPECS[0], tmp_path / "a")
    results = json.loads((out / "results.json").read_text())
    results["nobs"] = -1
    (out / "results.json").write_text(json.dumps(results))
    report = verify(out)
    assert report.tampered == ["results.json"] and report.exit_code == 5


def test_cli_run_archive_then_verify_exits_zero(tmp_path, capsys):
    from causalspec.cli import main

    spec = [p for p in SPECS if p.stem == "feature_adoption"][0]
    assert main(["run", str(spec), "--archive", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "a")]) == 0
    assert "identical" in capsys.readouterr().out


def test_verify_with_changed_data_reports_data_change(tmp_path):
    import pandas as pd

    out = archive(SPECS[0], tmp_path / "a", include_data=True)
    frame = pd.read_csv(out / "data.csv")
    frame.iloc[0, frame.columns.get_loc(frame.select_dtypes("number").columns[-1])] += 1.0
    changed = tmp_path / "changed.csv"
    frame.to_csv(changed, index=False)
    report = verify(out, data=changed)
    assert report.data_changed and report.exit_code == 6


def test_verify_warns_on_changed_environment_but_still_compares(tmp_path):
    out = archive(SPECS[0], tmp_path / "a")
    env = json.loads((out / "environment.json").read_text())
    env["packages"]["numpy"] = "0.0.1"
    (out / "environment.json").write_text(json.dumps(env))
    manifest = json.loads((out / "manifest.json").read_text())
    import hashlib

    manifest["files"]["environment.json"] = hashlib.sha256((out / "environment.json").read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    report = verify(out)
    assert any("numpy" in line for line in report.environment_changed)
    assert report.exit_code == 0


def test_zip_archive_round_trips(tmp_path):
    out = archive(SPECS[0], tmp_path / "a.zip")
    assert out.is_file() and verify(out).exit_code == 0


def test_zip_with_parent_path_is_refused(tmp_path):
    import zipfile

    from causalspec.archive._core import unpack
    from causalspec.errors import CausalSpecError

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(CausalSpecError, match="outside"):
        unpack(bad, tmp_path / "target")
    assert not (tmp_path / "evil.txt").exists()


def test_report_html_parses_and_embeds_every_image(tmp_path):
    from html.parser import HTMLParser

    out = archive([p for p in SPECS if p.stem == "feature_adoption"][0], tmp_path / "a")
    srcs = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                srcs.append(dict(attrs)["src"])

    text = (out / "report.html").read_text()
    P().feed(text)
    assert text.startswith("<!DOCTYPE html>") and "Naive vs adjusted" in text
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)


def test_archive_writes_estimate_sensitivity_and_event_study_figures(tmp_path):
    import causalspec as cs

    fa = cs.archive("specs/feature_adoption.yaml", tmp_path / "fa")
    assert {"estimates.png", "estimates.svg", "sensitivity_contour.png", "sensitivity_contour.svg",
            "table.md", "table.tex", "table.html"} <= {p.name for p in fa.iterdir()}
    es = cs.archive("specs/mpdta_event_study.yaml", tmp_path / "es")
    assert (es / "event_study.png").stat().st_size > 5000
    assert "Event study" in (es / "report.html").read_text()
    assert (es / "parallel_trends.png").stat().st_size > 5000  # Rambachan-Roth sets, one panel per restriction
    assert "Robust confidence sets under violations of parallel trends" in (es / "report.html").read_text()
    env = __import__("json").loads((fa / "environment.json").read_text())
    assert env["parity"].startswith("parity: 25/25") and "blas" in env


def test_propensity_archives_carry_overlap_and_love_plots(tmp_path):
    import causalspec as cs

    out = cs.archive("specs/feature_psm.yaml", tmp_path / "psm")
    assert (out / "overlap.png").exists() and (out / "love_plot.svg").exists()
    assert "Overlap and balance" in (out / "report.html").read_text()

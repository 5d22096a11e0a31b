"""``causalspec run`` says the answer first (issue 18); --quiet / --verbose; progress bars through tqdm."""

from __future__ import annotations

import io
import sys

import pytest

import causalspec as cs
from causalspec._progress import Progress
from causalspec.cli import main
from causalspec.report._text import answer_lines

SPEC = "specs/feature_adoption.yaml"
HEADLINE = ("Estimated effect of feature_usage on spend: +9.965 (95% CI 9.444 to 10.49). Naive contrast: +14.48; "
            "adjustment moved it by -4.513, -31%.")


@pytest.fixture(scope="module")
def outputs():
    """One run in each mode (the slow part, shared by the tests below)."""
    capture = {}
    for mode in ("default", "quiet", "verbose"):
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = main(["run", SPEC] + ([] if mode == "default" else [f"--{mode}"]))
        finally:
            sys.stdout, sys.stderr = saved
        capture[mode] = (code, out.getvalue(), err.getvalue())
    return capture


def test_run_prints_the_answer_then_the_plan_then_the_summary(outputs):
    code, out, _ = outputs["default"]
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == HEADLINE
    assert lines[1].startswith("Verdict: holds up: robustness value 41.1%") and "refutations: 3 of 3 pass" in lines[1]
    plan, naive, coefs = out.index("Plan: feature_adoption"), out.index("Naive vs adjusted:"), out.index("Coefficients:")
    assert out.index(HEADLINE) < plan < naive < coefs < out.index("Refutation tests (seed")
    assert out.count(HEADLINE) == 1  # the summary's copy of the headline is not printed again


def test_quiet_prints_only_the_answer(outputs):
    code, out, err = outputs["quiet"]
    assert code == 0 and err == ""
    assert out.splitlines()[0] == HEADLINE
    assert "Plan:" not in out and "Coefficients:" not in out and "Naive vs adjusted:" not in out
    result = cs.run(SPEC)
    assert out == "\n".join(answer_lines(result)) + "\n"
    assert f"{result.effect.estimate:+.4g}" in out  # the estimate itself, +9.965


def test_verbose_adds_the_detail_of_every_check(outputs):
    _, default, _ = outputs["default"]
    code, verbose, _ = outputs["verbose"]
    assert code == 0 and len(verbose) > len(default)
    assert set(default.splitlines()) <= set(verbose.splitlines())
    for detail in ("Refutation tests in detail:", "placebo treatment (pass): the treatment column permuted at random",
                   "Rule: pass when",
                   "DAG check in detail", "account_age _||_ promo_email: r = "):
        assert detail in verbose and detail not in default
    assert verbose.index(HEADLINE) < verbose.index("Plan: feature_adoption")


@pytest.mark.parametrize("flags", [["--quiet", "--verbose"], ["-q", "-v"], ["--json", "--verbose"]])
def test_conflicting_output_flags_are_a_usage_error(flags, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", SPEC, *flags])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_a_fitting_status_and_progress_bars(monkeypatch, capsys):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["run", SPEC]) == 0
    text = err.getvalue()
    assert text.startswith("fitting feature_adoption: ols, spend ~ feature_usage + account_age + activity + "
                           "region_index ...\n")
    assert "refutation tests: 100%" in text and "300/300" in text
    assert capsys.readouterr().out.startswith(HEADLINE)
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["run", SPEC, "--quiet", "--no-refute"]) == 0
    assert quiet.getvalue() == ""


def test_validate_quiet_prints_only_problems(tmp_path, capsys):
    assert main(["validate", "--no-data", "--quiet", SPEC]) == 0
    assert capsys.readouterr().out == ""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntreatment: x\noutcome: y\ndag:\n  edges: [x -> y]\ninference: {vcov: hc9}\n")
    assert main(["validate", "--no-data", "--quiet", SPEC, str(bad)]) == 1
    out = capsys.readouterr().out
    assert "bad.yaml: INVALID (1 problem)" in out and "feature_adoption.yaml" not in out


def test_enabled_progress_writes_a_tqdm_bar_with_label_and_counts():
    stream = io.StringIO()
    with Progress(7, "placebo loop", enabled=True, stream=stream) as bar:
        for _ in range(3):
            bar.step()
        bar.step(4)
    text = stream.getvalue()
    assert "placebo loop: 100%" in text and "7/7" in text and "0/7" in text
    assert bar.done == 7 and text.endswith("\n")
    bar.close()  # closing again (a finally after the with) writes nothing more
    assert stream.getvalue() == text


def test_disabled_progress_writes_nothing():
    stream = io.StringIO()
    bar = Progress(5, "silent", enabled=False, stream=stream)
    bar.step(5)
    bar.close()
    with Progress(3, "silent too", stream=stream) as other:
        other.step()
    assert stream.getvalue() == "" and bar.done == 5


def test_progress_closes_its_bar_when_the_loop_raises():
    stream = io.StringIO()
    with pytest.raises(RuntimeError):
        with Progress(4, "failing", enabled=True, stream=stream) as bar:
            bar.step()
            raise RuntimeError("boom")
    assert "1/4" in stream.getvalue() and stream.getvalue().endswith("\n")

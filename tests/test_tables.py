"""etable: several results side by side with the right numbers in every format."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.errors import UnsupportedError


@pytest.fixture(scope="module")
def results():
    a = cs.run("specs/feature_adoption.yaml", refute=False)
    b = cs.run("specs/wagepan_fe.yaml", refute=False)
    return a, b


def test_text_table_has_estimates_ses_stars_and_fixed_effect_rows(results):
    a, b = results
    text = cs.etable([a, b], names=["OLS", "FE"])
    e = a.effect
    assert f"{e.estimate:.4g}***" in text and f"({e.std_error:.4g})" in text
    assert f"{b.effect.estimate:.4g}" in text
    assert "nr fixed effects" in text and "Yes" in text and "No" in text
    assert "5,000" in text and "4,360" in text


def test_other_formats(results):
    a, b = results
    md = cs.etable([a, b], format="markdown", se="brackets", stars=False)
    assert md.startswith("| ") and f"[{a.effect.std_error:.4g}]" in md and "***" not in md
    tex = cs.etable([a, b], format="latex")
    assert "\\begin{tabular}{lcc}" in tex and "feature\\_usage" in tex
    html = cs.etable([a, b], format="html")
    assert html.startswith("<table>") and html.count("<tr") >= 10


def test_bad_arguments_are_errors(results):
    with pytest.raises(UnsupportedError, match="names"):
        cs.etable(list(results), names=["only one"])
    with pytest.raises(UnsupportedError, match="unknown table format"):
        cs.etable(list(results), format="pdf")

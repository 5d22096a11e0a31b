"""table.md and etable(format="markdown") cannot gain columns, rows or markup from column or model names."""

from __future__ import annotations

import numpy as np
import pandas as pd

import causalspec as cs


def test_markdown_table_escapes_pipes_line_breaks_and_html_in_names():
    rng = np.random.default_rng(0)
    n = 200
    z = rng.normal(size=n)
    x = (z + rng.normal(size=n) > 0).astype(float)
    evil = "a|b<script>"
    data = pd.DataFrame({"x": x, "y": x + z + rng.normal(size=n), evil: z})
    spec = cs.Spec(name="t", treatment="x", outcome="y",
                   dag={"edges": [f'"{evil}" -> x', f'"{evil}" -> y', "x -> y"]})
    table = cs.etable([cs.fit(cs.plan(spec), data)], format="markdown", names=["<b>m|1</b>\n| x |"])
    rows = [line for line in table.splitlines() if line.startswith("|")]
    widths = {line.replace("\\|", "").count("|") for line in rows}
    assert widths == {3}, table  # every row has exactly two cells
    assert "<script>" not in table.split("`")[0] and "<b>" not in table
    assert "| `a\\|b<script>` |" in table

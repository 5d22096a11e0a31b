"""The examples in docs/sensitivity.md run and print what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "sensitivity.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_documented_images_exist():
    for img in re.findall(r"\]\((img/[^)]+)\)", DOC):
        assert (ROOT / "docs" / img).is_file(), img


@pytest.mark.parametrize("index", [0, 1, 2])
def test_documented_examples_run(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code = BLOCKS[index].replace('savefig("', f'savefig("{tmp_path}/')
    exec(compile(code, f"docs/sensitivity.md block {index}", "exec"), {})
    if index == 0:
        out = capsys.readouterr().out
        assert out.startswith("0.0219 0.1388 0.0763")
        assert "13.88% of the residual variance of both the treatment and the outcome to bring the estimate to zero" in out

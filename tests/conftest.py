import sys
from pathlib import Path

# Make ``tests.parity._cases`` importable as ``parity._cases`` when pytest runs from the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch):
    """Tests name specs as ``specs/...``: run each from the repository root wherever pytest started."""
    monkeypatch.chdir(REPO)

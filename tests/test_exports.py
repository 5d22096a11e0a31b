"""The public namespace: every package lists its API in __all__, and nothing private leaks."""

from __future__ import annotations

import importlib
import types

import pytest

PACKAGES = ["causalspec", "causalspec.spec", "causalspec.graph", "causalspec.planner", "causalspec.estimators",
            "causalspec.inference", "causalspec.report", "causalspec.errors", "causalspec.datasets"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve_and_are_public(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    for attr in module.__all__:
        assert not attr.startswith("_") or attr == "__version__", f"{name}.__all__ exports private {attr}"
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr}"


@pytest.mark.parametrize("name", PACKAGES)
def test_no_public_name_outside_all(name):
    module = importlib.import_module(name)
    leaked = []
    for attr, value in vars(module).items():
        if attr.startswith("_") or attr in module.__all__ or isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", "") or ""
        # a name from one of this package's own private modules must be listed (or kept private)
        if origin.startswith(f"{name}._") or origin == name:
            leaked.append(attr)
    assert not leaked, f"{name} exposes {leaked} without listing them in __all__"


def test_top_level_api():
    import causalspec as cs

    for attr in ("load", "loads", "dump", "dumps", "plan", "fit", "run", "Spec", "Plan", "Result"):
        assert attr in cs.__all__

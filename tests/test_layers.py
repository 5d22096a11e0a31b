"""The package's layers (docs/architecture.md, DESIGN.md "Layers and families"), checked on the source.

A module may import only from its own layer or the layers below it; function-local imports of causalspec
modules are refused except the one declared deferred call (``Result.summary`` into ``report``).  Imports under
``if TYPE_CHECKING:`` are not run and are not counted.  Kernels are ordered among themselves too, so no
import cycle can form between them.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import causalspec
from causalspec.designs import FAMILIES
from causalspec.spec import _models

PACKAGE = Path(causalspec.__file__).parent

# Lowest first.  A module's layer is the first entry that is a prefix of its dotted name.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_values", "_files", "_arrays", "_data", "_progress", "_version", "datasets"),  # base
    ("graph",),  # kernels, in order
    ("formula",),
    ("inference",),
    ("estimators",),
    ("sensitivity",),
    ("power",),
    ("heterogeneity",),  # CATE learners, uplift metrics, policy (scikit-learn inside functions only)
    ("spec",),  # stage 1
    ("planner",),  # stage 2
    ("designs",),  # stage 3
    ("engines",),  # stage 3 on a query engine (DuckDB, Spark): the same plans fitted out of memory
    ("result",),  # stage 4
    ("robustness",),  # stage 5
    ("report",),  # stage 6
    ("api",),  # pipeline: the api, then what runs through it
    ("parity",),  # the shipped R cases, run through the api (archives record the parity line)
    ("archive",),
    ("cli", "__init__", "__main__"),  # shells
)

# Function-local imports that are allowed: optional heavy dependencies, and the declared deferred call.
ALLOWED_LOCAL_EXTERNAL = {"matplotlib", "sklearn", "scipy", "networkx", "pyarrow", "tomllib", "tomli", "importlib"}
DECLARED_DEFERRED = {("result._result", "causalspec.report")}


def layer_of(module: str) -> int:
    if module == "causalspec":
        return len(LAYERS) - 1  # the public namespace re-exports every layer
    name = module.removeprefix("causalspec.")
    for i, names in enumerate(LAYERS):
        for n in names:
            if name == n or name.startswith(n + "."):
                return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to docs/architecture.md)")


PROBE = f"_zz{os.getpid()}_"  # this process's probe files (CI runs two test sessions at once on one checkout)


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name.startswith("_zz") and not path.name.startswith(PROBE):
            continue
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts == ["causalspec", "__init__"]:
            name = "causalspec.__init__"
        else:
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(path: Path):
    """(imported causalspec module, line, is_function_local) for every runtime import in the file."""
    tree = ast.parse(path.read_text())
    type_checking = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking |= {id(n) for b in node.body for n in ast.walk(b)}
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import (use absolute causalspec.* imports)"
            targets = [node.module or ""]
            if node.module == "causalspec":
                targets = [f"causalspec.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in targets:
            yield t, node.lineno, id(node) not in top and not _in_toplevel_try(tree, node)


def _in_toplevel_try(tree, node) -> bool:
    for top in tree.body:
        if isinstance(top, (ast.Try, ast.If)) and any(n is node for n in ast.walk(top)):
            return True
    return False


def violations(root: Path = PACKAGE):
    out = []
    for name, path in modules():
        mine = layer_of(name)
        short = name.removeprefix("causalspec.")
        for target, line, local in imports(path):
            if target.startswith("causalspec"):
                theirs = layer_of(target) if target != "causalspec" else len(LAYERS) - 1
                if theirs > mine and not (local and (short, target) in DECLARED_DEFERRED):
                    out.append(f"{path.relative_to(root.parent)}:{line}: {name} (layer {mine}) imports {target} "
                               f"(layer {theirs}): upward")
                elif local and (short, target) not in DECLARED_DEFERRED:
                    out.append(f"{path.relative_to(root.parent)}:{line}: function-local import of {target}")
            elif local and target.split(".")[0] not in ALLOWED_LOCAL_EXTERNAL:
                out.append(f"{path.relative_to(root.parent)}:{line}: function-local import of {target}")
    return out


def test_no_module_imports_upward_or_inside_a_function():
    assert violations() == []


def test_an_upward_import_and_a_function_local_import_are_caught():
    upward = PACKAGE / "graph" / f"{PROBE}upward_probe.py"
    local = PACKAGE / "report" / f"{PROBE}local_probe.py"
    upward.write_text("from causalspec.designs import FAMILIES\n")
    local.write_text("def f():\n    import causalspec.graph\n")
    try:
        found = violations()
    finally:
        upward.unlink()
        local.unlink()
    assert [v for v in found if PROBE in v] == [
        f"causalspec/graph/{PROBE}upward_probe.py:1: causalspec.graph.{PROBE}upward_probe (layer 1) imports "
        "causalspec.designs (layer 10): upward",
        f"causalspec/report/{PROBE}local_probe.py:2: function-local import of causalspec.graph"]


def test_every_module_is_in_a_layer():
    for name, _ in modules():
        layer_of(name)


def test_the_design_union_and_the_families_correspond_one_to_one():
    from causalspec.spec._validation import DESIGN_TAGS

    union = {m.model_fields["type"].default for m in _models.DESIGN_MODELS}
    assert union == {f.type for f in FAMILIES} == DESIGN_TAGS  # error locations drop exactly these union tags
    assert len(FAMILIES) == len(union)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.type)
def test_each_family_has_one_folder_and_one_schema_module_of_its_name(family):
    assert (PACKAGE / "designs" / family.type / "__init__.py").is_file()
    assert (PACKAGE / "spec" / f"{family.type}.py").is_file()


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for _, p in modules() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def _module_graph():
    """Module-level import edges between causalspec modules (``from pkg import sub`` points at ``pkg.sub``)."""
    names = {name: path for name, path in modules()}
    names["causalspec"] = names.pop("causalspec.__init__")
    graph = {m: set() for m in names}
    for m, path in names.items():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            found = [node] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            if isinstance(node, ast.Try):
                found = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
            for imp in found:
                if isinstance(imp, ast.Import):
                    targets = [a.name for a in imp.names]
                else:
                    subs = [f"{imp.module}.{a.name}" for a in imp.names if f"{imp.module}.{a.name}" in names]
                    targets = subs + ([imp.module] if len(subs) < len(imp.names) else [])
                for t in targets:
                    while t and t not in names:
                        t = t.rpartition(".")[0]
                    if t and t != m:
                        graph[m].add(t)
    return graph


def test_there_is_no_import_cycle():
    graph = _module_graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m, path):
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle.extend(path[path.index(t):] + [t] if t in path else [m, t])
                return True
            if t not in state and visit(t, path + [t]):
                return True
        state[m] = 2
        return False

    assert not any(visit(m, [m]) for m in sorted(graph) if m not in state), " -> ".join(cycle)

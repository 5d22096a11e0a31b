"""DOT and GML graph input beside edges and dagitty text (issue 18): the same DAG and plan from every form, located
errors for malformed text, and hostile text that is bounded and never executed."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import causalspec as cs
from causalspec.errors import GraphError, SpecError
from causalspec.graph import DAG, from_dot, from_gml
from causalspec.graph._dot import MAX_GRAPH_CHARS

ROOT = Path(__file__).resolve().parents[1]
EDGE_SPECS = sorted(p for p in (ROOT / "specs").glob("*.yaml") if "edges:" in p.read_text())


def _q(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def _as_dot(dag: DAG) -> str:
    lines = [f"  {_q(a)} -> {_q(b)}" + (" [dir=both]" if op == "<->" else "") for a, op, b in dag.edges]
    lines += [f"  {_q(v)} [latent=true]" for v in sorted(dag.latent)]
    lines += [f"  {_q(v)}" for v in dag.nodes if not any(v in (a, b) for a, _, b in dag.edges)]
    return "strict digraph spec {\n  rankdir=LR; node [shape=box]\n" + "\n".join(lines) + "\n}\n"


def _as_gml(dag: DAG) -> str:
    nx = pytest.importorskip("networkx")  # an independent writer of the format
    g = nx.DiGraph()
    g.add_nodes_from(dag.nodes)
    g.add_edges_from((a, b) for a, op, b in dag.edges)
    for v in dag.latent:
        g.nodes[v]["latent"] = 1
    return "\n".join(nx.generate_gml(g))


def _plan(spec) -> dict:
    out = json.loads(cs.plan(spec).to_json())
    out.pop("spec_hash")
    return out


@pytest.mark.parametrize("path", EDGE_SPECS, ids=lambda p: p.stem)
def test_every_bundled_dag_as_dot_and_gml_gives_the_same_dag_and_plan(path):
    spec = cs.load(path)
    body = spec.model_dump()
    extra = {k: body["dag"][k] for k in ("nodes", "adjusted")}
    forms = {"dot": {"dot": _as_dot(spec.graph), **extra}}
    if all(op == "->" for _, op, _ in spec.graph.edges):  # GML has no bidirected edges
        forms["gml"] = {"gml": _as_gml(spec.graph), **extra}
    for form, dag in forms.items():
        other = type(spec)(**{**body, "dag": dag})
        assert other.graph == spec.graph, form
        assert _plan(other) == _plan(spec), form


def test_the_same_dag_from_edges_dagitty_dot_and_gml():
    edges = DAG.from_edges(["u -> z", "z -> x", "z -> y", "x -> y", "x -> m", "m -> y"], latent=["u"])
    dagitty = DAG.from_dagitty("dag { u [latent] u -> z -> {x y} x -> m -> y x -> y }")
    dot = from_dot('digraph { u [latent=true]; u -> z -> {x y}; x -> m -> y; x -> y }')
    gml = from_gml('graph [ directed 1 node [ id 0 label "u" latent 1 ] node [ id 1 label "z" ] node [ id 2 label "x" ] '
                   'node [ id 3 label "y" ] node [ id 4 label "m" ] edge [ source 0 target 1 ] edge [ source 1 target '
                   '2 ] edge [ source 1 target 3 ] edge [ source 2 target 4 ] edge [ source 4 target 3 ] '
                   'edge [ source 2 target 3 ] ]')
    assert type(dot) is type(gml) is DAG
    assert edges == dagitty == dot == gml
    plans = [_plan(cs.Spec(name="t", treatment="x", outcome="y", dag=d)) for d in (
        {"edges": ["u -> z", "z -> x", "z -> y", "x -> y", "x -> m", "m -> y"], "latent": ["u"]},
        "dag { u [latent] u -> z -> {x y} x -> m -> y x -> y }",
        {"dot": "digraph { u -> z -> {x y}; x -> m -> y; x -> y }", "latent": ["u"]},
        {"gml": 'graph [ directed 1 node [ id 0 label "u" latent 1 ] node [ id 1 label "z" ] node [ id 2 label "x" ] '
                'node [ id 3 label "y" ] node [ id 4 label "m" ] edge [ source 0 target 1 ] edge [ source 1 target 2 '
                '] edge [ source 1 target 3 ] edge [ source 2 target 4 ] edge [ source 4 target 3 ] edge [ source 2 '
                'target 3 ] ]'})]
    assert plans[0]["adjustment_set"] == ["z"]
    assert all(p == plans[0] for p in plans)


def test_dot_dir_both_is_dagittys_bidirected_edge_and_dir_back_reverses():
    assert from_dot("digraph { a -> b [dir=both]; c -> d [dir=back] }") == DAG.from_edges(["a <-> b", "d -> c"])


def test_dot_reads_comments_ports_concatenation_escapes_and_ignores_other_attributes():
    text = '''# a preprocessor line
    digraph "g" {
      graph [label="x -> y"]; // a comment with -> in it
      /* a block
         comment */
      "a \\"b\\"" [label=<<b>a</b> <i>b</i>>, latent=false, pos="1,2!"]
      "a \\"b\\"":n -> "c" + "d":s:w [color=red, label="\\"]"]
      -1 -> .5
    }'''
    dag = from_dot(text)
    assert dag.edges == (("-1", "->", ".5"), ('a "b"', "->", "cd"))
    assert dag.latent == frozenset() and dict(dag.positions) == {'a "b"': "1,2"}


@pytest.mark.parametrize("text, line, match", [
    ("digraph {\n  a -> b\n  b -- c\n}", 3, "'--' is an undirected edge"),
    ("graph { a -- b }", 1, "an undirected graph cannot be a DAG"),
    ("digraph {\n a -> b\n c <- d }", 3, "DOT has no '<-'"),
    ("digraph { a <-> b }", 1, r"a -> b \[dir=both\]"),
    ("digraph { a --> b }", 1, "'-->' is not an arrow"),
    ("digraph { a => b }", 1, "'=>' is not an arrow"),
    ("digraph { a → b }", 1, r"U\+2192"),
    ("digraph { 2x -> b }", 1, "starts with a digit"),
    ("digraph { 1.5.3 -> b }", 1, "starts with a digit"),
    ("digraph {\n a -> b [dir=none] }", 2, "dir=none is an undirected edge"),
    ("digraph { a -> b [dir=sideways] }", 1, "is not a direction"),
    ("digraph { node [latent=true]; a -> b }", 1, "would set latent for every later node"),
    ("digraph { edge [dir=both]; a -> b }", 1, "would set dir for every later edge"),
    ("digraph { a [latent] }", 1, "has no value"),
    ("digraph { a [latent=maybe] }", 1, "takes true or false"),
    ("digraph { a -> b [latent=true] }", 1, "latent is a node's attribute"),
    ("digraph { {a b} [latent=true] }", 1, "apply to nothing"),
    ("digraph { a [shape=box] -> b }", 1, "attributes come after the whole edge statement"),
    ("digraph {\n a -> b\n b -> a }", 3, "two-node cycle"),
    ("digraph {\n\n a -> a }", 3, "self edge"),
    ("digraph { a -> b } digraph { }", 1, "holds one graph"),
    ("digraph {\n a -> b\n", 2, "expected '}'"),
    ('digraph {\n "a -> b }', 2, "never closed"),
    ("digraph { /* a -> b }", 1, "comment is never closed"),
    ("dag { a -> b }", 1, "starts with 'digraph'"),
    ("digraph { node -> b }", 1, "is a DOT keyword"),
    ("digraph { subgraph s; a -> b }", 1, "needs its { } body"),
    ("digraph { a -> <b> }", 1, "a stray '<'"),
    ("digraph { a; b [label=<<x> ] }", 1, "HTML-like value <...> is never closed"),
    ("digraph { a -> b [label=<x>]; c [shape=box]; <y> }", 1, "a stray '<'"),
    ('digraph {\n "x\u202e" -> y }', 2, "RIGHT-TO-LEFT OVERRIDE"),
    ("digraph { a -> b; c ! d }", 1, "unexpected character '!'"),
])
def test_malformed_dot_is_a_graph_error_at_its_line(text, line, match):
    with pytest.raises(GraphError, match=match) as info:
        from_dot(text, loc="dag.dot")
    (problem,) = info.value.problems
    assert problem.loc == f"dag.dot line {line}" and problem.fix


@pytest.mark.parametrize("text, line, match", [
    ("graph [ node [ id 0 label \"a\" ] ]", 1, "undirected"),
    ("graph [ directed 0 ]", 1, "undirected"),
    ("graph [ directed 1 ]\ngraph [ directed 1 ]", 2, "exactly one graph"),
    ("Creator \"x\"", 1, "exactly one graph"),
    ("graph [ directed 1\n node [ id 0 label \"a\" ]\n node [ id 0 label \"b\" ] ]", 3, "two nodes have the id 0"),
    ("graph [ directed 1\n node [ id 0 label \"a\" ]\n node [ id 1 label \"a\" ] ]", 3, "two nodes are labelled 'a'"),
    ("graph [ directed 1\n node [ label \"a\" ] ]", 2, "has no id"),
    ("graph [ directed 1\n node [ id 0 ]\n edge [ source 0 target 9 ] ]", 3, "target 9 is not the id of a node"),
    ("graph [ directed 1\n node [ id 0 ]\n edge [ target 0 ] ]", 3, "has no source"),
    ("graph [ directed 1\n node [ id 0 label \"a\" latent 2 ] ]", 2, "takes true or false"),
    ("graph [ directed 1\n node [ id 0 label \"a ] ]", 2, "never closed"),
    ("graph [ directed 1\n node [ id ] ]", 2, "has no value"),
    ("graph [\n directed 1\n", 1, "never closed"),
    ("graph [ directed 1 ] ]", 1, "closes no list"),
    ("graph [ directed 1 % ]", 1, "unexpected character"),
    ("graph [ directed 1\n node 5 ]", 2, "a node is a list"),
    ("graph [ directed 1\n node [ id 0 label \"a\" ] node [ id 1 label \"b\" ]\n edge [ source 0 target 1 ]\n"
     " edge [ source 1 target 0 ] ]", 4, "two-node cycle"),
])
def test_malformed_gml_is_a_graph_error_at_its_line(text, line, match):
    with pytest.raises(GraphError, match=match) as info:
        from_gml(text, loc="dag.gml")
    (problem,) = info.value.problems
    assert problem.loc == f"dag.gml line {line}" and problem.fix


def test_a_dot_error_in_a_spec_file_names_the_field_and_the_line_in_the_text(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: t\ntreatment: x\noutcome: y\ndag:\n  dot: |\n    digraph {\n      x -> y\n      z --> x\n"
                    "    }\n")
    with pytest.raises(SpecError) as info:
        cs.load(path)
    (problem,) = info.value.problems
    assert problem.loc == "dag.dot line 3" and problem.file == str(path)
    assert "Write 'z -> x" in problem.fix


def test_a_spec_gives_the_graph_in_one_form_and_dumps_only_that_form():
    with pytest.raises(SpecError, match="given twice, as edges and dot") as info:
        cs.Spec(name="t", treatment="x", outcome="y", dag={"edges": ["x -> y"], "dot": "digraph { x -> y }"})
    assert [(p.loc, p.code) for p in info.value.problems] == [("dag.dot", "dag_form")]
    with pytest.raises(SpecError) as info:
        cs.Spec(name="t", treatment="x", outcome="y", dag={"latent": ["u"]})
    assert [(p.loc, p.code) for p in info.value.problems] == [("dag.edges", "missing")]
    spec = cs.Spec(name="t", treatment="x", outcome="y", dag={"gml": _as_gml(DAG.from_edges(["x -> y"]))})
    text = cs.dumps(spec)
    assert "gml:" in text and "edges:" not in text and "dot:" not in text
    assert cs.loads(text) == spec
    old = cs.dumps(cs.load(ROOT / "specs" / "feature_adoption.yaml"))
    assert "edges:" in old and "dot:" not in old and "gml:" not in old  # edge-list specs dump as they always did


@pytest.mark.parametrize("keyword, fmt", [("digraph { x -> y }", "dot"), ("strict digraph { x -> y }", "dot"),
                                          ("graph [ directed 1 ]", "gml")])
def test_dot_or_gml_in_a_dagitty_string_is_refused_with_the_form_to_write(keyword, fmt):
    with pytest.raises(SpecError, match=rf"write it as dag: {{{fmt}: ") as info:
        cs.Spec(name="t", treatment="x", outcome="y", dag=keyword)
    assert info.value.problems[0].loc == "dag line 1"


# ------------------------------------------------------------------ hostile text
def test_text_over_the_size_limit_is_refused_before_it_is_parsed():
    for parse in (from_dot, from_gml):
        with pytest.raises(GraphError, match="causalspec reads at most"):
            parse(" " * (MAX_GRAPH_CHARS + 1))


def test_deep_nesting_is_a_located_error_not_a_recursion_error():
    with pytest.raises(GraphError, match="nested more than 64 deep"):
        from_dot("digraph " + "{" * 100_000 + "a" + "}" * 100_000)
    with pytest.raises(GraphError, match="nested more than 64 deep"):
        from_gml("graph [ directed 1 " + "x [ " * 100_000 + "]" * 100_000 + " ]")


def test_groups_that_multiply_into_too_many_edges_are_refused():
    left = " ".join(f"a{i}" for i in range(400))
    right = " ".join(f"b{i}" for i in range(400))
    with pytest.raises(GraphError, match="more than 100,000 edges"):
        from_dot(f"digraph {{ {{{left}}} -> {{{right}}} }}")


def test_quotes_escapes_and_code_in_names_are_names_and_nothing_runs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a graph parser tried to execute something")

    for name in ("eval", "exec"):
        monkeypatch.setattr(builtins, name, refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)  # Graphviz (pydot, pygraphviz) is never run
    monkeypatch.setattr(os, "system", refuse)
    code = "__import__('os').system('touch /tmp/pwned')"
    dot = from_dot('digraph { "' + code + '" -> y [label="\\"]; x -> evil", tooltip=<<i>x</i>>] }')
    gml = from_gml('graph [ directed 1 node [ id 0 label "' + code + '" ] node [ id 1 label "y&quot;&amp;" ] '
                   'edge [ source 0 target 1 ] ]')
    assert dot.edges == ((code, "->", "y"),)
    assert gml.edges == ((code, "->", 'y"&'),)


def test_the_spec_and_graph_parsers_load_without_numpy_or_pandas():
    script = ("import sys, types\n"
              "pkg = types.ModuleType('causalspec'); pkg.__path__ = [sys.argv[1]]; sys.modules['causalspec'] = pkg\n"
              "sys.modules['numpy'] = sys.modules['pandas'] = None\n"
              "import causalspec.spec as s\n"
              "spec = s.Spec(name='t', treatment='x', outcome='y', dag={'dot': 'digraph { z -> {x y}; x -> y }'})\n"
              "print(sorted(spec.graph.parents('y')), s.json_schema()['$id'])\n")
    out = subprocess.run([sys.executable, "-c", script, str(ROOT / "causalspec")], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["['x',", "'z']", "https://causalspec.org/schema/spec-v1.json"]

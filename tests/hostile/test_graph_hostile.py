"""Hostile graphs (issue #19): malformed arrows, names that display as something else, deep nesting,
and DAGs whose adjustment sets cannot all be listed.  Each is a located CausalSpecError."""

from __future__ import annotations

import inspect
import json
import random
import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import causalspec as cs
from causalspec import cli
from causalspec.errors import CausalSpecError, GraphError, SpecError, UnsupportedError
from causalspec.graph import DAG, adjustment_sets, front_door_sets, is_adjustment_set
from causalspec.graph import _adjustment, _dagitty, _separation


def only_problem(info):
    (problem,) = info.value.problems
    return problem


# ------------------------------------------------------------------ malformed arrows
@pytest.mark.parametrize("edge, what, fixed", [
    ("z --> w", "'-->' is not an arrow", "Write 'z -> w'"),
    ("z <-- w", "'<--' is not an arrow", "Write 'z <- w'"),
    ("z <--> w", "'<-->' is not an arrow", "Write 'z <-> w'"),
    ("z ---> w", "'--->' is not an arrow", "Write 'z -> w'"),
    ("z => w", "'=>' is not an arrow", "Write 'z -> w'"),
    ("z → w", r"'→' \(U\+2192\) is not an arrow", "Write 'z -> w'"),
    ("z ⟵ w", r"U\+27F5", "Write 'z <- w'"),
    ("z ->> w", "a stray '>'", "Remove it"),
    ("z - -> w", "a stray '-'", "Remove it"),
    ("z > w", "a stray '>'", "Remove it"),
    ("z -- w", "'--' is an undirected edge", "Use -> for a cause or <->"),
])
def test_malformed_arrow_is_refused_with_the_edge_index_and_a_fix(edge, what, fixed):
    with pytest.raises(GraphError, match=what) as info:
        DAG.from_edges(["x -> y", edge])
    problem = only_problem(info)
    assert problem.loc == "dag.edges[1]"
    assert fixed in problem.fix


def test_arrow_dash_never_becomes_part_of_a_node_name():
    # the bug: 'z --> w' made a node named 'z -'
    with pytest.raises(GraphError):
        DAG.from_edges(["z --> w"])


def test_hyphens_inside_names_and_quoted_arrows_stay_allowed():
    g = DAG.from_edges(["age-group -> y", '"a --> b" -> y', "x <- z -> y", "x -> y"])
    assert g.nodes == ("a --> b", "age-group", "x", "y", "z")


@pytest.mark.parametrize("text, line, what", [
    ("dag {\n x -> y\n z --> w\n}", 3, "'-->' is not an arrow"),
    ("dag { a ->> b }", 1, "stray '>'"),
    ("dag { a>b -> c }", 1, "stray '>' in 'a>b'"),
    ("dag { a => b }", 1, "'=>' is not an arrow"),
    ("dag {\n\n a → b }", 3, r"U\+2192"),
])
def test_malformed_dagitty_arrow_names_the_line(text, line, what):
    with pytest.raises(GraphError, match=what) as info:
        DAG.from_dagitty(text)
    assert only_problem(info).loc == f"dag line {line}"


_UNQUOTED = st.text(alphabet="ab -<>=", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_UNQUOTED, min_size=1, max_size=3))
def test_unquoted_edges_never_make_names_with_arrow_characters(edges):
    try:
        g = DAG.from_edges(edges)
    except GraphError as err:
        assert all(p.loc.startswith("dag.edges") and p.fix for p in err.problems)
        return
    for name in g.nodes:
        assert "<" not in name and ">" not in name
        assert not name.startswith(("-", "=")) and not name.endswith(("-", "="))


# ------------------------------------------------------------------ names that display as something else
@pytest.mark.parametrize("name, point", [
    ("x\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("x\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
    ("\u2066x", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("x\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
    ("x\u200by", "U+200B ZERO WIDTH SPACE"),
    ("x\u200c", "U+200C ZERO WIDTH NON-JOINER"),
    ("x\u200d", "U+200D ZERO WIDTH JOINER"),
    ("\ufeffx", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("x\u2060", "U+2060 WORD JOINER"),
    ("x\x1b[2J", "U+001B"),
    ("x\x07", "U+0007"),
    ("x\x9b", "U+009B"),
    ("x\u00a0y", "U+00A0 NO-BREAK SPACE"),
    ("tre\u0430tment", "U+0430 CYRILLIC SMALL LETTER A"),
    ("c\u043enfounder", "U+043E CYRILLIC SMALL LETTER O"),
    ("inc\u03bfme", "U+03BF GREEK SMALL LETTER OMICRON"),
    ("\u0434o\u0445\u043e\u0434", "U+006F LATIN SMALL LETTER O"),  # one Latin 'o' in a Cyrillic word
    ("\uff58", "U+FF58 FULLWIDTH LATIN SMALL LETTER X"),
    ("cafe\u0301", "U+0301 COMBINING ACUTE ACCENT"),
])
def test_deceptive_node_name_is_refused_naming_the_code_point(name, point):
    with pytest.raises(GraphError) as info:
        DAG.from_edges(["x -> y", f'"{name}" -> y'])
    problem = only_problem(info)
    assert problem.loc == "dag.edges[1]"
    assert point in problem.message
    assert problem.fix


def test_one_confounder_spelt_two_ways_is_refused_with_the_latin_spelling():
    with pytest.raises(GraphError, match="U\\+0430 CYRILLIC SMALL LETTER A among LATIN letters") as info:
        DAG.from_edges(["age -> x", "\u0430ge -> y", "x -> y"])
    problem = only_problem(info)
    assert problem.loc == "dag.edges[1]" and "Write 'age'" in problem.fix


@pytest.mark.parametrize("edges", [
    ["θεραπεία -> αποτέλεσμα"],            # all Greek
    ["лечение -> исход", "возраст -> исход"],  # all Cyrillic
    ["治療 -> 結果です", "年齢 -> 結果です"],   # Japanese: Han, Hiragana
    ["café -> revenu", "âge_2 -> revenu"],  # Latin with composed accents, digits, underscore
    ["x1 -> y.total", "x1 -> y"],
])
def test_names_in_one_script_stay_allowed(edges):
    assert DAG.from_edges(edges).nodes


def test_deceptive_names_in_nodes_and_latent_lists_are_refused():
    with pytest.raises(GraphError) as info:
        DAG.from_edges(["x -> y"], nodes=["ok", "lone\u200b"])
    assert only_problem(info).loc == "dag.nodes[1]"


def test_deceptive_dagitty_name_names_the_line():
    with pytest.raises(GraphError, match="U\\+202E RIGHT-TO-LEFT OVERRIDE") as info:
        DAG.from_dagitty('dag {\n x -> y\n "y\u202e" -> x\n}')
    assert only_problem(info).loc == "dag line 3"


_NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(_NAME)
def test_any_accepted_name_is_visible_normalised_and_in_one_script(name):
    try:
        g = DAG.from_edges(["x -> y"], nodes=[name])
    except GraphError as err:
        assert all(p.fix for p in err.problems)
        return
    for node in g.nodes:
        assert unicodedata.normalize("NFKC", node) == node
        assert not any(unicodedata.category(c)[0] == "C" for c in node)
        scripts = {unicodedata.name(c, "?").split()[0] for c in node
                   if unicodedata.category(c).startswith("L") and unicodedata.category(c) != "Lm"}
        assert len(scripts - {"HIRAGANA", "KATAKANA", "CJK", "HANGUL", "KATAKANA-HIRAGANA"}) <= 1


def test_homoglyph_in_a_spec_is_located_in_the_file():
    text = 'name: h\ndag:\n  edges: ["age -> x", "\u0430ge -> y", "x -> y"]\ntreatment: x\noutcome: y\n'
    with pytest.raises(SpecError, match="U\\+0430 CYRILLIC SMALL LETTER A") as info:
        cs.loads(text, "yaml", source="h.yaml")
    problem = only_problem(info)
    assert (problem.file, problem.line, problem.loc) == ("h.yaml", 3, "dag.edges[1]")


# ------------------------------------------------------------------ deep nesting and blow-ups in dagitty
def test_thousands_of_nested_dagitty_groups_are_a_located_error_not_recursion():
    text = "dag { a -> " + "{ b -> " * 5_000 + "c" + " }" * 5_000 + " }"
    with pytest.raises(GraphError, match=f"nested more than {_dagitty.MAX_GROUP_DEPTH} deep") as info:
        DAG.from_dagitty(text)
    assert only_problem(info).loc == "dag line 1"


def test_moderately_nested_dagitty_groups_still_parse():
    text = "dag { a -> " + "".join(f"{{ b{i} -> " for i in range(10)) + "c" + " }" * 10 + " }"
    dag = DAG.from_dagitty(text)
    # a group stands for every node mentioned in it, as in dagitty
    assert dag.children("a") == tuple(sorted([f"b{i}" for i in range(10)] + ["c"]))
    assert dag.children("b9") == ("c",)


def test_dagitty_group_cross_product_is_bounded():
    left = " ".join(f"a{i}" for i in range(400))
    right = " ".join(f"b{i}" for i in range(400))
    with pytest.raises(GraphError, match="more than 100,000 edges"):
        DAG.from_dagitty(f"dag {{ {{{left}}} -> {{{right}}} }}")


# ------------------------------------------------------------------ adjustment sets: count and time budgets
def parallel_backdoors(k: int) -> DAG:
    """x <- a_i -> b_i -> y for i < k: each path is blocked by a_i or b_i, so there are 2^k minimal sets."""
    return DAG.from_edges(["x -> y"] + [f"a{i} -> x" for i in range(k)] + [f"a{i} -> b{i}" for i in range(k)]
                          + [f"b{i} -> y" for i in range(k)])


def test_millions_of_minimal_sets_stop_at_the_cap_with_a_fix():
    with pytest.raises(UnsupportedError, match=r"more than 10,000 minimal adjustment sets") as info:
        adjustment_sets(parallel_backdoors(20), "x", "y")  # 2^20 sets
    problem = only_problem(info)
    assert problem.code == "too_many_adjustment_sets" and problem.loc == "dag"
    assert "'adjustment:'" in problem.fix
    assert _adjustment.MAX_ADJUSTMENT_SETS == 10_000


def test_the_cap_is_exact():
    dag = parallel_backdoors(5)
    sets = adjustment_sets(dag, "x", "y", max_sets=32)
    assert len(sets) == 32 and all(is_adjustment_set(dag, "x", "y", s) for s in sets)
    with pytest.raises(UnsupportedError, match="more than 31 minimal"):
        adjustment_sets(dag, "x", "y", max_sets=31)


def test_direct_effect_listing_is_capped_too():
    with pytest.raises(UnsupportedError, match="direct effect"):
        adjustment_sets(parallel_backdoors(12), "x", "y", effect="direct", max_sets=100)


def _random_dag(n: int, parents: int, seed: int) -> DAG:
    rng = random.Random(seed)
    return DAG.from_edges([f"v{p} -> v{i}" for i in range(1, n) for p in rng.sample(range(i), min(i, parents))]
                          + [f"v{n // 2} -> v{n - 1}"])


def test_a_sparse_1000_node_dag_is_planned_completely():
    dag = _random_dag(1_000, 1, seed=0)
    sets = adjustment_sets(dag, "v500", "v999")
    assert sets and all(is_adjustment_set(dag, "v500", "v999", s) for s in sets)


def test_a_dense_1000_node_dag_honours_the_count_budget():
    with pytest.raises(UnsupportedError, match="more than 20 minimal adjustment sets"):
        adjustment_sets(_random_dag(1_000, 3, seed=0), "v500", "v999", max_sets=20)


def test_a_long_backdoor_path_needs_no_deep_recursion(monkeypatch):
    # Takata's listing goes one level deeper per vertex of the path; it must not use the Python stack
    n = 400
    dag = DAG.from_edges(["x -> y", "c1 -> x"] + [f"c{i + 1} -> c{i}" for i in range(1, n)] + [f"c{n} -> y"])
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 150)
    try:
        sets = adjustment_sets(dag, "x", "y")
    finally:
        sys.setrecursionlimit(limit)
    assert sets == sorted((f"c{i}",) for i in range(1, n + 1))


def test_the_time_budget_stops_the_listing(monkeypatch):
    # a fake clock that moves one second per reading: no real timing involved
    ticks = iter(range(10**9))
    monkeypatch.setattr(_separation.time, "monotonic", lambda: float(next(ticks)))
    monkeypatch.setattr(_adjustment.time, "monotonic", lambda: float(next(ticks)))
    with pytest.raises(UnsupportedError, match="took more than 3 seconds") as info:
        adjustment_sets(parallel_backdoors(14), "x", "y", time_budget=3)
    assert only_problem(info).code == "adjustment_time_budget"


def test_front_door_search_is_bounded():
    dag = DAG.from_edges(["x <-> y"] + [f"x -> m{i}" for i in range(200)] + [f"m{i} -> y" for i in range(200)])
    with pytest.raises(UnsupportedError, match="front-door search would test"):
        front_door_sets(dag, "x", "y")
    assert front_door_sets(dag, "x", "y", max_size=1) == []


def test_front_door_ignores_descendants_off_the_causal_paths():
    # 300 descendants of x that do not lead to y are not candidates, so the search stays small
    dag = DAG.from_edges(["x -> m", "m -> y", "x <-> y"] + [f"x -> d{i}" for i in range(300)])
    assert front_door_sets(dag, "x", "y") == [("m",)]


# ------------------------------------------------------------------ through the planner and the CLI
def _many_sets_spec(adjustment: str = "") -> str:
    k = 20
    edges = ["x -> y"] + [f"a{i} -> x" for i in range(k)] + [f"a{i} -> b{i}" for i in range(k)] \
        + [f"b{i} -> y" for i in range(k)]
    return "name: many\ndag:\n  edges: " + json.dumps(edges) + "\ntreatment: x\noutcome: y\n" + adjustment


def test_planning_a_dag_with_millions_of_sets_is_a_located_error():
    spec = cs.loads(_many_sets_spec(), "yaml", source="many.yaml")
    with pytest.raises(UnsupportedError, match="more than 10,000") as info:
        cs.plan(spec)
    problem = only_problem(info)
    assert problem.file == "many.yaml" and problem.code == "too_many_adjustment_sets"


def test_an_explicit_adjustment_list_plans_without_listing_every_set():
    spec = cs.loads(_many_sets_spec("adjustment: [" + ", ".join(f"a{i}" for i in range(20)) + "]\n"), "yaml")
    assert cs.plan(spec).adjustment_set == tuple(sorted(f"a{i}" for i in range(20)))


def test_cli_prints_graph_errors_without_traceback_and_exits_1(tmp_path, capsys):
    spec = tmp_path / "bad.yaml"
    spec.write_text('name: h\ndag:\n  edges: ["z --> w", "w -> y", "z -> y"]\ntreatment: z\noutcome: y\n')
    many = tmp_path / "many.yaml"
    many.write_text(_many_sets_spec())
    code = cli.main(["validate", "--no-data", str(spec), str(many)])
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.out + out.err
    assert "'-->' is not an arrow" in out.out and "too_many_adjustment_sets" in out.out


def test_every_hostile_graph_error_is_a_causalspec_error():
    for build in (lambda: DAG.from_edges(["a --> b"]), lambda: DAG.from_dagitty("dag {" + "{" * 3000),
                  lambda: DAG.from_edges(["a\u202e -> b"])):
        with pytest.raises(CausalSpecError):
            build()

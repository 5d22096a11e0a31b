"""A parser for GML graphs (``graph [ directed 1 node [ id 0 label "a" ] edge [ source 0 target 1 ] ]``).

GML is keys and values: a number, a ``"string"`` (no escapes; ``&quot;``-style entities are decoded, as
networkx writes them) or a ``[ ... ]`` list of more keys and values.  The text is read by one loop with an
explicit stack, so nesting is bounded without recursion (networkx's reader recurses once per level and has no
line numbers in its errors), and nothing in it is evaluated.  A node's name is its ``label`` (its ``id`` when it
has none); ``latent 1`` marks an unmeasured node; edges join node ids.  A graph without ``directed 1`` is
undirected in GML and is refused.
"""

from __future__ import annotations

import html
import re

from causalspec.errors import GraphError, Problem
from causalspec.graph._dag import DAG, from_parsed
from causalspec.graph._dagitty import MAX_DAGITTY_EDGES, MAX_GROUP_DEPTH
from causalspec.graph._dot import GraphSyntax, check_graph_text, read_bool
from causalspec.graph._names import name_problem

__all__ = ["from_gml"]

_TOKEN = re.compile(r'(?P<space>[ \t\r\f\v]+)|(?P<newline>\n)|(?P<comment>#[^\n]*)|(?P<open>\[)|(?P<close>\])'
                    r'|(?P<key>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)'
                    r'|(?P<str>"[^"]*")')
_MAX_NUMBER = 100  # digits: an id or a flag, never a 5,000-digit integer (int() would refuse it)

def _parse(text: str) -> list:
    """The text as nested lists of (key, value, line)."""
    root: list = []
    stack: list[tuple[list, int]] = [(root, 0)]
    key: tuple[str, int] | None = None
    i, line = 0, 1
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None and text[i] == '"':
            raise GraphSyntax(line, "a double quote is never closed.", 'Close the string with ".')
        if m is None:
            raise GraphSyntax(line, f"unexpected character {text[i]!r}.",
                              'GML holds keys, numbers, "strings" and [ ] lists.')
        kind, value = m.lastgroup, m.group()
        i = m.end()
        if kind == "newline":
            line += 1
        elif kind in ("space", "comment"):
            continue
        elif key is None:
            if kind == "close":
                if len(stack) == 1:
                    raise GraphSyntax(line, "a ']' closes no list.", "Check the brackets.")
                stack.pop()
            elif kind != "key":
                raise GraphSyntax(line, f"expected a key but found {value[:40]!r}.", "Write key value pairs.")
            else:
                key = (value, line)
        elif kind == "open":
            if len(stack) > MAX_GROUP_DEPTH:
                raise GraphSyntax(line, f"lists [ ] are nested more than {MAX_GROUP_DEPTH} deep.",
                                  "A GML graph is three levels deep: graph [ node [ ... ] ].")
            inner: list = []
            stack[-1][0].append((key[0], inner, key[1]))
            stack.append((inner, line))
            key = None
        elif kind in ("num", "str"):
            if kind == "num" and len(value) > _MAX_NUMBER:
                raise GraphSyntax(line, f"a number of {len(value):,} characters.", "Check the GML text.")
            scalar = html.unescape(value[1:-1]) if kind == "str" else \
                int(value) if re.fullmatch(r"[+-]?\d+", value) else float(value)
            stack[-1][0].append((key[0], scalar, key[1]))
            line += value.count("\n")
            key = None
        else:
            raise GraphSyntax(key[1], f"the key {key[0]!r} has no value (found {value!r}).",
                              'Give it a number, a "string" or a [ ] list.')
    if key is not None:
        raise GraphSyntax(key[1], f"the key {key[0]!r} has no value.", 'Give it a number, a "string" or a [ ] list.')
    if len(stack) > 1:
        raise GraphSyntax(stack[-1][1], "a '[' opened here is never closed.", "Close the list with ].")
    return root


def _first(entries: list, key: str, default=None):
    return next((v for k, v, _ in entries if k == key), default)


def _graph(root: list) -> tuple[list, int]:
    graphs = [(v, line) for k, v, line in root if k == "graph"]
    if len(graphs) != 1 or not isinstance(graphs[0][0], list):
        raise GraphSyntax(graphs[1][1] if len(graphs) > 1 else graphs[0][1] if graphs else 1,
                          "a GML text holds exactly one graph [ ... ].", "Write graph [ directed 1 node [ ... ] ].")
    body, line = graphs[0]
    directed = _first(body, "directed")
    if directed != 1:
        raise GraphSyntax(line, "the graph is undirected (GML graphs are, unless they say 'directed 1'); a DAG's "
                                "edges have a direction.", "Add directed 1 to the graph [ ... ].")
    return body, line


def _nodes(body: list) -> tuple[dict, dict[str, int], set[str]]:
    """(id -> name, name -> line, latent names)."""
    names: dict = {}
    lines: dict[str, int] = {}
    latent: set[str] = set()
    for key, value, line in body:
        if key != "node":
            continue
        if not isinstance(value, list):
            raise GraphSyntax(line, "a node is a list: node [ id 0 label \"a\" ].", "Write node [ id 0 label \"a\" ].")
        ident = _first(value, "id")
        if ident is None or isinstance(ident, list):
            raise GraphSyntax(line, "this node has no id.", "Give every node an id: node [ id 0 label \"a\" ].")
        if ident in names:
            raise GraphSyntax(line, f"two nodes have the id {ident!r}.", "Give every node its own id.")
        name = _first(value, "label", ident)
        name = name if isinstance(name, str) else str(name) if not isinstance(name, list) else ""
        if name in lines:
            raise GraphSyntax(line, f"two nodes are labelled {name!r} (first at line {lines[name]}).",
                              "Give every node its own label: the label is the node's name.")
        bad = name_problem(name) if name else ("a node's label is empty or a list.", "Label it with a name.")
        if bad:
            raise GraphSyntax(line, *bad)
        if read_bool(_first(value, "latent", 0), line, "latent", "Write latent 1 (or 0)."):
            latent.add(name)
        names[ident], lines[name] = name, line
    return names, lines, latent


def _edges(body: list, names: dict) -> dict[tuple[str, str, str], int]:
    edges: dict[tuple[str, str, str], int] = {}
    for key, value, line in body:
        if key != "edge":
            continue
        if not isinstance(value, list):
            raise GraphSyntax(line, "an edge is a list: edge [ source 0 target 1 ].", "Write edge [ source 0 target 1 ].")
        ends = []
        for end in ("source", "target"):
            ident = _first(value, end)
            if ident is None or isinstance(ident, list):
                raise GraphSyntax(line, f"this edge has no {end}.", "Write edge [ source 0 target 1 ].")
            if ident not in names:
                raise GraphSyntax(line, f"the edge's {end} {ident!r} is not the id of a node.",
                                  "Add the node, or fix the id.")
            ends.append(names[ident])
        edges.setdefault((ends[0], "->", ends[1]), line)
        if len(edges) > MAX_DAGITTY_EDGES:
            raise GraphSyntax(line, f"the graph has more than {MAX_DAGITTY_EDGES:,} edges.", "Check the GML text.")
    return edges


def from_gml(text: str, *, latent=(), nodes=(), adjusted=(), loc: str = "dag") -> DAG:
    """Parse GML text into a :class:`DAG` (the same type ``DAG.from_edges`` returns).

    ``latent``, ``nodes`` and ``adjusted`` add to what the text says.  Errors are
    :class:`~causalspec.errors.GraphError` located at ``{loc} line N``.

    Examples
    --------
    >>> g = from_gml('graph [ directed 1 node [ id 0 label "z" ] node [ id 1 label "x" ] '
    ...              'node [ id 2 label "y" ] edge [ source 0 target 1 ] edge [ source 0 target 2 ] '
    ...              'edge [ source 1 target 2 ] ]')
    >>> g.parents("y")
    ('x', 'z')
    """
    check_graph_text(text, loc, "GML", "graph [ directed 1 ... ]")
    try:
        body, _ = _graph(_parse(text))
        names, lines, marked = _nodes(body)
        edges = _edges(body, names)
    except GraphSyntax as err:
        raise GraphError(Problem(f"{loc} line {err.line}", err.message, fix=err.fix)) from None
    given = tuple(nodes)
    return from_parsed(tuple(edges), tuple(edges.values()), where=loc, nodes=given + tuple(lines),
                       node_lines=(None,) * len(given) + tuple(lines.values()), latent=marked | set(latent),
                       adjusted=adjusted)

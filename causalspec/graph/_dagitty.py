"""A parser for dagitty's graph syntax (``dag { x [exposure] ; x -> {a b} ; a <-> b }``).

It tokenises the text into edges and attributes (``DAG.from_dagitty`` builds the graph); nothing in the text
is ever evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from causalspec.errors import GraphError, Problem

from causalspec.graph._names import arrow_problem, arrow_run, name_problem, unicode_arrow

__all__ = ["read_dagitty", "DagittyText", "relocate", "MAX_GROUP_DEPTH", "MAX_DAGITTY_EDGES"]

_OPS = ("<->", "->", "<-", "--")
#: Deepest nesting of { } groups: the parser recurses once per level, so bound it far below Python's stack.
MAX_GROUP_DEPTH = 64
#: Most edges a dagitty text may make: {a1 ... a1000} -> {b1 ... b1000} is a million edges from 12 kB.
MAX_DAGITTY_EDGES = 100_000


@dataclass(frozen=True)
class DagittyText:
    """What dagitty text says: edges as (a, op, b) with the line of each, and the node attributes."""

    edges: tuple[tuple[str, str, str], ...]
    lines: tuple[int, ...]
    latent: frozenset[str]
    nodes: tuple[str, ...]
    exposures: frozenset[str]
    outcomes: frozenset[str]
    positions: tuple[tuple[str, str], ...]
    adjusted: frozenset[str] = frozenset()
_PUNCT = "{}[];,="
_FLAGS = {"exposure", "outcome", "latent", "adjusted", "selected", "source", "target"}
# dagitty's one-letter forms (GraphParser.js): [e] exposure, [o] outcome, [a] adjusted, [u] / [l] unobserved,
# [s] selected
_SHORT = {"e": "exposure", "o": "outcome", "a": "adjusted", "u": "latent", "l": "latent", "s": "selected"}
_GRAPH_TYPES = {"dag", "pdag", "mag", "pag", "graph", "digraph"}
# text in another format is named, never guessed: the spec says which format it holds (docs/data-and-graphs.md)
_OTHER_FORMAT = {"dot": 'This is Graphviz DOT: write it as dag: {dot: "digraph { ... }"} in a spec, or read it '
                        "with causalspec.graph.from_dot.",
                 "gml": 'This is GML: write it as dag: {gml: "graph [ ... ]"} in a spec, or read it with '
                        "causalspec.graph.from_gml."}


def _other_format(keyword: str, following: str) -> str:
    if keyword == "digraph":
        return _OTHER_FORMAT["dot"]
    return _OTHER_FORMAT["gml"] if keyword == "graph" and following == "[" else "Write the graph as dag { ... }."


class _Syntax(Exception):
    def __init__(self, line: int, message: str, fix: str = ""):
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, line) with kind in name / str / op / punct."""
    out: list[tuple[str, str, int]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise _Syntax(line, "a double quote is never closed.", "Close the quoted name with \".")
            out.append(("str", "".join(buf), line))
            line += text.count("\n", i, j)
            i = j + 1
        elif _malformed_arrow(text, i):
            # a malformed arrow (-->, <--, =>, a stray < or >, →) is refused, never glued to a name
            run = _malformed_arrow(text, i)
            start = text.rfind("\n", 0, i) + 1
            end = text.find("\n", i)
            snippet = text[start:] if end < 0 else text[start:end]
            good = unicode_arrow(ch)
            if good:
                fixed = (snippet[: i - start] + good + snippet[i - start + 1:]).strip()
                raise _Syntax(line, f"{ch!r} (U+{ord(ch):04X}) is not an arrow causalspec reads.",
                              f"Write {fixed!r}; the arrows are ->, <- and <->.")
            indent = len(snippet) - len(snippet.lstrip())
            message, fix = arrow_problem(run, snippet.strip(), i - start - indent)
            raise _Syntax(line, message.split(" is not an edge: ", 1)[-1], fix)
        elif any(text.startswith(op, i) for op in _OPS):
            op = next(op for op in _OPS if text.startswith(op, i))
            out.append(("op", op, line))
            i += len(op)
        elif ch in _PUNCT:
            out.append(("punct", ch, line))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _PUNCT and text[j] != '"' \
                    and not any(text.startswith(op, j) for op in _OPS):
                j += 1
            out.append(("name", text[i:j], line))
            i = j
    return out


def _malformed_arrow(text: str, i: int) -> str | None:
    """The malformed arrow starting at ``text[i]`` (``-->``, ``=>``, a stray ``<``, ``→``), or None."""
    ch = text[i]
    if unicode_arrow(ch):
        return ch
    if ch not in "<>-=":
        return None
    run = arrow_run(text, i)
    if run is None:
        return ch if ch in "<>" else None
    return None if run in ("-", "=") or run in _OPS else run


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.nodes: list[str] = []
        self.seen: set[str] = set()
        self.edges: dict[tuple[str, str, str], int] = {}
        self.flags: dict[str, set[str]] = {f: set() for f in _FLAGS}
        self.positions: dict[str, str] = {}
        self.depth = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "", self.toks[-1][2] if self.toks else 1)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, value: str):
        t = self.take()
        if t[1] != value or t[0] not in ("punct", "op"):
            raise _Syntax(t[2], f"expected {value!r} but found {t[1] or 'the end of the text'!r}.",
                          "Check the braces and brackets of the graph.")

    def parse(self) -> None:
        t = self.peek()
        keyword = t[0] == "name" and t[1].lower() in _GRAPH_TYPES
        if keyword:
            self.take()
            if t[1].lower() != "dag":
                raise _Syntax(t[2], f"graph type {t[1]!r} is not supported; only 'dag' graphs are.",
                              _other_format(t[1].lower(), self.peek()[1]))
        elif t[:2] == ("name", "strict") and self.peek(1)[0] == "name" and \
                self.peek(1)[1].lower() in _GRAPH_TYPES:
            raise _Syntax(t[2], "'strict' starts a Graphviz DOT graph, not dagitty text.", _OTHER_FORMAT["dot"])
        elif t[0] == "name" and self.peek(1)[:2] == ("punct", "{"):
            raise _Syntax(t[2], f"unknown graph type {t[1]!r}.", "Write the graph as dag { ... }.")
        if keyword and self.peek()[1] == "{" and self.peek()[0] == "punct":
            self.take()
            self.statements(until="}")
            self.expect("}")
        else:  # dagitty's bare statement list: a leading { is a group ("{x[e]} <- a -> m"), as GraphParser reads it
            self.statements(until=None)
        t = self.peek()
        if t[0] != "eof":
            raise _Syntax(t[2], f"unexpected {t[1]!r} after the end of the graph.", "Remove the trailing text.")

    def statements(self, until: str | None) -> list[str]:
        """Parse statements up to ``until`` (not consumed); return the nodes mentioned."""
        mentioned: list[str] = []
        while True:
            t = self.peek()
            if t[0] == "eof" or (t[0] == "punct" and t[1] == until):
                return mentioned
            if t[0] == "punct" and t[1] in ";,":
                self.take()
                continue
            mentioned.extend(self.statement())

    def element(self) -> list[str]:
        t = self.take()
        if t[0] in ("name", "str"):
            if t[0] == "name" and not t[1]:
                raise _Syntax(t[2], "empty node name.")
            stray = next((c for c in t[1] if c in "<>"), None) or \
                next((c for c in (t[1][0], t[1][-1]) if c in "-="), None)  # "a - -> b": a '-' of no arrow
            if t[0] == "name" and stray:
                raise _Syntax(t[2], f"a stray {stray!r} in {t[1]!r} is not part of an arrow.",
                              "Remove it, or quote a name that contains it; the arrows are ->, <- and <->.")
            bad = name_problem(t[1])
            if bad:
                raise _Syntax(t[2], *bad)
            self.add_node(t[1])
            return [t[1]]
        if t[0] == "punct" and t[1] == "{":
            self.depth += 1
            try:
                if self.depth > MAX_GROUP_DEPTH:
                    raise _Syntax(t[2], f"groups {{ }} are nested more than {MAX_GROUP_DEPTH} deep.",
                                  "A DAG needs one level of { } at most: flatten the groups.")
                inner = self.statements(until="}")
                self.expect("}")
            finally:
                self.depth -= 1
            return inner
        raise _Syntax(t[2], f"expected a node name but found {t[1] or 'the end of the text'!r}.",
                      "Quote names that contain spaces or punctuation with double quotes.")

    def statement(self) -> list[str]:
        # a graph attribute such as bb="..." is skipped
        if self.peek()[0] == "name" and self.peek(1)[:2] == ("punct", "="):
            self.take(), self.take(), self.take()
            return []
        left = self.element()
        mentioned = list(left)
        chained = False
        while True:
            t = self.peek()
            if t[0] == "punct" and t[1] == "[":
                attrs = self.attributes()
                if not chained:
                    for v in left:
                        self.apply(v, attrs)
                continue
            if t[0] != "op":
                return mentioned
            self.take()
            if t[1] == "--":
                raise _Syntax(t[2], "undirected edges (--) are not allowed in a DAG.",
                              "Use -> for a cause or <-> for an unobserved common cause.")
            right = self.element()
            for a in left:
                for b in right:
                    if a == b:
                        raise _Syntax(t[2], f"self edge {a} {t[1]} {b}.", "Remove the edge.")
                    if t[1] == "->":
                        key = (a, "->", b)
                    elif t[1] == "<-":
                        key = (b, "->", a)
                    else:
                        key = (min(a, b), "<->", max(a, b))
                    self.edges.setdefault(key, t[2])
                    if len(self.edges) > MAX_DAGITTY_EDGES:
                        raise _Syntax(t[2], f"the graph has more than {MAX_DAGITTY_EDGES:,} edges.",
                                      "Check the groups { } on this line: each node of one is joined to each of "
                                      "the other.")
            mentioned.extend(right)
            left, chained = right, True

    def attributes(self) -> dict[str, str]:
        self.attr_line = self.peek()[2]
        self.expect("[")
        attrs: dict[str, str] = {}
        while True:
            t = self.take()
            if t[0] == "punct" and t[1] == "]":
                return attrs
            if t[0] == "punct" and t[1] in ",;":
                continue
            if t[0] not in ("name", "str"):
                raise _Syntax(t[2], f"unexpected {t[1] or 'end of text'!r} in an attribute list.",
                              "Write attributes as [exposure] or [pos=\"1,2\"].")
            if self.peek()[:2] == ("punct", "="):
                self.take()
                v = self.take()
                if v[0] not in ("name", "str"):
                    raise _Syntax(v[2], f"attribute {t[1]!r} has no value.", "Write key=\"value\".")
                attrs[t[1]] = v[1]
            else:
                attrs[t[1]] = ""

    def add_node(self, v: str) -> None:
        if v not in self.seen:
            self.seen.add(v)
            self.nodes.append(v)

    def apply(self, v: str, attrs: dict[str, str]) -> None:
        for key, value in attrs.items():
            flag = _SHORT.get(key, key)
            if flag in _FLAGS and value == "":
                self.flags[flag].add(v)
            elif key == "pos":
                self.positions[v] = value
            elif value == "":  # a bare word dagitty does not know would be dropped: say so instead
                raise _Syntax(self.attr_line, f"unknown node attribute [{key}] on {v!r}.",
                              "Use exposure, outcome, latent, adjusted or selected (or dagitty's e, o, u, a, s); "
                              "drawing attributes take a value, as pos=\"1,2\".")


def read_dagitty(text: str) -> DagittyText:
    """Tokenise and parse dagitty text into its edges and node attributes (:meth:`DAG.from_dagitty` builds the
    graph from them); a syntax error is a GraphError at ``dag line N``."""
    if not isinstance(text, str):
        raise GraphError(Problem("dag", f"dagitty text must be a string, not {type(text).__name__}.",
                                 fix="Pass the graph as text like 'dag { x -> y }'."))
    try:
        p = _Parser(text)
        p.parse()
    except _Syntax as err:
        raise GraphError(Problem(f"dag line {err.line}", err.message, fix=err.fix)) from None
    return DagittyText(edges=tuple(p.edges), lines=tuple(p.edges.values()), latent=frozenset(p.flags["latent"]),
                       nodes=tuple(p.nodes), exposures=frozenset(p.flags["exposure"] | p.flags["source"]),
                       outcomes=frozenset(p.flags["outcome"] | p.flags["target"]),
                       positions=tuple(sorted(p.positions.items())), adjusted=frozenset(p.flags["adjusted"]))


def relocate(err: GraphError, lines: tuple[int, ...], where: str = "dag",
             node_lines: "tuple[int | None, ...]" = ()) -> GraphError:
    """Name the line of the graph text (``{where} line N``), not the index of an edge (or node) list the user
    never wrote."""
    def one(prob: Problem) -> Problem:
        m = re.fullmatch(r"dag\.(edges|nodes)\[(\d+)\]", prob.loc)
        at = lines if m and m.group(1) == "edges" else node_lines
        if not m or int(m.group(2)) >= len(at) or at[int(m.group(2))] is None:
            return prob  # a node the spec lists (dag.nodes), not the text: its field path is right
        msg = re.sub(r" \(?(?:already )?at dag\.edges\[\d+\]\)?", "", prob.message)
        return replace(prob, loc=f"{where} line {at[int(m.group(2))]}", message=msg)

    return GraphError([one(q) for q in err.problems])

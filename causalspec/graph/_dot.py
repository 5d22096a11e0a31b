"""A parser for the part of Graphviz DOT that states a causal DAG (``digraph { a -> b; c -> {a b} }``).

Node and edge statements, ``->`` chains, ``{ }`` groups and ``subgraph`` blocks, attribute lists, ``"quoted"``
names (``\\"`` is DOT's one escape) and comments are read; nothing is evaluated and Graphviz is never run.
Attributes are ignored except three: ``latent=true`` on a node (unmeasured: never adjusted for), ``dir`` on an
edge (``both``: an unobserved common cause, dagitty's ``<->``; ``back``: the edge reversed) and ``pos``.  An
undirected ``graph``, a ``--`` edge and ``dir=none`` are refused: every edge of a DAG has a direction.  A
default statement that would set ``latent`` or ``dir`` for later nodes or edges is refused too (say it on each
one), so no statement changes the meaning of another.  Nesting and size are bounded as for dagitty text.
"""

from __future__ import annotations

from causalspec.errors import GraphError, Problem
from causalspec.graph._dag import DAG, from_parsed
from causalspec.graph._dagitty import MAX_DAGITTY_EDGES, MAX_GROUP_DEPTH
from causalspec.graph._names import ARROWS_FIX, arrow_problem, arrow_run, name_problem, unicode_arrow

__all__ = ["from_dot", "read_bool", "MAX_GRAPH_CHARS", "GraphSyntax"]

#: Longest DOT or GML text read (a spec file holds at most 2,000,000 bytes).
MAX_GRAPH_CHARS = 2_000_000
_KEYWORDS = frozenset({"strict", "graph", "digraph", "subgraph", "node", "edge"})
_PUNCT = "{}[];,=:+"
_NAMES = ("id", "str", "num")
_DIRECTIONS = {"forward": "->", "back": "<-", "both": "<->"}


def check_graph_text(text, loc: str, kind: str, example: str) -> None:
    """Refuse graph text (DOT, GML) that is not a string or is longer than MAX_GRAPH_CHARS, before parsing."""
    if not isinstance(text, str):
        raise GraphError(Problem(loc, f"{kind} text must be a string, not {type(text).__name__}.",
                                 fix=f"Pass the graph as text like '{example}'."))
    if len(text) > MAX_GRAPH_CHARS:
        raise GraphError(Problem(loc, f"the {kind} text has {len(text):,} characters; causalspec reads at most "
                                      f"{MAX_GRAPH_CHARS:,}.", fix="Check that this is the causal graph."))


class GraphSyntax(Exception):
    """A syntax error at a line of the graph text (turned into a located GraphError by the caller)."""

    def __init__(self, line: int, message: str, fix: str = ""):
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


def read_bool(value, line: int, what: str, fix: str) -> bool:
    """``true / 1 / yes`` or ``false / 0 / no`` (any case), else a GraphSyntax naming ``what``."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "false", "0", "no"):
        return text in ("true", "1", "yes")
    raise GraphSyntax(line, f"{what} is {value!r}; it takes true or false.", fix)


def _line_of(text: str, i: int) -> tuple[str, int]:
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    return (text[start:] if end < 0 else text[start:end]), i - start


def _bad_arrow(text: str, i: int, line: int) -> GraphSyntax:
    """The error for an arrow DOT does not have (``<-``, ``<->``, ``--``, ``-->``, ``=>``, ``→``...)."""
    snippet, at = _line_of(text, i)
    indent = len(snippet) - len(snippet.lstrip())
    ch = text[i]
    if unicode_arrow(ch):
        fixed = (snippet[:at] + "->" + snippet[at + 1:]).strip()
        return GraphSyntax(line, f"{ch!r} (U+{ord(ch):04X}) is not an arrow.", f"Write {fixed!r}; DOT's arrow is ->.")
    run = arrow_run(text, i) or ch
    if run == "<->":
        return GraphSyntax(line, "DOT has no '<->'.", "Write an unobserved common cause as a -> b [dir=both].")
    if run == "<-":
        return GraphSyntax(line, "DOT has no '<-': every DOT edge points from its left to its right node.",
                           "Write the edge the other way round with ->.")
    if run == "--":
        return GraphSyntax(line, "'--' is an undirected edge, which a DAG cannot have.",
                           "Use -> for a cause, or a -> b [dir=both] for an unobserved common cause.")
    message, fix = arrow_problem(run, snippet.strip(), at - indent)
    return GraphSyntax(line, message.split(" is not an edge: ", 1)[-1], fix.replace(ARROWS_FIX, "DOT's arrow is ->"))


def _html(text: str, i: int, line: int) -> int:
    """The end of the HTML-like value ``<...>`` that starts at ``text[i]`` (its < and > balance)."""
    depth = 0
    for j in range(i, len(text)):
        depth += {"<": 1, ">": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    raise GraphSyntax(line, "an HTML-like value <...> is never closed.", "Balance its < and >.")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, line) with kind in id / num / str / html / op / punct."""
    out: list[tuple[str, str, int]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, i = line + 1, i + 1
        elif ch.isspace():
            i += 1
        elif text.startswith("//", i) or (ch == "#" and (i == 0 or text[i - 1] == "\n")):
            j = text.find("\n", i)  # '#' opens a line of C-preprocessor output, which Graphviz skips
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise GraphSyntax(line, "a /* comment is never closed.", "Close it with */.")
            line, i = line + text.count("\n", i, j), j + 2
        elif ch == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and text[j + 1:j + 2] in ('"', "\n"):  # \" and a line continuation
                    buf.append('"' if text[j + 1] == '"' else "")
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            if j >= n:
                raise GraphSyntax(line, "a double quote is never closed.", 'Close the quoted name with ".')
            out.append(("str", "".join(buf), line))
            line, i = line + text.count("\n", i, j), j + 1
        elif ch == "<" and out and out[-1][:2] == ("punct", "="):  # label=<<b>x</b>>: a value, never a name
            j = _html(text, i, line)
            out.append(("html", text[i:j], line))
            line, i = line + text.count("\n", i, j), j
        elif ch == "-" and arrow_run(text, i) in ("->", "--"):
            out.append(("op", text[i:i + 2], line))  # '--' is refused by the parser, after 'graph {'
            i += 2
        elif ch.isdigit() or (ch in "-." and text[i + 1:i + 2].isdigit()) or \
                (text.startswith("-.", i) and text[i + 2:i + 3].isdigit()):
            j, dot = i + 1, ch == "."
            while j < n and (text[j].isdigit() or (text[j] == "." and not dot)):
                dot = dot or text[j] == "."
                j += 1
            if j < n and (text[j].isalpha() or text[j] in "_." or not text[j].isascii() and not text[j].isspace()):
                k = j
                while k < n and (text[k].isalnum() or text[k] in "_."):
                    k += 1
                raise GraphSyntax(line, f"{text[i:k]!r} is not a DOT name: a name that starts with a digit must be "
                                        "a number.", f'Quote it: "{text[i:k]}".')
            out.append(("num", text[i:j], line))
            i = j
        elif ch in "<>-" or unicode_arrow(ch) or text.startswith("=>", i) or text.startswith("==>", i):
            raise _bad_arrow(text, i, line)
        elif ch in _PUNCT:
            out.append(("punct", ch, line))
            i += 1
        elif ch.isalnum() or ch == "_" or not ch.isascii():
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_" or not text[j].isascii() and not text[j].isspace()
                             and not unicode_arrow(text[j])):
                j += 1
            out.append(("id", text[i:j], line))
            i = j
        else:
            raise GraphSyntax(line, f"unexpected character {ch!r}.", 'Quote names that contain it: "a.b".')
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.nodes: dict[str, int] = {}  # name -> the line it first appears on
        self.edges: dict[tuple[str, str, str], int] = {}
        self.latent: set[str] = set()
        self.positions: dict[str, str] = {}
        self.depth = 0

    def peek(self, k: int = 0) -> tuple[str, str, int]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "", self.toks[-1][2] if self.toks else 1)

    def take(self) -> tuple[str, str, int]:
        t = self.peek()
        self.i += 1
        return t

    def keyword(self, k: int = 0) -> str | None:
        t = self.peek(k)
        return t[1].lower() if t[0] == "id" and t[1].lower() in _KEYWORDS else None

    def expect(self, value: str) -> None:
        t = self.take()
        if t[:2] != ("punct", value):
            raise GraphSyntax(t[2], f"expected {value!r} but found {t[1] or 'the end of the text'!r}.",
                              "Check the braces and brackets of the graph.")

    def parse(self) -> None:
        if self.keyword() == "strict":
            self.take()
        kind, t = self.keyword(), self.take()
        if kind == "graph":
            raise GraphSyntax(t[2], "an undirected graph cannot be a DAG.", "Write digraph { ... } with -> edges.")
        if kind != "digraph":
            raise GraphSyntax(t[2], f"a DOT graph starts with 'digraph', not {t[1] or 'the end of the text'!r}.",
                              "Write digraph { a -> b }.")
        if self.peek()[0] in _NAMES and not self.keyword():
            self.take()  # the graph's name
        self.expect("{")
        self.statements()
        self.expect("}")
        t = self.peek()
        if t[0] != "eof":
            raise GraphSyntax(t[2], f"unexpected {t[1]!r} after the end of the graph.",
                              "A DOT text holds one graph: remove the rest.")

    def statements(self) -> list[str]:
        """Statements up to the closing ``}`` (not consumed); the nodes they mention."""
        mentioned: list[str] = []
        while self.peek()[0] != "eof" and self.peek()[:2] != ("punct", "}"):
            if self.peek()[:2] == ("punct", ";"):
                self.take()
            else:
                mentioned.extend(self.statement())
        return mentioned

    def statement(self) -> list[str]:
        kind = self.keyword()
        if kind in ("graph", "node", "edge") and self.peek(1)[:2] == ("punct", "["):
            self.take()
            attrs = self.attributes()
            fixed = {"node": ("latent", "u [latent=true]"), "edge": ("dir", "a -> b [dir=both]")}.get(kind)
            if fixed and fixed[0] in attrs:
                raise GraphSyntax(attrs[fixed[0]][1], f"'{kind} [{fixed[0]}=...]' would set {fixed[0]} for every "
                                                      f"later {kind}.", f"Set it on each {kind}: {fixed[1]}.")
            return []
        if not kind and self.peek()[0] in _NAMES and self.peek(1)[:2] == ("punct", "="):
            self.take(), self.take(), self.value()  # a graph attribute such as rankdir=LR
            return []
        group, left = self.operand()
        chain, lines, mentioned = [left], [], list(left)
        while self.peek()[0] == "op":
            if self.peek()[1] == "--":
                raise GraphSyntax(self.peek()[2], "'--' is an undirected edge, which a DAG cannot have.",
                                  "Use -> for a cause, or a -> b [dir=both] for an unobserved common cause.")
            lines.append(self.take()[2])
            chain.append(self.operand()[1])
            mentioned.extend(chain[-1])
        attrs = self.attributes() if self.peek()[:2] == ("punct", "[") else {}
        if len(chain) == 1 and group and attrs:
            raise GraphSyntax(next(iter(attrs.values()))[1], "attributes after a { } group apply to nothing.",
                              "Set them on each node: u [latent=true].")
        if len(chain) == 1:
            for key, (value, line) in attrs.items():
                if key == "latent" and read_bool(value, line, "latent", "Write latent=true (or false)."):
                    self.latent.add(left[0])
                elif key == "latent":
                    self.latent.discard(left[0])
                elif key == "pos":
                    self.positions[left[0]] = value.rstrip("!")
        else:
            self.add_edges(chain, lines, attrs)
        if self.peek()[0] == "op":
            raise GraphSyntax(self.peek()[2], "attributes come after the whole edge statement.",
                              "Write a -> b [dir=both], and a node's attributes in a statement of their own.")
        return mentioned

    def add_edges(self, chain: list[list[str]], lines: list[int], attrs: dict[str, tuple[str, int]]) -> None:
        if "latent" in attrs:
            raise GraphSyntax(attrs["latent"][1], "latent is a node's attribute, not an edge's.",
                              "Write it on the node: u [latent=true].")
        value, line = attrs.get("dir", ("forward", 0))
        op = _DIRECTIONS.get(value.strip().lower())
        if op is None:
            undirected = value.strip().lower() == "none"
            raise GraphSyntax(line, "dir=none is an undirected edge, which a DAG cannot have." if undirected
                              else f"dir={value!r} is not a direction.",
                              "Use dir=forward (the default), back, or both (an unobserved common cause).")
        for k, line in enumerate(lines):
            for a in chain[k]:
                for b in chain[k + 1]:
                    key = (b, "->", a) if op == "<-" else (min(a, b), "<->", max(a, b)) if op == "<->" \
                        else (a, "->", b)
                    self.edges.setdefault(key, line)
                    if len(self.edges) > MAX_DAGITTY_EDGES:
                        raise GraphSyntax(line, f"the graph has more than {MAX_DAGITTY_EDGES:,} edges.",
                                          "Check the groups { } on this line: each node of one is joined to each "
                                          "of the other.")

    def operand(self) -> tuple[bool, list[str]]:
        """(is a group, its nodes): a node, or a ``{ }`` group / ``subgraph``, which stands for all its nodes."""
        subgraph = self.keyword() == "subgraph"
        if subgraph:
            self.take()
            if self.peek()[0] in _NAMES and not self.keyword():
                self.take()  # the subgraph's name
        t = self.peek()
        if subgraph and t[:2] != ("punct", "{"):
            raise GraphSyntax(t[2], "a subgraph needs its { } body here.", "Write subgraph name { a b }.")
        if t[:2] == ("punct", "{"):
            self.take()
            self.depth += 1
            try:
                if self.depth > MAX_GROUP_DEPTH:
                    raise GraphSyntax(t[2], f"groups {{ }} are nested more than {MAX_GROUP_DEPTH} deep.",
                                      "A DAG needs one level of { } at most: flatten the groups.")
                inner = self.statements()
                self.expect("}")
            finally:
                self.depth -= 1
            return True, inner
        return False, [self.node()]

    def node(self) -> str:
        t = self.peek()
        if self.keyword():
            raise GraphSyntax(t[2], f"{t[1]!r} is a DOT keyword, not a node name.", f'Quote it: "{t[1]}".')
        if t[0] not in _NAMES:
            found = "an HTML-like <...> value" if t[0] == "html" else repr(t[1] or "the end of the text")
            raise GraphSyntax(t[2], f"expected a node name but found {found}.",
                              'Quote names that contain spaces or punctuation: "account age".')
        name = self.value()
        for _ in range(2):  # a port and a compass point (a:p:n) say where an arrow is drawn: not part of the name
            if self.peek()[:2] == ("punct", ":") and self.peek(1)[0] in _NAMES:
                self.take(), self.take()
        bad = name_problem(name)
        if bad:
            raise GraphSyntax(t[2], *bad)
        self.nodes.setdefault(name, t[2])
        return name

    def value(self) -> str:
        t = self.take()
        if t[0] not in _NAMES + ("html",):
            raise GraphSyntax(t[2], f"expected a value but found {t[1] or 'the end of the text'!r}.",
                              'Write key=value, quoting values with spaces: label="Account age".')
        text = t[1]
        while t[0] == "str" and self.peek()[:2] == ("punct", "+") and self.peek(1)[0] == "str":
            self.take()
            text += self.take()[1]  # "a" + "b" is one string
        return text

    def attributes(self) -> dict[str, tuple[str, int]]:
        """Every ``[key=value, ...]`` list that follows, as key -> (value, line)."""
        attrs: dict[str, tuple[str, int]] = {}
        while self.peek()[:2] == ("punct", "["):
            self.take()
            while self.peek()[:2] != ("punct", "]"):
                if self.peek()[:2] in (("punct", ","), ("punct", ";")):
                    self.take()
                    continue
                key = self.take()
                if key[0] not in _NAMES:
                    raise GraphSyntax(key[2], f"unexpected {key[1] or 'end of text'!r} in an attribute list.",
                                      "Write attributes as [latent=true, label=\"Account age\"].")
                if self.peek()[:2] != ("punct", "="):
                    raise GraphSyntax(key[2], f"attribute {key[1]!r} has no value.", f"Write {key[1]}=true.")
                self.take()
                attrs[key[1].lower()] = (self.value(), key[2])
            self.take()
        return attrs


def from_dot(text: str, *, latent=(), nodes=(), adjusted=(), loc: str = "dag") -> DAG:
    """Parse Graphviz DOT text into a :class:`DAG` (the same type ``DAG.from_edges`` returns).

    ``latent``, ``nodes`` and ``adjusted`` add to what the text says (a spec's ``dag: {dot: ..., latent: [u]}``).
    Node names are the DOT node ids (``label`` is ignored).  Errors are :class:`~causalspec.errors.GraphError`
    located at ``{loc} line N``.

    Examples
    --------
    >>> g = from_dot('digraph { z -> {x y}; x -> y; u [latent=true]; u -> z; x -> m [dir=both] }')
    >>> g.parents("y"), sorted(g.latent), g.spouses("m")
    (('x', 'z'), ['u'], ('x',))
    """
    check_graph_text(text, loc, "DOT", "digraph { x -> y }")
    try:
        parser = _Parser(text)
        parser.parse()
    except GraphSyntax as err:
        raise GraphError(Problem(f"{loc} line {err.line}", err.message, fix=err.fix)) from None
    given = tuple(nodes)
    return from_parsed(tuple(parser.edges), tuple(parser.edges.values()), where=loc,
                       nodes=given + tuple(parser.nodes), node_lines=(None,) * len(given) + tuple(parser.nodes.values()),
                       latent=parser.latent | set(latent), adjusted=adjusted,
                       positions=tuple(sorted(parser.positions.items())))

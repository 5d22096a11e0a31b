"""Edge strings (``a -> b``, ``a <-> b``, ``a <- b``, quoted names) tokenised and parsed; malformed arrows refused."""

from __future__ import annotations

from functools import lru_cache

from causalspec.graph._names import arrow_problem, arrow_run, unicode_arrow


_ARROWS = ("<->", "->", "<-")


# A bidirected edge a <-> b stands for an unobserved common cause.  Internally it
# becomes a latent parent whose name starts with NUL, which user names may not contain,
# so it can never clash with a real node and is filtered out of every answer.
_HIDDEN = "\x00"


def _hidden_name(a: str, b: str) -> str:
    return f"{_HIDDEN}{a}<->{b}"


class _EdgeSyntax(str):
    """An edge parse error message that also carries a specific fix."""

    fix: str = ""

    def __new__(cls, message: str, fix: str = "") -> "_EdgeSyntax":
        self = super().__new__(cls, message)
        self.fix = fix
        return self


def _tokenize(text: str) -> list[tuple[str, str]] | str:
    """Split ``text`` into ("name", x) and ("arrow", op) tokens; return an error message on failure.

    A run of arrow characters is read whole, so ``-->``, ``<--``, ``=>`` or ``→`` is refused as a
    malformed arrow rather than read as ``->`` with a stray ``-`` glued to a node name.
    """
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    buf: list[str] = []

    def flush() -> str | None:
        name = "".join(buf).strip()
        buf.clear()
        if name:
            for end in (name[0], name[-1]):
                if end in "-=":  # "z - -> w": the '-' belongs to no arrow
                    return _EdgeSyntax(*arrow_problem(end, text, text.find(name)))
            tokens.append(("name", name))
        return None

    while i < n:
        ch = text[i]
        if ch in "<>-=" or not ch.isascii():
            run = arrow_run(text, i)
            if run in _ARROWS:
                pass  # an arrow: handled below
            elif run is not None and run not in ("-", "="):  # a lone - or = belongs to a name (age-group)
                return _EdgeSyntax(*arrow_problem(run, text, i))
            elif ch in "<>":
                return _EdgeSyntax(*arrow_problem(ch, text, i))
            elif unicode_arrow(ch):
                good = unicode_arrow(ch)
                return _EdgeSyntax(f"{text!r} is not an edge: {ch!r} (U+{ord(ch):04X}) is not an arrow causalspec "
                                   "reads.",
                                   f"Write {(text[:i] + good + text[i + 1:]).strip()!r}; the arrows are "
                                   "->, <- and <->.")
        # a quote opens a quoted name only at the start of a name; inside one it is a character
        if ch == '"' and not "".join(buf).strip():
            buf.clear()
            j = i + 1
            out: list[str] = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                out.append(text[j])
                j += 1
            if j >= n:
                return "a double quote is never closed"
            tokens.append(("name", "".join(out)))
            i = j + 1
            continue
        for op in _ARROWS:
            if text.startswith(op, i):
                bad = flush()
                if bad:
                    return bad
                tokens.append(("arrow", op))
                i += len(op)
                break
        else:
            buf.append(ch)
            i += 1
    return flush() or tokens


def parse_edge(text: str) -> list[tuple[str, str, str]] | str:
    """Parse ``"a -> b -> c"`` into canonical triples ``(v, op, w)`` with op ``->`` or ``<->``.

    Returns an error message (a str) when the text is not an edge.
    """
    if not isinstance(text, str):
        return f"an edge must be a string like 'a -> b', not {type(text).__name__}"
    toks = _tokenize(text)
    if isinstance(toks, str):
        return toks
    if len(toks) < 3 or len(toks) % 2 == 0:
        return f"{text!r} is not an edge like 'a -> b', 'a <- b' or 'a <-> b'"
    for k, (kind, _val) in enumerate(toks):
        if kind != ("name" if k % 2 == 0 else "arrow"):
            return f"{text!r} is not an edge like 'a -> b', 'a <- b' or 'a <-> b'"
    out = []
    for k in range(1, len(toks), 2):
        a, op, b = toks[k - 1][1], toks[k][1], toks[k + 1][1]
        for name in (a, b):
            if _HIDDEN in name:
                return f"node name {name!r} contains a NUL character"
        if op == "->":
            out.append((a, "->", b))
        elif op == "<-":
            out.append((b, "->", a))
        else:
            out.append((min(a, b), "<->", max(a, b)))
    return out


def _char_class(codes: list[int], negate: bool = False) -> str:
    """A regex character class of code points, written with \\uXXXX escapes (the same in Python and ECMA-262)."""
    parts, start = [], None
    for k, c in enumerate(codes):
        if start is None:
            start = c
        if k + 1 == len(codes) or codes[k + 1] != c + 1:
            parts.append(f"\\u{start:04x}" if c == start else f"\\u{start:04x}-\\u{c:04x}")
            start = None
    return "[" + "^" * negate + "".join(parts) + "]"


@lru_cache(maxsize=1)
def edge_pattern() -> str:
    """A regular expression that matches exactly the strings :func:`parse_edge` accepts (``a -> b``, ``a <- b``,
    ``a <-> b``, chains, double-quoted names), for the JSON Schema, so that an editor flags a malformed edge while
    it is typed.

    Exact for text in Unicode's Basic Multilingual Plane; an arrow character beyond it (U+1F800...) is refused by
    the parser only.  Written in the common subset of Python's and ECMA-262's syntax (``\\uXXXX`` escapes, no
    lookaround).  The node-name checks (invisible characters, mixed scripts) run when the spec is validated.
    """
    space = [c for c in range(0x10000) if chr(c).isspace()]  # what str.strip() removes around a name
    arrows = [c for c in range(0x80, 0x10000) if unicode_arrow(chr(c))]
    w = _char_class(space)
    solid = _char_class(sorted({0, ord("<"), ord(">"), ord("-"), ord("=")} | set(space) | set(arrows)), negate=True)
    first = solid[:-1] + "\\u0022]"  # a name that starts with a double quote is a quoted name
    bare = f"{first}(?:{w}*(?:[-=]{w}+)*[-=]?{solid})*"  # a lone - or = inside a name: age-group
    quoted = '"(?:[^"\\\\\\u0000]|\\\\[^\\u0000])*"'
    name = f"(?:{quoted}|{bare})"
    return f"^{w}*{name}{w}*(?:(?:<->|->|<-){w}*{name}{w}*)+$"

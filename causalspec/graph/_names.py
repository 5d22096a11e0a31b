"""Which node names and arrows a reviewer can trust: refusing names that display as something else.

A spec is read by a person in a pull request and by the planner; the two must see the same graph.
Three things make them differ: an arrow the parser reads differently from a person (``z --> w``
was a node ``z -``), characters that do not display or reorder the display (control characters,
bidirectional overrides, zero-width characters), and look-alike letters from another script (a
Cyrillic ``а`` in ``trеatment`` makes a second node that reads the same as the first).  Names in one
script other than Latin (all Greek, all Cyrillic, Japanese...) are fine.

The script of a letter is the first word of its Unicode name (``CYRILLIC SMALL LETTER A``) — a
heuristic that needs no tables beyond :mod:`unicodedata`; names must equal their NFKC form, so
full-width, ligature and decomposed spellings of one name cannot make two nodes.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["name_problem", "arrow_problem", "code_point"]

# bidirectional embeddings / overrides (U+202A-U+202E) and isolates (U+2066-U+2069)
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}
_ZERO_WIDTH = frozenset({0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x180E})
# scripts that are written together: Japanese mixes Han, Hiragana and Katakana; Korean Hangul and Han
_SCRIPT_GROUP = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "KATAKANA-HIRAGANA": "CJK", "CJK": "CJK",
                 "HANGUL": "CJK", "BOPOMOFO": "CJK", "IDEOGRAPHIC": "CJK"}
# the commonest look-alikes, to suggest the intended spelling (Unicode's confusables.txt is far larger)
_TO_LATIN = dict(zip("аеіјорсѕухһԁԛԝАВЕКМНОРСТХЅІЈοινκρτυΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
                     "aeijopcsyxhdqwABEKMHOPCTXSIJoivkptuABEZHIKMNOPTYX"))
_ARROW_RUN = re.compile(r"<?[-=]+>?")

ARROWS_FIX = "the arrows are -> (a cause), <- and <-> (an unobserved common cause)"


def code_point(ch: str) -> str:
    """``U+0430 CYRILLIC SMALL LETTER A``; just ``U+001B`` for a character without a name (controls)."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X}"


def _script(ch: str) -> str | None:
    """The script group of a letter, or None for digits, marks, punctuation and modifier letters."""
    category = unicodedata.category(ch)
    if not category.startswith("L") or category == "Lm":
        return None
    if ch.isascii():
        return "LATIN"
    word = unicodedata.name(ch, "?").split(" ", 1)[0]
    return _SCRIPT_GROUP.get(word, word)


def _invisible(ch: str) -> str | None:
    """Why ``ch`` may not appear in a node name, or None."""
    o = ord(ch)
    if o < 0x80:
        return "a control character" if o < 0x20 or o == 0x7F else None
    if o in _BIDI:
        return "a bidirectional control, which reorders how the text around it displays"
    if o in _ZERO_WIDTH:
        return "a zero-width character, which does not display"
    category = unicodedata.category(ch)
    if category == "Cc":
        return "a control character"
    if category in ("Cf", "Co", "Cs", "Cn"):
        return "an invisible, private-use or unassigned character"
    if category in ("Zl", "Zp"):
        return "a line or paragraph separator"
    if category == "Zs":
        return "a space other than the ordinary one, which looks the same but is not"
    return None


def name_problem(name: str) -> tuple[str, str] | None:
    """``(message, fix)`` when ``name`` would display as something other than what the parser reads.

    Examples
    --------
    >>> name_problem("treatment") is None, name_problem("θεραπεία") is None
    (True, True)
    >>> name_problem("tre\\u0430tment")[0]
    "node name 'treаtment' mixes scripts: U+0430 CYRILLIC SMALL LETTER A among LATIN letters, so it reads like another name but is a different node."
    """
    if name.isascii():
        bad = next((c for c in name if ord(c) < 0x20 or ord(c) == 0x7F), None)
        if bad is None:
            return None
        return (f"node name {name!r} contains {code_point(bad)}, a control character.",
                "Remove it: a name holds only printable characters.")
    for ch in name:
        why = _invisible(ch)
        if why:
            return (f"node name {name!r} contains {code_point(ch)}, {why}.",
                    "Delete it and retype the name; a reviewer cannot see it, but the planner would read "
                    "a different node.")
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        ch = next((c for c in name if unicodedata.normalize("NFKC", c) != c), None)
        if ch is None:  # a decomposed accent: e + U+0301
            ch = next((c for c in name if unicodedata.category(c).startswith("M")), name[0])
        return (f"node name {name!r} is not in normal form: {code_point(ch)} has a standard spelling "
                f"({normal!r}), so two names that look alike could be different nodes.",
                f"Write it as {normal!r}.")
    scripts: dict[str, int] = {}
    for ch in name:
        s = _script(ch)
        if s:
            scripts[s] = scripts.get(s, 0) + 1
    if len(scripts) > 1:
        main = max(scripts, key=lambda s: (scripts[s], s == "LATIN"))
        odd = next(c for c in name if _script(c) not in (None, main))
        fixed = "".join(_TO_LATIN.get(c, c) for c in name) if main == "LATIN" else None
        hint = f"Write {fixed!r}" if fixed and all(_script(c) in (None, "LATIN") for c in fixed) else \
            f"Retype it in one script ({main})"
        return (f"node name {name!r} mixes scripts: {code_point(odd)} among {main} letters, so it reads like "
                "another name but is a different node.",
                f"{hint}; a look-alike letter from another script makes a second node a reviewer cannot "
                "tell from the first.")
    return None


def arrow_problem(run: str, text: str, at: int) -> tuple[str, str]:
    """``(message, fix)`` for a malformed arrow ``run`` found at ``text[at]``."""
    if len(run) > 1 and set(run) <= {"-"}:
        return (f"{text!r} is not an edge: {run!r} is an undirected edge, which a DAG cannot have.",
                "Use -> for a cause or <-> for an unobserved common cause.")
    if run in ("<", ">", "-", "="):
        return (f"{text!r} is not an edge: a stray {run!r} is not part of an arrow.",
                f"Remove it, or quote a name that contains it (\"a > b\"); {ARROWS_FIX}.")
    if "<" in run and ">" in run:
        good = "<->"
    elif ">" in run:
        good = "->"
    elif "<" in run:
        good = "<-"
    else:
        return (f"{text!r} is not an edge: {run!r} is not an arrow.", f"Write the edge with -> or <->; {ARROWS_FIX}.")
    fixed = text[:at] + good + text[at + len(run):]
    return (f"{text!r} is not an edge: {run!r} is not an arrow.", f"Write {fixed.strip()!r}; {ARROWS_FIX}.")


def unicode_arrow(ch: str) -> str | None:
    """The ASCII arrow a Unicode arrow (→, ⇐, ↔ ...) stands for, or None when ``ch`` is not one."""
    if ch.isascii():
        return None
    name = unicodedata.name(ch, "")
    if "ARROW" not in name:
        return None
    if "LEFT RIGHT" in name:
        return "<->"
    if name.startswith("LEFT") or "LEFTWARDS" in name:
        return "<-"
    return "->"


def arrow_run(text: str, i: int) -> str | None:
    """The run of arrow characters (``-->``, ``<=``, ``->``...) starting at ``text[i]``, if any."""
    m = _ARROW_RUN.match(text, i)
    return m.group() if m else None

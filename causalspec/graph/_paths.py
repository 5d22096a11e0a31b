"""Paths between two nodes, written the way dagitty writes them, with open/blocked flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from causalspec.errors import GraphError, Problem

from causalspec.graph._dag import DAG

__all__ = ["Path", "paths"]


@dataclass(frozen=True)
class Path:
    """One path: ``text`` as dagitty prints it (``"x <- a -> y"``) and whether it is ``open``.

    ``nodes`` lists the nodes from x to y; ``arrows[i]`` (``"->"``, ``"<-"`` or ``"<->"``)
    joins ``nodes[i]`` and ``nodes[i + 1]``, so callers never need to parse ``text``.
    """

    text: str
    open: bool
    nodes: tuple[str, ...]
    arrows: tuple[str, ...] = ()

    @property
    def colliders(self) -> tuple[str, ...]:
        """Inner nodes with arrowheads from both sides (``-> v <-``, ``<-> v <-`` ...)."""
        return tuple(self.nodes[i] for i in range(1, len(self.nodes) - 1)
                     if self.arrows[i - 1] in ("->", "<->") and self.arrows[i] in ("<-", "<->"))

    @property
    def causal(self) -> bool:
        """True for a directed path x -> ... -> y."""
        return all(a == "->" for a in self.arrows)


def _steps(dag: DAG, v: str):
    """(neighbour, arrow text, head at v, head at neighbour) for every edge at ``v``."""
    for c in dag._children[v]:
        yield c, "->", False, True
    for p in dag._parents[v]:
        yield p, "<-", True, False
    for s in dag._spouses[v]:
        yield s, "<->", True, True


def paths(dag: DAG, x: str, y: str, z: Iterable[str] = (), limit: int = 1000) -> list[Path]:
    """Every simple path between ``x`` and ``y`` (any edge directions), at most ``limit``.

    A path is open given ``z`` when every non-collider on it is outside ``z`` and every
    collider is in ``z`` or has a descendant in ``z``.  Paths are sorted by their text
    (code-point order), as the parity cases list them.  Matches ``dagitty::paths``
    (the list when fewer than ``limit`` paths exist); Pearl (2009) §1.2.3.

    Examples
    --------
    >>> g = DAG.from_edges(["a -> x", "a -> y", "x -> y"])
    >>> [(p.text, p.open) for p in paths(g, "x", "y", ["a"])]
    [('x -> y', True), ('x <- a -> y', False)]
    """
    return paths_within(dag, x, y, z, limit)[0]


def paths_within(dag: DAG, x: str, y: str, z: Iterable[str] = (), limit: int = 1000,
                 max_steps: int | None = None) -> tuple[list[Path], bool]:
    """:func:`paths` with a work budget: ``(paths, complete)``, where ``complete`` is False when ``limit``
    paths were found or ``max_steps`` edges were walked before every path was seen."""
    x, y = dag._check([x, y], "paths")
    Z = set(dag._check(z, "z"))
    steps = 0
    if x == y:
        raise GraphError(Problem("paths", f"both ends are {x!r}.", fix="Give two different nodes."))
    an_z = dag._expanded.ancestors(Z) & set(dag.nodes)
    out: list[Path] = []
    # each frame: node, iterator over its edges; parallel lists hold the path so far
    nodes, arrows, heads = [x], [], []  # heads[i] = (head at left end, head at right end) of edge i
    on_path = {x}
    stack = [_steps(dag, x)]
    while stack and len(out) < limit:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            on_path.discard(nodes.pop())
            if arrows:
                arrows.pop()
                heads.pop()
            continue
        w, arrow, head_v, head_w = step
        if w in on_path:
            continue
        steps += 1
        if max_steps is not None and steps > max_steps:
            out.sort(key=lambda p: p.text)
            return out, False
        nodes.append(w)
        arrows.append(arrow)
        heads.append((head_v, head_w))
        if w == y:
            out.append(_finish(nodes, arrows, heads, Z, an_z))
            nodes.pop(), arrows.pop(), heads.pop()
            continue
        on_path.add(w)
        stack.append(_steps(dag, w))
    out.sort(key=lambda p: p.text)
    return out, not stack


def _finish(nodes, arrows, heads, Z, an_z) -> Path:
    is_open = True
    for i in range(1, len(nodes) - 1):
        collider = heads[i - 1][1] and heads[i][0]
        v = nodes[i]
        if (collider and v not in an_z) or (not collider and v in Z):
            is_open = False
            break
    text = nodes[0]
    for a, v in zip(arrows, nodes[1:]):
        text += f" {a} {v}"
    return Path(text, is_open, tuple(nodes), tuple(arrows))

"""Where the DAG figure puts each node and routes each edge, so that no edge passes through a node's label box.

Two engines, the same output (:class:`DagLayout`: boxes and edge paths as cubic Bézier segments, in inches):

* ``dot``: graphviz's ``dot`` program (left to right), when it is installed; its splines avoid the nodes.
* ``layered``: a Sugiyama-style layout in pure Python.  Layers are the causal order (each node one column right of
  its latest parent; a node without parents one column left of its first child); an edge that skips columns gets
  a virtual point in each column it crosses, the virtual points take slots in their columns like nodes (so no box
  sits on them), and the order within each column minimises crossings by barycentric sweeps (Sugiyama, Tagawa &
  Toda 1981).  An edge runs horizontally inside a column (at its own port, or its virtual point's height) and
  bends only in the empty gaps between columns, so it can never cross another node's box.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Mapping, Sequence

__all__ = ["Box", "EdgePath", "DagLayout", "dag_layout", "box_size"]

_H = 0.38  # box height, inches
_CHAR, _PAD = 0.075, 0.3  # box width per character of the label (9 pt) and padding, inches
_GAP = {(True, True): 0.32, (True, False): 0.24, (False, True): 0.24, (False, False): 0.14}  # (node?, node?)


def box_size(label: str) -> tuple[float, float]:
    """The width and height (inches) of a node's label box at 9 pt."""
    return _PAD + _CHAR * len(label), _H


@dataclass(frozen=True)
class Box:
    """A node's label box: centre (x, y), width and height."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, px: float, py: float, margin: float = 0.0) -> bool:
        """Whether the point lies inside the box grown by ``margin`` (negative: shrunk) on every side."""
        return abs(px - self.x) < self.w / 2 + margin and abs(py - self.y) < self.h / 2 + margin


Point = tuple[float, float]


@dataclass(frozen=True)
class EdgePath:
    """One drawn edge: cubic Bézier segments ``(p0, c1, c2, p1)`` joined end to start, arrowhead at the end."""

    source: str
    target: str
    kind: str  # "directed" | "bidirected"
    segments: tuple[tuple[Point, Point, Point, Point], ...]

    def points(self, per_segment: int = 24) -> list[Point]:
        """Points sampled along the path (what the drawing follows)."""
        out = []
        for p0, c1, c2, p1 in self.segments:
            for i in range(per_segment + 1):
                t = i / per_segment
                a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
                out.append((a * p0[0] + b * c1[0] + c * c2[0] + d * p1[0], a * p0[1] + b * c1[1] + c * c2[1] + d * p1[1]))
        return out


@dataclass(frozen=True)
class DagLayout:
    boxes: Mapping[str, Box]
    edges: tuple[EdgePath, ...]
    engine: str  # "layered" | "dot"

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the boxes and the paths."""
        xs = [b.x + s * b.w / 2 for b in self.boxes.values() for s in (-1, 1)]
        ys = [b.y + s * b.h / 2 for b in self.boxes.values() for s in (-1, 1)]
        for e in self.edges:
            for p in e.points(8):
                xs.append(p[0])
                ys.append(p[1])
        return min(xs), max(xs), min(ys), max(ys)


def _line(a: Point, b: Point):
    return (a, (a[0] + (b[0] - a[0]) / 3, a[1] + (b[1] - a[1]) / 3), (a[0] + 2 * (b[0] - a[0]) / 3,
                                                                    a[1] + 2 * (b[1] - a[1]) / 3), b)


def _bend(a: Point, b: Point, bulge: float = 0.0):
    """An S-curve from a to b leaving and arriving horizontally; every control point's x lies between a's and b's,
    so the curve stays in the gap between them."""
    mid = (a[0] + b[0]) / 2
    return (a, (mid, a[1] + bulge), (mid, b[1] + bulge), b)


# ---------------------------------------------------------------- the layered engine
def _layers(nodes, directed) -> dict[str, int]:
    parents = {n: [u for u, v in directed if v == n] for n in nodes}
    children = {n: [v for u, v in directed if u == n] for n in nodes}
    order, seen = [], set()
    while len(order) < len(nodes):  # Kahn's algorithm, ties by the given (sorted) order
        ready = [n for n in nodes if n not in seen and all(p in seen for p in parents[n])]
        order += ready
        seen |= set(ready)
    layer: dict[str, int] = {}
    for n in order:
        layer[n] = 1 + max((layer[p] for p in parents[n]), default=-1)
    for n in reversed(order):  # a cause with no parents sits just left of its first child
        if not parents[n] and children[n]:
            layer[n] = min(layer[c] for c in children[n]) - 1
    low = min(layer.values(), default=0)
    return {n: v - low for n, v in layer.items()}


def _crossings(columns, links) -> int:
    pos = {v: i for col in columns for i, v in enumerate(col)}
    total = 0
    for k in range(len(columns) - 1):
        here = set(columns[k])
        pairs = [(pos[a], pos[b]) for a, b in links if a in here]
        total += sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:] if (a1 - a2) * (b1 - b2) < 0)
    return total


def _order(columns, links, sweeps: int = 10):
    """Barycentric ordering within columns, down and up sweeps, keeping the order with the fewest crossings."""
    preds: dict = {}
    succs: dict = {}
    for a, b in links:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)
    best, best_x = [list(c) for c in columns], _crossings(columns, links)
    cols = [list(c) for c in columns]
    for s in range(sweeps):
        down = s % 2 == 0
        rng = range(1, len(cols)) if down else range(len(cols) - 2, -1, -1)
        for k in rng:
            ref = {v: i for i, v in enumerate(cols[k - 1 if down else k + 1])}
            near = preds if down else succs
            def key(iv):
                i, v = iv
                ns = [ref[u] for u in near.get(v, ()) if u in ref]
                return (sum(ns) / len(ns) if ns else i, i)
            cols[k] = [v for _, v in sorted(enumerate(cols[k]), key=key)]
        x = _crossings(cols, links)
        if x < best_x:
            best, best_x = [list(c) for c in cols], x
    return best


def _isotonic(values):
    """Pool-adjacent-violators: the non-decreasing sequence closest to ``values`` in least squares."""
    blocks: list[list[float]] = []  # [mean, count]
    for v in values:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, n2), (m1, n1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    return [m for m, n in blocks for _ in range(n)]


def _place(cols, links, half, is_node):
    """Heights (downwards) within each column: as near their neighbours' mean as the separations allow."""
    nbrs: dict = {}
    for a, b in links:
        nbrs.setdefault(a, []).append(b)
        nbrs.setdefault(b, []).append(a)
    t: dict = {}
    seps = []
    for col in cols:
        sep = [0.0] + [half[a] + half[b] + _GAP[(is_node(a), is_node(b))] for a, b in zip(col, col[1:])]
        offs = [sum(sep[:i + 1]) for i in range(len(col))]
        seps.append(offs)
        for v, o in zip(col, offs):
            t[v] = o - offs[-1] / 2
    for it in range(12):
        for k in (range(len(cols)) if it % 2 == 0 else range(len(cols) - 1, -1, -1)):
            col, offs = cols[k], seps[k]
            want = [sum(t[u] for u in nbrs.get(v, ())) / len(nbrs[v]) if nbrs.get(v) else t[v] for v in col]
            z = _isotonic([w - o for w, o in zip(want, offs)])
            for v, zi, o in zip(col, z, offs):
                t[v] = zi + o
    return t


def _layered(names, sizes, directed, bidirected) -> DagLayout:
    layer = _layers(names, directed)
    width = max(layer.values(), default=0) + 1
    chains, links = [], []  # every edge as the list of items it passes (virtual points are tuples)
    for i, (u, v, kind) in enumerate([(u, v, "directed") for u, v in directed] +
                                     [(a, b, "bidirected") for a, b in bidirected]):
        if layer[u] > layer[v]:
            u, v = v, u
        chain = [u] + [("virtual", i, k) for k in range(layer[u] + 1, layer[v])] + [v]
        chains.append((kind, chain))
        links += list(zip(chain, chain[1:])) if layer[u] != layer[v] else []
    where = dict(layer)
    for _, chain in chains:
        for item in chain[1:-1]:
            where[item] = item[2]
    cols: list[list] = [[] for _ in range(width)]
    for item in names:
        cols[where[item]].append(item)
    for _, chain in chains:
        for item in chain[1:-1]:
            cols[where[item]].append(item)
    cols = _order(cols, links)
    half = {v: (sizes[v][1] / 2 if isinstance(v, str) else 0.0) for col in cols for v in col}
    down = _place(cols, links, half, lambda v: isinstance(v, str))
    y = {v: -down[v] for v in down}
    colw = [max([sizes[v][0] for v in col if isinstance(v, str)] or [0.2]) for col in cols]
    x, left = [], 0.0
    for k, w in enumerate(colw):
        if k:
            rise = max([abs(y[a] - y[b]) for a, b in links if where[a] == k - 1] or [0.0])
            left += min(2.2, 0.75 + 0.22 * rise)
        x.append(left + w / 2)
        left += w
    boxes = {n: Box(x[where[n]], y[n], *sizes[n]) for n in names}
    right_edge = [x[k] + colw[k] / 2 for k in range(width)]
    left_edge = [x[k] - colw[k] / 2 for k in range(width)]
    # ports: the edges leaving (entering) a box spread over its right (left) side, in the order of their next points
    leaving: dict = {}
    entering: dict = {}
    for i, (kind, chain) in enumerate(chains):
        if where[chain[0]] == where[chain[-1]]:  # same column: both ends on the right side
            leaving.setdefault(chain[0], []).append((y[chain[-1]], i))
            leaving.setdefault(chain[-1], []).append((y[chain[0]], -i - 1))
        else:
            leaving.setdefault(chain[0], []).append((y[chain[1]] + (0.01 if kind == "bidirected" else 0), i))
            entering.setdefault(chain[-1], []).append((y[chain[-2]] + (0.01 if kind == "bidirected" else 0), i))
    port: dict = {}
    for side, table in (("out", leaving), ("in", entering)):
        for n, items in table.items():
            items.sort(reverse=True)
            k = len(items)
            for j, (_, i) in enumerate(items):
                port[(side, n, i)] = y[n] + (0.0 if k == 1 else 0.34 * sizes[n][1] * (1 - 2 * j / (k - 1)))
    paths = []
    for i, (kind, chain) in enumerate(chains):
        u, v = chain[0], chain[-1]
        segs = []
        if where[u] == where[v]:  # an arc out into the gap right of the column and back
            a, b = (boxes[u].x + boxes[u].w / 2, port[("out", u, i)]), (boxes[v].x + boxes[v].w / 2,
                                                                         port[("out", v, -i - 1)])
            edge = right_edge[where[u]]
            bulge = 0.45 * (left_edge[where[u] + 1] - edge if where[u] + 1 < width else 0.8)
            if a[0] < edge:
                segs.append(_line(a, (edge, a[1])))
            segs.append(((edge, a[1]), (edge + bulge, a[1]), (edge + bulge, b[1]), (edge, b[1])))
            if b[0] < edge:
                segs.append(_line((edge, b[1]), b))
        else:
            runs = [((boxes[u].x + boxes[u].w / 2, port[("out", u, i)]), (right_edge[where[u]], port[("out", u, i)]))]
            runs += [((left_edge[where[d]], y[d]), (right_edge[where[d]], y[d])) for d in chain[1:-1]]
            runs.append(((left_edge[where[v]], port[("in", v, i)]), (boxes[v].x - boxes[v].w / 2, port[("in", v, i)])))
            bulge = 0.12 if kind == "bidirected" else 0.0
            for k, (start, end) in enumerate(runs):
                if k:
                    segs.append(_bend(runs[k - 1][1], start, bulge))
                if end[0] > start[0] + 1e-9:
                    segs.append(_line(start, end))
        paths.append(EdgePath(u, v, kind, tuple(segs)))
    return DagLayout(boxes, tuple(paths), "layered")


# ---------------------------------------------------------------- graphviz dot
def _reach(p: Point, towards: Point, box: Box) -> Point | None:
    """Where the ray from ``p`` in the direction ``p - towards`` first meets ``box`` (slab method), if it does."""
    dx, dy = p[0] - towards[0], p[1] - towards[1]
    lo, hi = 0.0, float("inf")
    for pc, d, c, half in ((p[0], dx, box.x, box.w / 2), (p[1], dy, box.y, box.h / 2)):
        if abs(d) < 1e-12:
            if abs(pc - c) > half:
                return None
            continue
        t1, t2 = sorted(((c - half - pc) / d, (c + half - pc) / d))
        lo, hi = max(lo, t1), min(hi, t2)
    return None if lo > hi or lo == 0.0 else (p[0] + lo * dx, p[1] + lo * dy)


def _to_boxes(segs, source: Box, target: Box, both: bool):
    """dot ends a spline where its arrowhead would begin: run it on to the box it points at (both ends for
    ``<->``), so the arrowhead drawn at the end touches the box."""
    segs = list(segs)
    end = _reach(segs[-1][3], segs[-1][2] if segs[-1][2] != segs[-1][3] else segs[-1][0], target)
    if end is not None:
        segs.append(_line(segs[-1][3], end))
    if both:
        start = _reach(segs[0][0], segs[0][1] if segs[0][1] != segs[0][0] else segs[0][3], source)
        if start is not None:
            segs.insert(0, _line(start, segs[0][0]))
    return tuple(segs)


def _dot(names, sizes, directed, bidirected) -> DagLayout | None:
    """dot's layout (``dot -Tplain``, left to right), or None when graphviz is not installed or fails."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    ids = {n: f"n{i}" for i, n in enumerate(names)}  # ids, not names, go to dot: nothing to quote
    lines = ["digraph G {", "rankdir=LR; nodesep=0.3; ranksep=0.7; splines=spline;",
             'node [shape=box, fixedsize=true, label=""];']
    lines += [f"{ids[n]} [width={sizes[n][0]:.4f}, height={sizes[n][1]:.4f}];" for n in names]
    lines += [f"{ids[u]} -> {ids[v]};" for u, v in directed]
    lines += [f"{ids[a]} -> {ids[b]} [dir=both, constraint=false];" for a, b in bidirected]
    try:
        done = subprocess.run([exe, "-Tplain"], input="\n".join(lines + ["}"]), capture_output=True, text=True,
                              timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    back = {v: k for k, v in ids.items()}
    boxes, paths, edges = {}, [], [(u, v, "directed") for u, v in directed] + [(a, b, "bidirected")
                                                                               for a, b in bidirected]
    used = [False] * len(edges)
    for row in done.stdout.splitlines():
        f = row.split()
        if f and f[0] == "node":
            boxes[back[f[1]]] = Box(float(f[2]), float(f[3]), *sizes[back[f[1]]])
        elif f and f[0] == "edge":
            u, v, n = back[f[1]], back[f[2]], int(f[3])
            pts = [(float(f[4 + 2 * j]), float(f[5 + 2 * j])) for j in range(n)]
            k = next(j for j, (a, b, _) in enumerate(edges) if not used[j] and (a, b) == (u, v))
            used[k] = True
            segs = tuple((pts[j], pts[j + 1], pts[j + 2], pts[j + 3]) for j in range(0, n - 3, 3))
            paths.append(EdgePath(u, v, edges[k][2], segs))
    if len(boxes) != len(names) or not all(used):
        return None
    paths = [EdgePath(e.source, e.target, e.kind, _to_boxes(e.segments, boxes[e.source], boxes[e.target],
                                                           e.kind == "bidirected")) for e in paths]
    return DagLayout(boxes, tuple(paths), "dot")


def dag_layout(nodes: Sequence[str], directed: Sequence[tuple[str, str]], bidirected: Sequence[tuple[str, str]] = (),
               *, engine: str = "auto") -> DagLayout:
    """Boxes and edge paths for the DAG.  ``engine``: "auto" (dot when graphviz is installed, else layered),
    "dot" (falls back to layered when graphviz is missing) or "layered"."""
    names = sorted(nodes)
    sizes = {n: box_size(n) for n in names}
    directed = sorted(set(directed))
    bidirected = sorted({tuple(sorted(e)) for e in bidirected})
    if engine in ("auto", "dot"):
        found = _dot(names, sizes, directed, bidirected)
        if found is not None:
            return found
    return _layered(names, sizes, directed, bidirected)

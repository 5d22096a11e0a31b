"""Figures for archives and reports (matplotlib + networkx; no graphviz)."""

from __future__ import annotations

import io

ROLE_COLOURS = {"treatment": "#1f77b4", "outcome": "#2ca02c", "confounder": "#ff7f0e", "instrument": "#9467bd",
                "mediator": "#d62728", "collider": "#8c564b"}


def dag_figure(plan, edges):
    """The DAG with each node coloured by its role in the plan (matplotlib Figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.DiGraph()
    for edge in edges:
        src, dst = (part.strip() for part in str(edge).split("->"))
        graph.add_edge(src, dst)
    roles = {d["node"]: d["role"] for d in plan.to_dict().get("decisions", [])}
    pos = nx.spring_layout(graph, seed=1)
    fig, ax = plt.subplots(figsize=(6, 4))
    colours = [ROLE_COLOURS.get(roles.get(n, ""), "#bbbbbb") for n in graph.nodes]
    nx.draw_networkx(graph, pos, ax=ax, node_color=colours, node_size=1600, font_size=8, arrows=True)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def to_bytes(fig, fmt: str) -> bytes:
    """Render a figure to PNG or SVG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()

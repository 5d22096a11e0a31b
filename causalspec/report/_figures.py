"""Figures for archives and reports (matplotlib + networkx; no graphviz)."""

from __future__ import annotations

import io

ROLE_COLOURS = {"treatment": "#1f77b4", "outcome": "#2ca02c", "confounder": "#ff7f0e", "instrument": "#9467bd",
                "mediator": "#d62728", "collider": "#8c564b"}


def dag_figure(plan, edges):
    """The DAG with each node coloured by its role in the plan (matplotlib Figure).

    Layered left to right by causal order (each node one column right of its latest parent), so arrows run
    left to right; ``a <-> b`` (an unobserved common cause) is drawn as a dashed curve; a legend names the roles.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    import networkx as nx

    graph, bidirected = nx.DiGraph(), []
    for edge in edges:
        text = str(edge)
        if "<->" in text:
            a, b = (part.strip() for part in text.split("<->"))
            graph.add_nodes_from([a, b])
            bidirected.append((a, b))
        else:
            src, dst = (part.strip() for part in text.split("->"))
            graph.add_edge(src, dst)
    roles = {d["node"]: d["role"] for d in plan.to_dict().get("decisions", [])}
    layers = list(nx.topological_generations(graph))
    pos = {}
    for x, layer in enumerate(layers):
        layer = sorted(layer)
        for i, node in enumerate(layer):
            pos[node] = (x, (len(layer) - 1) / 2 - i)
    width = max(6.0, 1.9 * len(layers))
    height = max(3.0, 1.1 * max(len(layer) for layer in layers))
    fig, ax = plt.subplots(figsize=(width, height))
    colours = [ROLE_COLOURS.get(roles.get(n, ""), "#bbbbbb") for n in graph.nodes]
    nx.draw_networkx_edges(graph, pos, ax=ax, arrows=True, arrowsize=14, node_size=900,
                           connectionstyle="arc3,rad=0.08", edge_color="#555555")
    if bidirected:
        nx.draw_networkx_edges(nx.DiGraph(bidirected), pos, ax=ax, arrows=True, arrowstyle="<|-|>", style="dashed",
                               connectionstyle="arc3,rad=0.4", node_size=900, edge_color="#aa3333")
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=900, edgecolors="#333333")
    for node, (x, y) in pos.items():
        ax.text(x, y - 0.32, node, ha="center", va="top", fontsize=8)
    used = sorted({roles.get(n, "") for n in graph.nodes} - {""})
    handles = [Line2D([0], [0], marker="o", ls="", markersize=9, markerfacecolor=ROLE_COLOURS.get(r, "#bbbbbb"),
                      markeredgecolor="#333333", label=r.replace("_", " ")) for r in used]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.margins(0.15)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def to_bytes(fig, fmt: str) -> bytes:
    """Render a figure to PNG or SVG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def estimate_figure(result):
    """Naive and adjusted estimates with their confidence intervals (and every adjustment set, if computed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("naive (unadjusted)", result.naive), (f"{result.plan.estimator.value} (the plan)", result.effect)]
    curve = getattr(result, "specification_curve", None)
    for r in getattr(curve, "rows", ()):
        rows.append(("{" + ", ".join(r.adjustment_set) + "}", r))
    fig, ax = plt.subplots(figsize=(6.5, 0.55 * len(rows) + 1.2))
    for i, (label, e) in enumerate(rows):
        colour = "#999999" if i == 0 else "#1f4e79"
        ax.errorbar([e.estimate], [i], xerr=[[e.estimate - e.conf_low], [e.conf_high - e.estimate]], fmt="o",
                    color=colour, capsize=3)
    ax.axvline(0, color="#bbbbbb", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([label for label, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"effect of {result.plan.treatment} on {result.plan.outcome} ({result.plan.vcov.level:.0%} CI)")
    fig.tight_layout()
    return fig

"""One self-contained HTML page for a reviewer: question, DAG, plan, naive vs adjusted, sensitivity, caveats."""

from __future__ import annotations

import base64
import html
import json


def report_html(spec, plan, result, dag_png: bytes | None = None) -> str:
    """Render the review page; images are embedded as data: URIs so the file stands alone."""
    e = html.escape
    p = plan.to_dict()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(str(spec.name))}: causal analysis report</title></head><body>",
             f"<h1>{e(str(spec.name))}</h1>",
             f"<p><strong>Question:</strong> {e(str(spec.description or ''))} "
             f"(effect of <code>{e(p['treatment'])}</code> on <code>{e(p['outcome'])}</code>)</p>"]
    if dag_png:
        uri = "data:image/png;base64," + base64.b64encode(dag_png).decode()
        parts.append(f'<h2>Causal graph</h2><img alt="DAG with roles coloured" src="{uri}">')
    parts.append(f"<h2>Plan</h2><pre>{e(plan.explain())}</pre>")
    rows = "".join(f"<tr><td>{lab}</td><td>{est.estimate:.6g}</td><td>{est.std_error:.6g}</td>"
                   f"<td>[{est.conf_low:.6g}, {est.conf_high:.6g}]</td></tr>"
                   for lab, est in (("naive", result.naive), ("adjusted", result.effect)) if est is not None)
    parts.append("<h2>Naive vs adjusted</h2><table><tr><th></th><th>estimate</th><th>std. error</th>"
                 f"<th>95% CI</th></tr>{rows}</table>")
    sens = result.sensitivity
    body = getattr(sens, "reason", None) or json.dumps(sens.to_dict(), indent=2, default=str)
    parts.append(f"<h2>Sensitivity</h2><pre>{e(str(body))}</pre>")
    items = "".join(f"<li>{e(str(a))}</li>" for a in list(p.get("assumptions", [])) + list(result.notes))
    parts.append(f"<h2>Assumptions and caveats</h2><ul>{items}</ul></body></html>")
    return "\n".join(parts) + "\n"

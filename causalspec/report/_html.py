"""One self-contained HTML page for a reviewer: question, DAG, plan, naive vs adjusted, sensitivity, caveats."""

from __future__ import annotations

from causalspec.robustness import specification_curve_plot

import base64
import html
from causalspec.report._design_figures import design_figures
from causalspec.report._event_study import event_study_plot
from causalspec.report._propensity_plots import love_plot, overlap_plot
from causalspec.report._text import headline
from causalspec.sensitivity import contour_plot, parallel_trends_plot
import io


def report_html(spec, plan, result, dag_png: bytes | None = None) -> str:
    """Render the review page; images are embedded as data: URIs so the file stands alone."""
    e = html.escape
    p = plan.to_dict()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(str(spec.name))}: causal analysis report</title></head><body>",
             f"<h1>{e(str(spec.name))}</h1>",
             f"<p><strong>Question:</strong> {e(str(spec.description or ''))} "
             f"(effect of <code>{e(p['treatment'])}</code> on <code>{e(p['outcome'])}</code>)</p>"]

    parts.append(f'<p style="font-size:1.15em"><strong>Answer:</strong> {e(headline(result))}</p>')
    for warning in getattr(result, "warnings", ()):
        parts.append(f'<p style="color:#a00"><strong>Warning:</strong> {e(str(warning))}</p>')
    for _, alt, draw in design_figures(result):  # a quasi-experiment's main picture comes first
        parts.append(f'<img alt="{e(alt)}" src="{_png(draw())}">')
    if dag_png:
        uri = "data:image/png;base64," + base64.b64encode(dag_png).decode()
        parts.append(f'<h2>Causal graph</h2><img alt="DAG with roles coloured" src="{uri}">')
    parts.append(f"<h2>Plan</h2><pre>{e(plan.explain())}</pre>")
    rows = "".join(f"<tr><td>{lab}</td><td>{est.estimate:.6g}</td><td>{est.std_error:.6g}</td>"
                   f"<td>[{est.conf_low:.6g}, {est.conf_high:.6g}]</td></tr>"
                   for lab, est in (("naive", result.naive), ("adjusted", result.effect)) if est is not None)
    parts.append("<h2>Naive vs adjusted</h2><table><tr><th></th><th>estimate</th><th>std. error</th>"
                 f"<th>95% CI</th></tr>{rows}</table>")
    if getattr(result, "extras", {}).get("event_study"):

        parts.append(f'<h2>Event study</h2><img alt="Effects by period relative to treatment" '
                     f'src="{_png(event_study_plot(result))}">')
    if getattr(result, "extras", {}).get("propensity_histogram"):

        parts.append(f'<h2>Overlap and balance</h2><img alt="Propensity scores by group" '
                     f'src="{_png(overlap_plot(result))}">')
        if result.extras.get("balance_after"):
            parts.append(f'<img alt="Love plot: standardized mean differences before and after matching" '
                         f'src="{_png(love_plot(result))}">')
    parts += _sensitivity(result)
    items = "".join(f"<li>{e(str(a))}</li>" for a in list(p.get("assumptions", [])) + list(result.notes))
    parts.append(f"<h2>Assumptions and caveats</h2><ul>{items}</ul></body></html>")
    return "\n".join(parts) + "\n"


def _png(fig) -> str:

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _sensitivity(result) -> list[str]:
    """Sensitivity bounds (with the contour plot), refutation tests and the specification curve."""
    e = html.escape
    out = ["<h2>Sensitivity</h2>"]
    sens = result.sensitivity
    if hasattr(sens, "summary_lines"):
        out.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in sens.summary_lines()) + "</ul>")
        if hasattr(sens.ovb, "rv_q"):

            out.append(f'<img alt="Contour of bias-adjusted estimates" src="{_png(contour_plot(sens.ovb))}">')
        if hasattr(getattr(sens, "parallel_trends", None), "analyses"):
            out.append('<img alt="Robust confidence sets under violations of parallel trends" '
                       f'src="{_png(parallel_trends_plot(sens.parallel_trends.analyses))}">')
    else:
        out.append(f"<p>Not computed: {e(str(getattr(sens, 'reason', '')))}</p>")
    ref = result.refutations
    if hasattr(ref, "tests"):
        rows = "".join(
            f"<tr><td>{e(t.name.replace('_', ' '))}</td><td>{e(t.verdict)}</td><td>"
            + e(", ".join(f"{k} {v:.4g}" for k, v in t.numbers.items() if v is not None) or t.reason)
            + f"</td><td>{e(t.rule)}</td></tr>" for t in ref.tests)
        out.append(f"<h3>Refutation tests (seed {ref.seed})</h3><table><tr><th>test</th><th>verdict</th>"
                   f"<th>numbers</th><th>rule</th></tr>{rows}</table>")
    curve = result.specification_curve
    if hasattr(curve, "rows"):

        out.append(f"<h3>Specification curve</h3><p>{e(curve.message)}</p>"
                   f'<img alt="Effect under every valid adjustment set" '
                   f'src="{_png(specification_curve_plot(curve))}">')
    return out

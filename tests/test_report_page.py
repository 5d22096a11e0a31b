"""report.html is a real report page (issue 18, docs/report.md): escaped, answer first, every figure inline, the
interval labelled at the plan's level, and in headless Chromium it fits 1280 px, screenshots and prints to PDF.

Chromium is Debian's ``chromium`` package; without it the browser tests skip and say why.
"""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import causalspec as cs  # noqa: E402
from causalspec.report._figures import dag_figure, to_bytes  # noqa: E402
from causalspec.report._html import _png, report_html  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = "<script>alert(1)</script>"


class Page(HTMLParser):
    """The page's images, table headers, section ids (in order) and visible text."""

    def __init__(self, text: str):
        super().__init__()
        self.images, self.headers, self.sections, self.text, self._in = [], [], [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id") or attrs.get("aria-label"))
        self._in.append(tag)

    def handle_endtag(self, tag):
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if "style" not in self._in:
            self.text.append(data)
            if self._in and self._in[-1] == "th":
                self.headers.append(data.strip())

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def _dag_png(result) -> bytes:
    fig = dag_figure(result.plan, result.spec.dag.edges)
    png = to_bytes(fig, "png")
    plt.close(fig)
    return png


@pytest.fixture(scope="module")
def at_90():
    """feature_adoption at level 0.90, its description hostile, a few refutation replications (for the table) and
    the specification curve (a figure of its own)."""
    text = (ROOT / "specs/feature_adoption.yaml").read_text()
    text = text.replace("  level: 0.95", "  level: 0.9").replace("description: >", f"description: >\n  {EVIL}")
    text += "sensitivity:\n  simulations: 5\n"
    result = cs.run(cs.loads(text), all_adjustment_sets=True)
    spec = result.spec.model_copy(update={"name": EVIL})  # past validation: the page must not trust the spec
    html = report_html(spec, result.plan, result, _dag_png(result))
    return result, html, Page(html)


def test_spec_text_is_escaped_and_the_page_runs_no_script(at_90):
    _, html, page = at_90
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # the title, the heading, the question
    assert EVIL in page.words  # shown as text, not run
    assert "<link" not in html and 'src="http' not in html  # stands alone: the stylesheet is inlined
    assert "@media print" in html and "font-family" in html


def test_interval_headers_follow_the_plan_level(at_90):
    result, html, page = at_90
    assert result.plan.vcov.level == 0.9
    assert page.headers.count("90% CI") == 2  # naive vs adjusted, and the coefficients
    # (the full text summary is left out: robustness' specification-curve table still says "95% CI" at any level)
    before_summary = Page(html.split('<section id="summary"')[0])
    assert "95%" not in before_summary.words and "95%" not in " ".join(i["alt"] for i in page.images)
    assert "90% CI" in before_summary.words.split("The answer")[1].split("Assumptions")[0]  # headline and numbers
    assert "Naive and ols estimates with their 90% confidence intervals" in [i["alt"] for i in page.images]


def test_the_answer_and_caveats_come_before_the_figures_and_the_plan(at_90):
    _, _, page = at_90
    order = ["answer", "caveats", "figures", "dag", "plan", "estimates", "sensitivity", "summary"]
    assert [s for s in page.sections if s in order] == order
    words = page.words
    assert words.index("The answer") < words.index("Estimated effect of feature_usage on spend") < words.index(
        "Verdict:") < words.index("Plan")


def test_every_image_has_alt_text_and_an_embedded_png(at_90):
    _, _, page = at_90
    alts = [i.get("alt", "") for i in page.images]
    assert len(page.images) == 4, alts  # the estimates, the DAG, the contour, the specification curve
    for img in page.images:
        assert img.get("alt", "").strip(), img
        prefix, _, payload = img["src"].partition(",")
        assert prefix == "data:image/png;base64" and base64.b64decode(payload)[:4] == b"\x89PNG"
    assert {"DAG with roles coloured", "Contour of bias-adjusted estimates",
            "Effect under every valid adjustment set"} <= set(alts)


def test_the_plan_is_a_readable_list_with_every_decision(at_90):
    result, html, page = at_90
    words = page.words
    p = result.plan.to_dict()
    for text in (p["formula"], p["naive_formula"], p["vcov"]["r_equivalent"], p["estimator_reason"],
                 "Adjustment set", "Model formula", "Naive formula", "Variance", "HC2, 90% intervals"):
        assert text in words, text
    for decision in p["decisions"]:
        assert f"{decision['node']} {decision['role'].replace('_', ' ')}" in words
        assert decision["reason"] in words
    assert "<dl class=\"plan\">" in html and "<pre>" in html.split('<dl class="plan">')[1]  # explain() collapsed
    assert "Refutation tests" in words and "placebo treatment" in words


def test_a_broken_experiment_shows_its_warning_and_a_red_verdict_in_the_answer():
    result = cs.run(ROOT / "specs/ab_test_srm.yaml", refute=False)
    html = report_html(result.spec, result.plan, result)
    answer = html.split('id="answer"')[1].split("</section>")[0]
    assert 'class="verdict verdict-bad"' in answer and "BROKEN TEST" in answer
    assert answer.count('class="callout callout-warn"') == len(result.warnings) >= 1
    assert "SAMPLE RATIO MISMATCH" in Page(answer).words
    assert "Causal graph" not in html  # no DAG drawing given: no empty section


def test_png_takes_a_figure_an_axes_or_several_axes():
    for make in (lambda: plt.subplots()[0], lambda: plt.subplots()[1], lambda: plt.subplots(1, 2)[1]):
        uri = _png(make())
        assert base64.b64decode(uri.partition(",")[2])[:4] == b"\x89PNG"
    assert not plt.get_fignums()  # each drawing is closed once embedded


# ---- headless Chromium ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pages(tmp_path_factory, at_90):
    """The matching report (refutations off, to save time) and the feature_adoption one of ``at_90`` (it has the
    widest content: the refutation table and the specification curve), each with a test-only probe copy."""
    if CHROMIUM is None:
        print("SKIP: Chromium is not installed (apt-get install chromium; .ci/run does it)")
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    tmp = tmp_path_factory.mktemp("report_page")
    psm = cs.run(ROOT / "specs/feature_psm.yaml", refute=False)
    out = {"tmp": tmp}
    for name, html in (("adoption", at_90[1]), ("psm", report_html(psm.spec, psm.plan, psm, _dag_png(psm)))):
        (tmp / f"{name}.html").write_text(html, encoding="utf-8")
        # the probe writes the page's layout width into the DOM once every image is laid out
        probe = html.replace("</body>", "<script>addEventListener('load', () => document.body.setAttribute("
                             "'data-width', document.documentElement.scrollWidth));</script></body>")
        (tmp / f"{name}_probe.html").write_text(probe, encoding="utf-8")
        out[name] = (tmp / f"{name}.html", html)
    return out


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={tmp / 'profile'}", *args], capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_the_psm_report_holds_its_matching_figures(pages):
    alts = [i["alt"] for i in Page(pages["psm"][1]).images]
    assert "Propensity scores by group" in alts
    assert "Love plot: standardized mean differences before and after matching" in alts
    assert "Naive and matching estimates with their 95% confidence intervals" in alts


def test_screenshot_at_1280_px(pages):
    shot = pages["tmp"] / "adoption.png"
    _chromium(pages["tmp"], "--window-size=1280,2000", f"--screenshot={shot}", pages["adoption"][0].as_uri())
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1280, 2000)
    assert shot.stat().st_size > 50_000  # a blank page is a few kB


def test_prints_to_pdf(pages):
    pdf = pages["tmp"] / "psm.pdf"
    _chromium(pages["tmp"], "--no-pdf-header-footer", f"--print-to-pdf={pdf}", pages["psm"][0].as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 3


@pytest.mark.parametrize("name", ["psm", "adoption"])
def test_no_horizontal_overflow_at_1280_px(pages, name):
    probe = pages["tmp"] / f"{name}_probe.html"
    proc = _chromium(pages["tmp"], "--window-size=1280,2000", "--virtual-time-budget=5000", "--dump-dom",
                     probe.as_uri())
    marker = proc.stdout.split('data-width="', 1)
    assert len(marker) == 2, proc.stdout[:500]
    assert int(marker[1].split('"', 1)[0]) <= 1280

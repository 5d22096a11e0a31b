"""Render the report.html screenshots in docs/img with headless Chromium (docs/report.md).

Run: ``python tools/render_report_screenshots.py [--pdf]`` (deterministic numbers: the specs are seeded).  It writes
``docs/img/report_feature_adoption.png`` and ``docs/img/report_feature_psm.png``, each the top of the page at
1280 px wide, and keeps each page as ``out/report_<name>.html``; ``--pdf`` also prints each page to
``out/report_<name>.pdf`` (``out/`` is not committed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import causalspec as cs  # noqa: E402
from causalspec.report._figures import dag_figure, to_bytes  # noqa: E402
from causalspec.report._html import report_html  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
REPORTS = {"feature_adoption": ("specs/feature_adoption.yaml", True),
           "feature_psm": ("specs/feature_psm.yaml", False)}  # (spec, run the refutation tests)
HEIGHT = 2200  # the screenshot shows the top of the page: answer, caveats, figures and the start of the plan
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def render(spec_path: str, refute: bool) -> str:
    """report.html for a bundled spec, as the archive writes it (the DAG drawn the same way)."""
    import matplotlib.pyplot as plt

    result = cs.run(ROOT / spec_path, refute=refute)
    fig = dag_figure(result.plan, result.spec.dag.edges)
    dag_png = to_bytes(fig, "png")
    plt.close(fig)
    return report_html(result.spec, result.plan, result, dag_png)


def chromium(*args: str, profile: str) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium).")
    subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], check=True, timeout=120,
                   capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", action="store_true", help="also print each report to out/report_<name>.pdf")
    parser.add_argument("--height", type=int, default=HEIGHT, help="screenshot height in px (width is 1280)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="causalspec-report-") as tmp:
        for name, (spec_path, refute) in REPORTS.items():
            page = Path(tmp) / f"{name}.html"
            page.write_text(render(spec_path, refute), encoding="utf-8")
            shot = OUT / f"report_{name}.png"
            chromium(f"--window-size=1280,{args.height}", f"--screenshot={shot}", page.as_uri(),
                     profile=str(Path(tmp) / "profile"))
            print(shot)
            if args.pdf:
                pdf = ROOT / "out" / f"report_{name}.pdf"
                pdf.parent.mkdir(exist_ok=True)
                chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(),
                         profile=str(Path(tmp) / "profile"))
                print(pdf)
            (ROOT / "out").mkdir(exist_ok=True)
            (ROOT / "out" / f"report_{name}.html").write_text(page.read_text(encoding="utf-8"), encoding="utf-8")


if __name__ == "__main__":
    main()

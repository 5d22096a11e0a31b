"""report.html opens in a real browser: headless Chromium renders it with no console errors.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it when missing); without it the test skips
and says why.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

import causalspec as cs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium; .ci/run does it)")
def test_report_renders_in_headless_chromium_without_console_errors(tmp_path):
    out = cs.archive("specs/feature_adoption.yaml", tmp_path / "archive")
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
         "--v=0", "--window-size=1200,3000", f"--screenshot={shot}", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not console, console
    assert shot.exists() and shot.stat().st_size > 20_000  # a blank page is a few kB

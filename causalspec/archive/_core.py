"""Write an archive folder (spec, plan, data fingerprint, environment, results, manifest) and verify it."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import platform
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import api
from .._data import read_data
from ..errors import CausalSpecError
from ..spec import dumps, loads

_DEPENDENCIES = ("numpy", "pandas", "scipy", "formulaic", "statsmodels", "linearmodels", "pydantic", "networkx",
                 "pyyaml", "matplotlib")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _blas() -> dict[str, Any]:
    """numpy's BLAS / LAPACK as numpy reports them (the library that can move the last digits)."""
    import numpy as np

    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        deps = cfg.get("Build Dependencies", {})
        return {k: {f: v.get(f) for f in ("name", "version", "openblas configuration") if v.get(f)}
                for k, v in deps.items() if k in ("blas", "lapack")}
    except TypeError:  # older numpy: no dict mode
        return {"info": str(getattr(np, "__config__", ""))[:200]}


def environment(parity: bool = False) -> dict[str, Any]:
    """Python, OS, package versions and numpy's BLAS (what can move numbers between machines); with
    ``parity``, the summary line of the shipped R parity cases run on this machine."""
    from .. import __version__

    env = {"python": sys.version.split()[0], "os": platform.platform(), "machine": platform.machine(),
           "causalspec": __version__, "packages": {n: _version(n) for n in _DEPENDENCIES}, "blas": _blas()}
    if parity:
        env["parity"] = _parity_line()
    return env


@functools.lru_cache(maxsize=1)
def _parity_line() -> str:
    """The shipped R cases run once per process (about a second), for every archive written."""
    from ..parity import run_parity

    return run_parity().summary_line()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def archive(spec: Any, directory: "str | Path", *, include_data: bool = False) -> Path:
    """Run ``spec`` (a Spec, a spec path, or a Result from ``cs.run``) and write its archive into ``directory``
    (a .zip when it ends in .zip)."""
    if str(directory).endswith(".zip"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = archive(spec, tmp, include_data=include_data)
            with zipfile.ZipFile(directory, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(folder.iterdir()):
                    zf.write(path, path.name)
        return Path(directory)
    if hasattr(spec, "plan") and hasattr(spec, "effect"):  # a Result from cs.run: archive the spec behind it
        if spec.spec is None:
            raise CausalSpecError("this result was not produced by causalspec.run from a spec, so there is no spec "
                                  "to archive.", fix="Pass the spec (or spec file) to causalspec.archive.")
        spec = spec.spec
    the_spec = api.load(spec) if not hasattr(spec, "model_dump") else spec
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    frame, source = read_data(the_spec.data, the_spec.origin)
    the_plan = api.plan(the_spec)
    result = api.robustness(api.fit(the_plan, frame), frame)
    (out / "spec.yaml").write_text(dumps(the_spec, "yaml"))
    (out / "plan.json").write_text(the_plan.to_json())
    data_info = {"source": source.label, "sha256": source.sha256, "rows": source.rows,
                 "columns": {c: str(t) for c, t in frame.dtypes.items()}, "included": include_data}
    if include_data:
        frame.to_csv(out / "data.csv", index=False)
        data_info["file"] = "data.csv"
        data_info["file_sha256"] = _sha(out / "data.csv")  # the copy's bytes differ from the original's
    elif not source.label.startswith("bundled:") and source.label != "DataFrame":
        data_info["path"] = str(Path(the_spec.origin or ".").resolve() / source.label)
    (out / "data.json").write_text(json.dumps(data_info, indent=2) + "\n")
    (out / "environment.json").write_text(json.dumps(environment(parity=True), indent=2) + "\n")
    _write_tables(result, out)
    (out / "results.json").write_text(json.dumps(result.to_dict(), indent=2, allow_nan=True) + "\n")
    _write_report(the_spec, the_plan, result, out)
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "manifest.json")
    (out / "manifest.json").write_text(json.dumps({"files": {n: _sha(out / n) for n in files}}, indent=2) + "\n")
    return out


def unpack(zip_path: "str | Path", target: "str | Path") -> Path:
    """Extract an archive zip, refusing any member whose path would land outside ``target``."""
    root = Path(target).resolve()
    with zipfile.ZipFile(zip_path) as zf:
        for member in zf.namelist():
            dest = (root / member).resolve()
            if root != dest and root not in dest.parents:
                raise CausalSpecError(f"the archive member {member!r} would be written outside {str(root)!r}.",
                                      fix="Do not use this zip: it was not written by causalspec.")
        zf.extractall(root)
    return root


def _write_tables(result, out: Path) -> None:
    from ..report._tables import etable

    for fmt, ext in (("markdown", "md"), ("latex", "tex"), ("html", "html")):
        (out / f"table.{ext}").write_text(etable([result], format=fmt))


def _write_report(spec, plan, result, out: Path) -> None:
    import matplotlib.pyplot as plt

    from ..report._event_study import event_study_plot
    from ..report._figures import dag_figure, estimate_figure, to_bytes
    from ..report._html import report_html
    from ..sensitivity import contour_plot

    figures = {"estimates": estimate_figure(result)}
    if hasattr(getattr(result.sensitivity, "ovb", None), "rv_q"):
        figures["sensitivity_contour"] = contour_plot(result.sensitivity.ovb)
    if result.extras.get("event_study"):
        figures["event_study"] = event_study_plot(result)
    if result.extras.get("propensity_histogram"):
        from ..report import love_plot, overlap_plot

        figures["overlap"] = overlap_plot(result)
        if result.extras.get("balance_after"):
            figures["love_plot"] = love_plot(result)
    for name, fig in figures.items():
        (out / f"{name}.png").write_bytes(to_bytes(fig, "png"))
        (out / f"{name}.svg").write_bytes(to_bytes(fig, "svg"))
        plt.close(fig)

    png = None
    edges = getattr(getattr(spec, "dag", None), "edges", None)
    if edges:
        fig = dag_figure(plan, edges)
        png = to_bytes(fig, "png")
        (out / "dag.png").write_bytes(png)
        (out / "dag.svg").write_bytes(to_bytes(fig, "svg"))
    (out / "report.html").write_text(report_html(spec, plan, result, png))


@dataclass
class VerifyReport:
    """Outcome of :func:`verify`; ``exit_code`` 0 identical, 4 numbers differ, 5 tampered, 6 data changed.

    (1-3 are the CLI's usual error / usage / internal codes.)"""

    tampered: list[str] = field(default_factory=list)
    data_changed: bool = False
    environment_changed: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.tampered:
            return 5
        if self.data_changed:
            return 6
        return 4 if self.differences else 0


def _compare(a: Any, b: Any, where: str, rtol: float, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{where}.{k}: present in only one")
            else:
                _compare(a[k], b[k], f"{where}.{k}", rtol, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _compare(x, y, f"{where}[{i}]", rtol, out)
    elif isinstance(a, float) and isinstance(b, (int, float)):
        if not (math.isnan(a) and math.isnan(b)) and abs(a - b) > rtol * max(abs(a), abs(b), 1e-300):
            out.append(f"{where}: archived {a!r}, now {b!r} (relative {abs(a - b) / max(abs(a), 1e-300):.3g})")
    elif a != b:
        out.append(f"{where}: archived {a!r}, now {b!r}")


def verify(directory: "str | Path", *, data: "str | Path | None" = None, rtol: float = 1e-10) -> VerifyReport:
    """Check the manifest, re-read the data, re-run the archived spec and compare results field by field."""
    if str(directory).endswith(".zip"):
        with tempfile.TemporaryDirectory() as tmp:
            unpack(directory, tmp)
            return verify(tmp, data=data, rtol=rtol)
    folder = Path(directory)
    report = VerifyReport()
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        path = folder / name
        if Path(name).name != name or not path.is_file() or _sha(path) != digest:
            report.tampered.append(name)
    if report.tampered:
        return report
    env = json.loads((folder / "environment.json").read_text())
    env.pop("parity", None)  # a record of the archiving machine's check, not part of the environment's identity
    _compare(env, environment(), "environment", 0.0, report.environment_changed)
    info = json.loads((folder / "data.json").read_text())
    spec = loads((folder / "spec.yaml").read_text(), "yaml")
    if data is not None:
        frame, source = read_data(Path(data), None, loc="--data")
    elif info.get("file"):
        frame, source = read_data(folder / info["file"], None)
    elif info["source"].startswith("bundled:"):
        frame, source = read_data(info["source"].split(":", 1)[1], None)
    else:
        frame, source = read_data(Path(info.get("path", info["source"])), None)
    if source.sha256 not in (info["sha256"], info.get("file_sha256")):
        report.data_changed = True
    result = api.robustness(api.fit(api.plan(spec), frame), frame)
    now = json.loads(json.dumps(result.to_dict(), allow_nan=True))
    before = json.loads((folder / "results.json").read_text())
    before.pop("data", None), now.pop("data", None)
    _compare(before, now, "results", rtol, report.differences)
    return report

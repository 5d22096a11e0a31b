"""Write an archive (spec, plan, data fingerprint, environment, results, tables, report, figures, manifest).

The files are rendered by :func:`contents` and :func:`figure_makers`, which ``verify`` calls again to re-derive
what it compares, and written into a fresh staging folder that is renamed into place (``_write``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from causalspec import api
from causalspec._data import as_pandas, read_data
from causalspec.errors import CausalSpecError, Problem
from causalspec.archive._engine_data import engine_data
from causalspec.archive._read import MAX_BYTES, MAX_FILES, read_archive
from causalspec.archive._write import check_target, discard, publish_dir, publish_zip, staging_dir, target_path
from causalspec.spec import dumps
from causalspec._version import __version__
from causalspec.parity import run_parity
from causalspec.report._design_figures import DESIGN_FIGURES, design_figures
from causalspec.report import love_plot, overlap_plot
from causalspec.report._event_study import event_study_plot
from causalspec.report._figures import dag_figure, estimate_figure
from causalspec.report._figures import figure_of, to_bytes
from causalspec.report._html import report_html
from causalspec.report._tables import etable
from causalspec.sensitivity import contour_plot, parallel_trends_plot
import numpy as np
import pandas as pd

_DEPENDENCIES = ("numpy", "pandas", "scipy", "formulaic", "statsmodels", "linearmodels", "pydantic", "networkx",
                 "pyyaml", "matplotlib")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _blas() -> dict[str, Any]:
    """numpy's BLAS / LAPACK as numpy reports them (the library that can move the last digits)."""

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

    env = {"python": sys.version.split()[0], "os": platform.platform(), "machine": platform.machine(),
           "causalspec": __version__, "packages": {n: _version(n) for n in _DEPENDENCIES}, "blas": _blas()}
    if parity:
        env["parity"] = _parity_line()
    return env


@functools.lru_cache(maxsize=1)
def _parity_line() -> str:
    """The shipped R cases run once per process (about a second), for every archive written."""

    return run_parity().summary_line()


#: The files every archive holds besides the figures (and data.csv with include_data); verify requires each.
CORE_FILES = ("manifest.json", "spec.yaml", "plan.json", "data.json", "environment.json", "results.json",
              "report.html", "table.md", "table.tex", "table.html")
DATA_FILE = "data.csv"
#: Every figure an archive may hold (as NAME.png and NAME.svg); which ones depends on the design.
FIGURES = ("estimates", "sensitivity_contour", "event_study", "parallel_trends", "overlap", "love_plot", "dag",
           *dict.fromkeys(name for figures in DESIGN_FIGURES.values() for name, _, _ in figures))
_TABLES = (("markdown", "md"), ("latex", "tex"), ("html", "html"))
_EMBEDDED_PNG = re.compile(rb"data:image/png;base64,[A-Za-z0-9+/=]*")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive(spec: Any, directory: "str | os.PathLike[str]", *, include_data: bool = False,
            data: Any = None, force: bool = False) -> Path:
    """Run ``spec`` and write its archive to ``directory`` (a .zip when the name ends in .zip).

    Parameters
    ----------
    spec : Spec, path or Result
        What to archive; a Result from ``cs.run`` archives the spec behind it.
    directory : path
        The archive to create.  It must not exist (an empty folder is fine) unless ``force``, which replaces an
        earlier archive -- a folder holding ``manifest.json``, a .zip file, or a symlink (the link itself, never
        what it points to).  A folder of other files is never replaced.  The archive is written to a staging
        folder beside ``directory`` and renamed into place, so a reader never sees half an archive.
    include_data : bool
        Copy the analysed data into the archive as ``data.csv``.
    data : DataFrame or path, optional
        The data to analyse instead of the spec's own (what ``run --data`` used); recorded in ``data.json``.
    force : bool
        Replace an existing archive at ``directory``.

    Raises
    ------
    ArchiveExistsError
        ``directory`` exists and may not be replaced.

    Examples
    --------
    >>> import causalspec as cs
    >>> cs.archive("specs/ab_test.yaml", "out/ab_test")          # doctest: +SKIP
    PosixPath('/.../out/ab_test')
    """
    check_target(directory, force=force)  # before the analysis: a refused target costs nothing
    expected_source = None
    if hasattr(spec, "plan") and hasattr(spec, "effect"):  # a Result from cs.run: archive the spec behind it
        if spec.spec is None:
            raise CausalSpecError("this result was not produced by causalspec.run from a spec, so there is no spec "
                                  "to archive.", fix="Pass the spec (or spec file) to causalspec.archive.")
        expected_source = getattr(spec, "data_source", "") or None
        spec = spec.spec
    the_spec = api.load(spec) if not hasattr(spec, "model_dump") else spec
    if data is not None and not isinstance(data, (str, os.PathLike)) and \
            type(data).__module__.split(".")[0] not in ("duckdb", "_duckdb", "pyspark"):
        data = as_pandas(data)  # a Polars or Arrow table: analysed as the pandas frame it converts to
    frame, source, data_info = engine_data(the_spec, data, include_data=include_data) or analysed_data(the_spec, data)
    if data is None and expected_source and source.label != expected_source:
        raise CausalSpecError(
            f"this result was fitted on {expected_source!r}, not on the spec's data {source.label!r}; archiving "
            "it would record a different sample.", loc="data",
            fix="Pass the data the result used: causalspec.archive(result, directory, data=...).")
    the_plan = api.plan(the_spec)
    result = api.fit(the_plan, frame)
    if isinstance(frame, pd.DataFrame):  # on an engine nothing row-level runs after the fit (docs/scale.md)
        result = api.robustness(result, frame)
    files = contents(the_spec, the_plan, result, data_info, include_data=include_data, frame=frame)
    zip_out = target_path(directory).name.lower().endswith(".zip")
    staged = Path(tempfile.mkdtemp(prefix="causalspec-archive-")) if zip_out else staging_dir(target_path(directory))
    try:
        for name, content in files.items():
            with open(staged / name, "xb") as fh:  # "x": the staging folder is new, nothing may be there
                fh.write(content)
        if zip_out:
            return publish_zip(staged, directory, force=force)
        return publish_dir(staged, directory, force=force)
    finally:
        discard(staged)  # after a successful rename the staging name no longer exists


def analysed_data(the_spec, data: Any = None):
    """(frame, source, data.json dict) for the data the analysis uses: ``data`` if given, else the spec's."""

    if data is None:
        frame, source = read_data(the_spec.data, the_spec.origin)
        path = None
        if not source.label.startswith("bundled:") and source.label != "DataFrame":
            path = str(Path(the_spec.origin or ".").resolve() / source.label)
    elif not isinstance(data, (str, os.PathLike)):
        frame, source = read_data(data, None, loc="data")
        path = None
    else:
        frame, source = read_data(Path(data), None, loc="--data")
        path = str(Path(data).resolve())
    info: dict[str, Any] = {"source": source.label, "sha256": source.sha256, "rows": source.rows,
                            "columns": {str(c): str(t) for c, t in frame.dtypes.items()}, "included": False,
                            "replaces_spec_data": data is not None}
    if path is not None:
        info["path"] = path
    return frame, source, info


def figure_makers(spec, plan, result) -> "dict[str, Callable[[], Any]]":
    """The figures this result's archive holds, by name, each as a function drawing it.

    ``verify`` uses the names (not the drawings: PNG bytes depend on the matplotlib version) to check that the
    archive holds exactly these figures."""

    makers: dict[str, Callable[[], Any]] = {"estimates": lambda: estimate_figure(result)}
    for name, _, draw in design_figures(result):  # the design's main pictures (RD plot, ...)
        makers[name] = draw
    if hasattr(getattr(result.sensitivity, "ovb", None), "rv_q"):
        makers["sensitivity_contour"] = lambda: contour_plot(result.sensitivity.ovb)
    if result.extras.get("event_study"):
        makers["event_study"] = lambda: event_study_plot(result)
    if hasattr(getattr(result.sensitivity, "parallel_trends", None), "analyses"):
        makers["parallel_trends"] = lambda: parallel_trends_plot(result.sensitivity.parallel_trends.analyses)
    if result.extras.get("propensity_histogram"):

        makers["overlap"] = lambda: overlap_plot(result)
        if result.extras.get("balance_after"):
            makers["love_plot"] = lambda: love_plot(result)
    edges = getattr(getattr(spec, "dag", None), "edges", None)
    if edges:
        makers["dag"] = lambda: dag_figure(plan, edges)
    return makers


def rendered_text(spec, plan, result, dag_png: "bytes | None") -> dict[str, bytes]:
    """The tables and report.html, as bytes (what verify re-renders and compares)."""

    out = {f"table.{ext}": etable([result], format=fmt).encode() for fmt, ext in _TABLES}
    out["report.html"] = report_html(spec, plan, result, dag_png).encode()
    return out


def without_images(report: bytes) -> bytes:
    """report.html with its embedded PNGs blanked: their bytes depend on the matplotlib version."""
    return _EMBEDDED_PNG.sub(b"data:image/png;base64,", report)


def contents(spec, plan, result, data_info: dict, *, include_data: bool = False, frame=None) -> dict[str, bytes]:
    """Every file of the archive, by name, manifest last."""
    import matplotlib.pyplot as plt

    data_info = dict(data_info)
    files: dict[str, bytes] = {"spec.yaml": dumps(spec, "yaml").encode(), "plan.json": plan.to_json().encode()}
    if include_data:
        files[DATA_FILE] = frame.to_csv(index=False).encode()
        data_info.pop("path", None)
        data_info.update(included=True, file=DATA_FILE, file_sha256=sha256(files[DATA_FILE]))
    files["data.json"] = (json.dumps(data_info, indent=2) + "\n").encode()
    files["environment.json"] = (json.dumps(environment(parity=True), indent=2) + "\n").encode()
    files["results.json"] = (json.dumps(result.to_dict(), indent=2, allow_nan=True) + "\n").encode()
    dag_png = None
    for name, make in figure_makers(spec, plan, result).items():
        fig = make()
        files[f"{name}.png"] = to_bytes(fig, "png")
        files[f"{name}.svg"] = to_bytes(fig, "svg")
        plt.close(figure_of(fig))
        if name == "dag":
            dag_png = files["dag.png"]
    files.update(rendered_text(spec, plan, result, dag_png))
    manifest = {"files": {n: sha256(files[n]) for n in sorted(files)}}
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files


def unpack(zip_path: "str | os.PathLike[str]", target: "str | os.PathLike[str]", *, max_files: int = MAX_FILES,
           max_bytes: int = MAX_BYTES) -> Path:
    """Extract an archive zip into the new folder ``target`` (flat regular files only, within the limits).

    Every member is checked before anything is written (see :func:`causalspec.archive._read.read_archive`):
    a path escaping the folder, an absolute name, a symlink member or a zip bomb is refused."""
    if Path(zip_path).is_dir():
        raise CausalSpecError(Problem("", "is a folder, not a zip.", fix="Give a .zip archive.", file=str(zip_path)))
    arc = read_archive(zip_path, max_files=max_files, max_bytes=max_bytes)
    root = target_path(target)
    staged = staging_dir(root)
    try:
        for name, content in arc.files.items():
            with open(staged / name, "xb") as fh:
                fh.write(content)
        return publish_dir(staged, root)
    finally:
        discard(staged)

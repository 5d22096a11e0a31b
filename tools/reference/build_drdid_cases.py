"""DRDID's documented numbers as parity cases (tests/parity/cases/drdid_*.json) and the data they use.

    python tools/reference/build_drdid_cases.py DRDID_GIT_DIR [--out ROOT]

DRDID_GIT_DIR is a clone of github.com/pedrohcgs/DRDID (a bare clone works: files are read with ``git show``).
Needs git and Debian's R (``Rscript``, base R only: DRDID itself is not installed).  The numbers are not
computed here: they are the ones DRDID's pkgdown reference pages print (``docs/reference/*.html``, the output
of each function's roxygen example), parsed from the HTML at the pinned commit.

Panel case (drdid_nsw_panel): the examples of drdid / ipwdid / ordid and of the five ``*_panel`` functions run
on the Lalonde-CPS sample (``subset(nsw_long, treated == 0 | sample == 2)``) reduced by ``set.seed(123);
sample(unique(id), 5000)``.  R 4.2.2 draws that sample here (sample.kind "Rejection", R >= 3.6); the data file
holds those 5000 units' rows of DRDID's nsw_long, every column, in nsw_long's order.

Repeated cross-sections (drdid_simrc_rc): the examples of the five ``*_rc`` functions on DRDID's simulated
``sim_rc`` (DRDID documents no repeated cross-section numbers on the NSW data).  Written only with --with-rc.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import io
import json
import re
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "654531e36f840da7780b4a5ae74f42a09a96c1e5"  # DRDID master, 2025-12-03 (DESCRIPTION: 1.2.3)
SITE_COMMIT = "f439aac"  # "update page", 2024-06-19: the last rebuild of docs/reference (DESCRIPTION: 1.0.7)
# the low-level functions' examples pass covariates without an intercept column; DRDID 1.0.7 added one (its
# int.cov is cbind(1, covariates)); DRDID 1.2.3 uses the matrix as given, and its wrappers build it by
# model.matrix(xformla), with the intercept: the same model as causalspec's.
INTERCEPT_NOTE = ("the *_panel / *_rc example pages pass the covariates without an intercept column; DRDID 1.0.7 added "
                  "one (cbind(1, covariates)), so they fit the model drdid / ipwdid / ordid fit with xformla, which "
                  "is the model causalspec fits")
COVARIATES = ["age", "educ", "black", "married", "nodegree", "hisp", "re74"]

PANEL = {  # method: (page, R call on the page)
    "imp": ("docs/reference/drdid.html", 'drdid(yname = "re", tname = "year", idname = "id", dname = '
            '"experimental", xformla = ~age + educ + black + married + nodegree + hisp + re74, data = '
            'eval_lalonde_cps, panel = TRUE)'),
    "trad": ("docs/reference/drdid.html", 'drdid(..., panel = TRUE, estMethod = "trad")'),
    "ipw": ("docs/reference/ipw_did_panel.html", "ipw_did_panel(y1 = re78, y0 = re75, D = experimental, "
            "covariates = covX)  # DRDID::ipwdid(normalized = FALSE) calls it"),
    "std_ipw": ("docs/reference/ipwdid.html", 'ipwdid(yname = "re", tname = "year", idname = "id", dname = '
                '"experimental", xformla = ~age + ... + re74, data = eval_lalonde_cps, panel = TRUE)'),
    "reg": ("docs/reference/ordid.html", 'ordid(yname = "re", tname = "year", idname = "id", dname = '
            '"experimental", xformla = ~age + ... + re74, data = eval_lalonde_cps, panel = TRUE)'),
}
ALSO = {"imp": "docs/reference/drdid_imp_panel.html", "trad": "docs/reference/drdid_panel.html",
        "std_ipw": "docs/reference/std_ipw_did_panel.html", "reg": "docs/reference/reg_did_panel.html"}
RC = {"imp": "docs/reference/drdid_imp_rc.html", "trad": "docs/reference/drdid_rc.html",
      "ipw": "docs/reference/ipw_did_rc.html", "std_ipw": "docs/reference/std_ipw_did_rc.html",
      "reg": "docs/reference/reg_did_rc.html"}


def git_show(repo: Path, path: str, commit: str = COMMIT) -> bytes:
    return subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout


def printed_tables(page: str) -> list[tuple[str, str]]:
    """The (ATT, Std. Error) pairs each print.drdid output on the page shows, as printed (round(x, 4))."""
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    out = []
    for m in re.finditer(r"ATT\s+Std\. Error.*\n#>\s*(-?[0-9.]+)\s+(-?[0-9.]+)", text):
        out.append((m.group(1), m.group(2)))
    return out


def shortest(value: str) -> str:
    """A number R wrote with %.17g as the shortest decimal that reads back as the same double."""
    if value == "NA":
        return value
    f = float(value)
    return str(int(f)) if f.is_integer() and abs(f) < 2 ** 53 else repr(f)


def r_export(repo: Path, name: str, sample_ids: bool) -> tuple[list[list[str]], list[int]]:
    """DRDID's data set ``name`` as exact text, and (for nsw_long) the example's 5000 sampled unit ids."""
    with tempfile.TemporaryDirectory() as tmp:
        rda = Path(tmp) / f"{name}.rda"
        rda.write_bytes(git_show(repo, f"data/{name}.rda"))
        script = (f'load("{rda}"); d <- {name}; for (v in names(d)) attributes(d[[v]]) <- NULL; '
                  'o <- as.data.frame(lapply(d, function(x) ifelse(is.na(x), NA, sprintf("%.17g", x)))); '
                  f'write.csv(o, "{tmp}/raw.csv", row.names = FALSE, quote = FALSE); ')
        if sample_ids:
            script += ('e <- subset(d, d$treated == 0 | d$sample == 2); set.seed(123); '
                       f'writeLines(as.character(sample(unique(e$id), 5000)), "{tmp}/ids.txt")')
        subprocess.run(["Rscript", "-e", script], check=True)
        rows = list(csv.reader(open(Path(tmp) / "raw.csv")))
        ids = [int(v) for v in (Path(tmp) / "ids.txt").read_text().split()] if sample_ids else []
    return [rows[0]] + [[shortest(v) for v in r] for r in rows[1:]], ids


def write_csv(rows: list[list[str]], path: Path) -> tuple[str, int]:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    raw = buf.getvalue().encode()
    path.write_bytes(raw)
    return hashlib.sha256(raw).hexdigest(), len(rows) - 1


def r_version() -> str:
    return subprocess.run(["Rscript", "-e", "cat(R.version.string)"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _numbers(repo: Path, page: str, which: int) -> dict:
    table = printed_tables(git_show(repo, page).decode())[which]
    return {"att": float(table[0]), "se": float(table[1]), "printed": list(table), "page": page}


def panel_case(repo: Path, out: Path) -> None:
    rows, ids = r_export(repo, "nsw_long", sample_ids=True)
    keep = set(ids)
    sha, n = write_csv([rows[0]] + [r for r in rows[1:] if int(r[0]) in keep], out / "data" / "nsw_long.csv")
    methods = {}
    for method, (page, call) in PANEL.items():
        which = 1 if method == "trad" else 0  # drdid.html prints imp first, then trad
        methods[method] = {**_numbers(repo, page, which), "r_call": call}
        if method in ALSO:  # the low-level function's own page prints the same table
            assert _numbers(repo, ALSO[method], 0)["printed"] == methods[method]["printed"], method
            methods[method]["also_on"] = ALSO[method]
    case = {
        "id": "drdid_nsw_panel", "family": "did",
        "description": "Two-period DR-DiD on panel data: DRDID's documented numbers for the five estimators (improved "
                       "and traditional doubly robust, IPW, standardized IPW, outcome regression) on the Lalonde "
                       "NSW-CPS sample of its examples (5000 units, experimental controls against CPS: a "
                       "falsification exercise whose true effect is zero)",
        "data": {"file": "data/nsw_long.csv", "rows": n, "sha256": sha, "origin": {
            "package": "DRDID (github.com/pedrohcgs/DRDID)", "commit": COMMIT, "dataset": "nsw_long (data/nsw_long.rda)",
            "subset": "eval_lalonde_cps <- subset(nsw_long, nsw_long$treated == 0 | nsw_long$sample == 2); "
                      "set.seed(123); unit_random <- sample(unique(eval_lalonde_cps$id), 5000); the rows of "
                      "nsw_long whose id is in unit_random (all 15 columns, nsw_long's order)",
            "sampled_with": r_version() + ", sample.kind = \"Rejection\"",
            "exported": "load(); sprintf('%.17g'), rewritten as the shortest decimal that reads back as the same "
                        "double (exact)"}},
        "source": {"repo": "pedrohcgs/DRDID", "commit": COMMIT, "site_built_at": SITE_COMMIT,
                   "printed_precision": "round(x, 4) (print.drdid)", "tool": "tools/reference/build_drdid_cases.py",
                   "note": INTERCEPT_NOTE},
        "r_versions": {"DRDID": f"1.0.7 (the pkgdown site was last built at commit {SITE_COMMIT}, 2024-06-19)"},
        "model": {"yname": "re", "tname": "year", "idname": "id", "dname": "experimental",
                  "xformla": "~ " + " + ".join(COVARIATES), "panel": True},
        "causalspec": {"treatment": "experimental", "outcome": "re", "covariates": COVARIATES,
                       "design": {"type": "did", "estimator": "drdid", "unit": "id", "time": "year", "panel": True}},
        "expected": {"n": 5000, "methods": methods},
        "se_convention": {
            "published": "stats::sd(inf.func) / sqrt(n) (DRDID <= 1.2.2)",
            "causalspec": "stats::sd(inf.func) * sqrt(n - 1) / n (DRDID 1.2.3, NEWS: 'Unify degree of freedom "
                          "adjustments in analytical std errors')",
            "compare": "causalspec's se * sqrt(n / (n - 1)) with the published se"},
        "known_differences": {f"{m}.se": (
            "DRDID 1.0.7 took the logit's inverse Hessian from vcov(glm) * n, whose working weights are those of "
            "glm's last IRLS iteration (the coefficients before its final update); DRDID 1.2.3 and causalspec use "
            "chol2inv(chol(X'WX)) * n at the fitted scores. Here the two differ by one unit in the fourth decimal "
            f"(causalspec: {got}, relative error {err} against the printed {printed}); with R 4.2.2's "
            f"vcov(glm(D ~ -1 + X, family = binomial)) in the same formula the printed digits are reproduced "
            f"(relative error {legacy})") for m, got, err, printed, legacy in (
                ("trad", "692.97389", "1.2e-7", "692.9738", "1.7e-8"),
                ("std_ipw", "687.84937", "9.7e-8", "687.8493", "4.4e-9"))},
        "tolerance": {"rule": "half a unit of the last printed digit: |got - printed| <= 0.5e-4"},
    }
    (out / "cases" / "drdid_nsw_panel.json").write_text(json.dumps(case, indent=2) + "\n")


def rc_case(repo: Path, out: Path) -> None:
    rows, _ = r_export(repo, "sim_rc", sample_ids=False)
    sha, n = write_csv(rows, out / "data" / "sim_rc.csv")
    methods = {m: {**_numbers(repo, page, 0), "r_call": f"{Path(page).stem}(y = sim_rc$y, post = sim_rc$post, "
                   "D = sim_rc$d, covariates = as.matrix(sim_rc[, 5:8]))"} for m, page in RC.items()}
    case = {
        "id": "drdid_simrc_rc", "family": "did",
        "description": "Two-period DR-DiD with repeated cross-sections: DRDID's documented numbers for the five "
                       "estimators on its simulated sim_rc data",
        "data": {"file": "data/sim_rc.csv", "rows": n, "sha256": sha, "origin": {
            "package": "DRDID (github.com/pedrohcgs/DRDID)", "commit": COMMIT, "dataset": "sim_rc (data/sim_rc.rda)",
            "exported": "load(); sprintf('%.17g'), rewritten as the shortest round-trip decimal (exact)"}},
        "source": {"repo": "pedrohcgs/DRDID", "commit": COMMIT, "site_built_at": SITE_COMMIT,
                   "printed_precision": "round(x, 4) (print.drdid)", "tool": "tools/reference/build_drdid_cases.py",
                   "note": INTERCEPT_NOTE},
        "r_versions": {"DRDID": f"1.0.7 (the pkgdown site was last built at commit {SITE_COMMIT}, 2024-06-19)"},
        "model": {"y": "y", "post": "post", "D": "d", "covariates": "x1 + x2 + x3 + x4 (an intercept is added)"},
        "causalspec": {"treatment": "d", "outcome": "y", "covariates": ["x1", "x2", "x3", "x4"],
                       "design": {"type": "did", "estimator": "drdid", "post": "post", "panel": False}},
        "expected": {"n": n, "methods": methods},
        "se_convention": {"published": "stats::sd(inf.func) / sqrt(n) (DRDID <= 1.2.2)",
                          "causalspec": "stats::sd(inf.func) * sqrt(n - 1) / n (DRDID 1.2.3)",
                          "compare": "causalspec's se * sqrt(n / (n - 1)) with the published se"},
        "known_differences": {},
        "tolerance": {"rule": "half a unit of the last printed digit: |got - printed| <= 0.5e-4"},
    }
    (out / "cases" / "drdid_simrc_rc.json").write_text(json.dumps(case, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("drdid", type=Path, help="a git clone of pedrohcgs/DRDID (bare is fine)")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "parity", help="where cases/ and data/ are")
    ap.add_argument("--with-rc", action="store_true", help="also the repeated cross-section case on sim_rc")
    args = ap.parse_args()
    (args.out / "cases").mkdir(parents=True, exist_ok=True)
    (args.out / "data").mkdir(parents=True, exist_ok=True)
    panel_case(args.drdid, args.out)
    if args.with_rc:
        rc_case(args.drdid, args.out)


if __name__ == "__main__":
    main()

"""Build the teffects parity cases from the Stata results statsmodels ships (run by hand, never at test time).

Source: statsmodels' ``statsmodels/treatment/tests/results/results_teffects.py`` (Stata's ``r(table)`` for
``teffects ra | ipw | ipwra | aipw [, wnls]`` on Cattaneo's (2010) birth-weight data) and ``cataneo2.csv``
beside it.  Get them without installing statsmodels::

    pip download statsmodels --no-deps -d /tmp/sm && cd /tmp/sm && unzip -q statsmodels-*.whl 'statsmodels/treatment/*'
    python tools/reference/build_teffects_cases.py --source /tmp/sm

The results file is read with ``ast`` (never imported or executed): each number keeps the text statsmodels
printed, from which its precision is recorded.  Writes ``tests/parity/data/cattaneo2.csv`` (the columns the
models use, values copied as text) and ``tests/parity/cases/teffects_cattaneo2_<method>.json``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "parity"
RESULTS = Path("statsmodels/treatment/tests/results")
COLUMNS = ["bweight", "mbsmoke_", "prenatal1_", "mmarried_", "mage", "mage2", "fbaby_", "medu"]
STAT_COLS = ["b", "se", "z", "pvalue", "ll", "ul", "df", "crit", "eform"]

OUTCOME = "bweight prenatal1 mmarried mage fbaby"
TREATMENT = "mbsmoke mmarried c.mage##c.mage fbaby medu, probit"
OME = ["prenatal1", "mmarried", "mage", "fbaby", "_cons"]
TME = ["mmarried", "mage", "c.mage#c.mage", "fbaby", "medu", "_cons"]
METHODS = {  # case suffix: (statsmodels' Bunch, label, Stata command without the estimand option, blocks)
    "ra": ("results_ra", "RA", f"teffects ra ({OUTCOME}) (mbsmoke)", ("OME0", "OME1")),
    "ipw": ("results_ipw", "IPW", f"teffects ipw (bweight) ({TREATMENT})", ("TME1",)),
    "ipwra": ("results_ipwra", "IPW-RA", f"teffects ipwra ({OUTCOME}) ({TREATMENT})", ("OME0", "OME1", "TME1")),
    "aipw": ("results_aipw", "AIPW", f"teffects aipw ({OUTCOME}) ({TREATMENT})", ("OME0", "OME1", "TME1")),
    "aipw_wls": ("results_aipw_wls", "AIPW-WLS", f"teffects aipw ({OUTCOME}) ({TREATMENT}), wnls",
                 ("OME0", "OME1", "TME1")),
}


def _literal(node: ast.AST, source: str) -> str | None:
    """The printed text of one array element (None for np.nan)."""
    if isinstance(node, ast.Attribute):
        return None
    text = ast.get_source_segment(source, node)
    float(text)  # a number literal, possibly negated
    return text


def parse_results(path: Path) -> dict[str, dict[str, list]]:
    """``{Bunch name: {"table": [[text...]...], "table_t": ...}}`` in file order, without executing the file."""
    source = path.read_text()
    current: dict[str, object] = {}
    out: dict[str, dict[str, list]] = {}
    for stmt in ast.parse(source).body:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            continue
        name, value = stmt.targets[0].id, stmt.value
        if name in ("table", "table_t"):  # np.array([...]).reshape(r, 9)
            rows, cols = (int(a.value) for a in value.args)
            elements = [_literal(e, source) for e in value.func.value.args[0].elts]
            assert len(elements) == rows * cols == rows * 9
            current[name] = [elements[i * 9:(i + 1) * 9] for i in range(rows)]
        elif name in ("table_rownames", "table_t_rownames"):
            current[name] = value.func.value.value.split()
        elif isinstance(value, ast.Call) and getattr(value.func, "id", "") == "Bunch":
            keys = {kw.arg for kw in value.keywords}
            out[name] = {k: current[k] for k in ("table", "table_t") if k in keys}
            for k in ("table", "table_t"):
                if k in keys:
                    assert len(current[k]) == len(current[f"{k}_rownames"])
    return out


def _half_unit_rel(text: str) -> float:
    """Half a unit in the last printed digit, relative to the value: the precision statsmodels shipped."""
    d = Decimal(text)
    return 0.5 * 10.0 ** d.as_tuple().exponent / abs(float(d)) if float(d) != 0 else 0.0


def rows_of(table: list[list], effect: str, blocks: tuple[str, ...]) -> list[dict]:
    stripes = [(effect, "r1vs0.mbsmoke"), ("POmean", "0.mbsmoke")]
    for block in blocks:
        stripes += [(block, term) for term in (TME if block == "TME1" else OME)]
    assert len(stripes) == len(table)
    rows = []
    for (eq, term), values in zip(stripes, table):
        row = {"equation": eq, "term": term}
        row.update({c: (None if v is None else float(v)) for c, v in zip(STAT_COLS[:6], values[:6])})
        row["printed"] = {c: v for c, v in zip(STAT_COLS[:6], values[:6])}
        rows.append(row)
    assert all(float(r[7]) == 1.9599639845401 and r[6] is None for r in table)  # crit, df (z tests)
    return rows


def precision(rows: list[dict]) -> dict[str, float]:
    return {c: max(_half_unit_rel(r["printed"][c]) for r in rows if float(r["printed"][c]) != 0)
            for c in STAT_COLS[:6]}


def copy_data(src: Path) -> tuple[str, int]:
    with src.open(newline="") as fh:
        records = list(csv.DictReader(fh))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([r[c] for c in COLUMNS] for r in records)
    raw = buf.getvalue().encode()
    (PARITY / "data" / "cattaneo2.csv").write_bytes(raw)
    return hashlib.sha256(raw).hexdigest(), len(records)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=Path("/tmp/sm"), help="folder holding statsmodels/treatment")
    ap.add_argument("--statsmodels-version", default="0.15.0")
    args = ap.parse_args()
    res_dir = args.source / RESULTS
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    data_sha, nrows = copy_data(res_dir / "cataneo2.csv")
    tables = parse_results(res_dir / "results_teffects.py")
    for suffix, (bunch, label, command, blocks) in METHODS.items():
        expected, calls, prec = {}, {}, {}
        for key, effect, option in (("table", "ATE", ""), ("table_t", "ATET", "atet")):
            if key not in tables[bunch]:
                continue
            rows = rows_of(tables[bunch][key], effect, blocks)
            expected[effect] = {"rows": rows}
            prec[effect] = precision(rows)
            calls[effect] = command + (f", {option}" if option else "")
        estimands = " and ".join(expected)
        case = {
            "id": f"teffects_cattaneo2_{suffix}",
            "family": "teffects",
            "description": (f"Stata teffects {label} on Cattaneo's (2010) smoking and birth-weight data ({estimands}): "
                            "the effect, POmean:0 and every auxiliary-equation parameter (b, se, z, pvalue, ll, ul "
                            "of r(table)) as statsmodels ships them"),
            "data": {
                "file": "data/cattaneo2.csv",
                "rows": nrows,
                "sha256": data_sha,
                "origin": {
                    "package": "statsmodels (PyPI wheel, unpacked, not installed)",
                    "version": args.statsmodels_version,
                    "repository": "https://github.com/statsmodels/statsmodels",
                    "path": str(RESULTS / "cataneo2.csv"),
                    "source_sha256": sha(res_dir / "cataneo2.csv"),
                    "dataset": ("cattaneo2 (Stata: webuse cattaneo2), the excerpt of Cattaneo (2010), "
                                "J. Econometrics 155:138-154, in Stata's manuals"),
                    "columns": COLUMNS,
                    "note": "columns kept as text from statsmodels' CSV; mbsmoke_, mmarried_, fbaby_, prenatal1_ are "
                            "its 0/1 codings of Stata's labelled mbsmoke, mmarried, fbaby, prenatal1; "
                            "mage2 = mage^2 (Stata's c.mage#c.mage)",
                },
            },
            "stata_call": calls,
            "stata_call_note": ("results_teffects.py records no command: reconstructed from its row names "
                                "(c.mage#c.mage is c.mage##c.mage), statsmodels' test_teffects.py specification "
                                "and Stata's manual examples ([TE] teffects ipw/ipwra/aipw on cattaneo2). The "
                                "auxiliary rows are those aequations displays; r(table) columns df, crit "
                                "(1.9599639845401 = invnormal(0.975)) and eform (0) are z-test constants"),
            "versions": {
                "Stata": "not stated in results_teffects.py (statsmodels' treatment_effects.py: 'follows largely "
                         "Stata's teffects in Stata 13 manual'; the data file is from Stata 14)",
                "statsmodels": args.statsmodels_version,
                "results_file": str(RESULTS / "results_teffects.py"),
                "results_sha256": sha(res_dir / "results_teffects.py"),
            },
            "model": {
                "outcome": "bweight ~ prenatal1_ + mmarried_ + mage + fbaby_ (linear, fitted per arm)",
                "treatment": ("none" if suffix == "ra" else
                              "probit: mbsmoke_ ~ mmarried_ + mage + mage2 + fbaby_ + medu"),
                "method": label,
                "vcov": "vce(robust): stacked estimating equations, sandwich / n, no df correction, z tests",
            },
            "expected": expected,
            "shipped_precision": {
                "worst_relative_half_unit": prec,
                "note": ("numbers are printed with up to 14 significant digits when |x| >= 1 and up to 14 "
                         "decimals when |x| < 1 (trailing zeros dropped), and 10 significant digits in exponent "
                         "form (tiny p-values); 'printed' keeps each number's text, and the worst half unit in "
                         "the last printed place is given relative to the value, per column"),
            },
            "tolerance": {
                "rel": 1e-8,
                "abs": 1e-12,
                "note": ("b, se and z at 1e-8 relative. Stata's own numbers for one quantity vary by up to 7e-10 "
                         "relative between its commands (the probit SEs, which the stacked sandwich makes "
                         "identical in every method), so 1e-8 leaves a margin above that noise. pvalue = "
                         "2 Phi(-|z|) moves by z^2 times the relative change of z, so it is compared at "
                         "rel * max(1, z^2) plus its printed precision; ll and ul at rel * (|b| + crit se), "
                         "since b - crit se cancels when ll is near 0"),
            },
        }
        path = PARITY / "cases" / f"teffects_cattaneo2_{suffix}.json"
        path.write_text(json.dumps(case, indent=2) + "\n")
        counts = ", ".join(f"{k} ({len(v['rows'])} rows)" for k, v in expected.items())
        print(f"wrote {path.relative_to(ROOT)}: {counts}")


if __name__ == "__main__":
    main()

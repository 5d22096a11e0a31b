"""Build the compact R parity subset that ships with the package (causalspec/parity/).

Reads the full R reference cases in tests/parity/cases (their provenance fields are copied unchanged) and
writes, per shipped case, the spec (or function call) that reproduces it through causalspec's public API and
the R numbers to compare.  Run from the repository root: ``python tools/rparity/build_shipped_parity.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "tests" / "parity" / "cases"
DATA = ROOT / "tests" / "parity" / "data"
OUT = ROOT / "causalspec" / "parity"
FIELDS = {"coef": "estimate", "se": "std_error", "tstat": "statistic", "pvalue": "p_value"}


def case(case_id: str) -> dict:
    return json.loads((SRC / f"{case_id}.json").read_text())


def provenance(c: dict, r_function: str) -> dict:
    return {"source_case": c["id"], "family": c["family"], "description": c.get("description", ""),
            "r_function": r_function, "r_call": c.get("r_call", ""), "r_versions": c.get("r_versions", {}),
            "data": c.get("data"), "tolerance": c.get("tolerance", {"rel": 1e-6, "abs": 1e-12})}


def coef_checks(block: dict, terms, rename=None) -> list:
    rename = rename or {}
    out = []
    for key, field in FIELDS.items():
        for t in terms:
            if t in block.get(key, {}):
                out.append({"path": f"coef:{rename.get(t, t)}:{field}", "expected": block[key][t]})
    for t in terms:
        if t in block.get("conf_int", {}):
            lo, hi = block["conf_int"][t]
            out += [{"path": f"coef:{rename.get(t, t)}:conf_low", "expected": lo},
                    {"path": f"coef:{rename.get(t, t)}:conf_high", "expected": hi}]
    return out


def ols_spec(name, y, x, others, vcov, cluster=()):
    edges = [f"{x} -> {y}"] + [f"{v} -> {w}" for v in others for w in (x, y)]
    return {"name": name, "treatment": x, "outcome": y, "dag": {"edges": edges}, "adjustment": list(others),
            "inference": {"vcov": vcov, "cluster": list(cluster)}, "sensitivity": {"refutations": []}}


def build() -> list[dict]:
    shipped = []
    c = case("ols_wage1_vcovhc")
    for v in ("iid", "HC0", "HC1", "HC2", "HC3"):
        b = c["expected"]["vcov_variants"][v]
        shipped.append({**provenance(c, f"lm + sandwich::vcovHC({v})" if v != "iid" else "lm"),
                        "id": f"ols_wage1_{v}", "kind": "spec",
                        "spec": ols_spec("wage1", "lwage", "educ", ["exper", "tenure"], v),
                        "checks": coef_checks(b, list(b["coef"]))})
    c = case("ols_wagepan_lm_robust")
    for v, kind in (("CR2_nr", "CR2"), ("stata_nr", "stata")):
        b = c["expected"]["vcov_variants"][v]
        shipped.append({**provenance(c, f"estimatr::lm_robust(se_type = '{kind}')"), "id": f"ols_wagepan_{kind}",
                        "kind": "spec", "spec": ols_spec("wagepan", "lwage", "educ", ["exper", "expersq", "black",
                                                         "hisp", "married", "union"], kind, ["nr"]),
                        "checks": coef_checks(b, ["educ", "union"])})
    c = case("ols_wagepan_vcovcl_hc1")
    b = c["expected"]["vcov_variants"]["vcovCL_HC1"]
    shipped.append({**provenance(c, "sandwich::vcovCL(type = 'HC1')"), "id": "ols_wagepan_CR1", "kind": "spec",
                    "spec": ols_spec("wagepan", "lwage", "educ", ["exper", "expersq", "black", "hisp", "married",
                                                                   "union"], "CR1", ["nr"]),
                    "checks": coef_checks(b, ["educ", "union"])})
    c = case("experiment_extra_lalonde_lin")
    e = c["expected"]
    base = {"name": "lalonde", "treatment": "treat", "outcome": "re78", "design": {"type": "experiment"}}
    shipped.append({**provenance(c, "estimatr::difference_in_means"), "id": "experiment_lalonde_dim",
                    "kind": "spec", "spec": base, "checks": coef_checks(e["difference_in_means"], ["treat"])})
    shipped.append({**provenance(c, "estimatr::lm_lin"), "id": "experiment_lalonde_lin", "kind": "spec",
                    "spec": {**base, "covariates": c["model"]["covariates"]},
                    "checks": coef_checks(e["lm_lin"], ["treat"])})
    c = case("fe_wagepan_feols_vcov")
    fe_spec = {"name": "wagepan_fe", "treatment": "union", "outcome": "lwage",
               "dag": {"edges": ["nr -> union", "nr -> married", "nr -> lwage", "year -> union", "year -> lwage",
                                 "married -> union", "married -> lwage", "expersq -> union", "expersq -> lwage",
                                 "union -> lwage"]},
               "design": {"type": "panel", "unit": "nr", "time": "year"}, "sensitivity": {"refutations": []}}
    for v, inf in (("default", {}), ("hetero", {"vcov": "HC1"}), ("twoway_nr_year", {"vcov": "CR1",
                                                                                     "cluster": ["nr", "year"]})):
        shipped.append({**provenance(c, "fixest::feols"), "id": f"fe_wagepan_{v}", "kind": "spec",
                        "spec": {**fe_spec, "inference": inf},
                        "checks": coef_checks(c["expected"]["vcov_variants"][v], ["union", "married", "expersq"])})
    c = case("iv_mroz_aer_ivreg")
    iv_spec = {"name": "mroz_iv", "treatment": "educ", "outcome": "lwage", "covariates": ["exper", "expersq"],
               "dag": {"edges": ["motheduc -> educ", "fatheduc -> educ", "educ -> lwage", "educ <-> lwage",
                                 "exper -> lwage", "expersq -> lwage"]},
               "design": {"type": "iv", "instruments": ["motheduc", "fatheduc"]}, "sensitivity": {"refutations": []}}
    for v in ("iid", "HC1"):
        shipped.append({**provenance(c, "AER::ivreg + sandwich"), "id": f"iv_mroz_{v}", "kind": "spec",
                        "spec": {**iv_spec, **({"inference": {"vcov": v}} if v != "iid" else {})},
                        "checks": coef_checks(c["expected"]["vcov_variants"][v], ["educ", "exper"])})
    mp_dag = {"edges": ["countyreal -> treat", "countyreal -> lemp", "year -> lemp", "treat -> lemp"]}
    c = case("event_study_mpdta")
    b = c["expected"]["vcov_variants"]["cluster_countyreal"]
    shipped.append({**provenance(c, "fixest::feols(i(rel_time, treat, ref = -1))"), "id": "event_study_mpdta",
                    "kind": "spec", "spec": {"name": "mpdta", "treatment": "treat", "outcome": "lemp", "dag": mp_dag,
                                             "design": {"type": "event_study", "unit": "countyreal", "time": "year",
                                                        "first_treated": "first.treat", "estimator": "twfe"},
                                             "sensitivity": {"refutations": []}},
                    "checks": coef_checks(b, list(b["coef"]))})
    c = case("sunab_mpdta")
    b = c["expected"]["vcov_variants"]["cluster_countyreal"]
    shipped.append({**provenance(c, "fixest::sunab"), "id": "sunab_mpdta_att", "kind": "spec",
                    "spec": {"name": "mpdta", "treatment": "treat", "outcome": "lemp", "dag": mp_dag, "estimand": "ATT",
                             "design": {"type": "event_study", "unit": "countyreal", "time": "year",
                                        "first_treated": "first.treat", "estimator": "sun_abraham"},
                             "sensitivity": {"refutations": []}},
                    "checks": [{"path": "effect:estimate", "expected": b["att"]["coef"]["ATT"]},
                               {"path": "effect:std_error", "expected": b["att"]["se"]["ATT"]}]})
    c = case("matching_lalonde_nn")
    conf = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    b = c["expected"]["effect"]["vcovCL_subclass"]
    shipped.append({**provenance(c, "MatchIt::matchit(method = 'nearest') + lm + sandwich::vcovCL(~subclass)"),
                    "id": "matching_lalonde_nn", "kind": "spec",
                    "spec": {"name": "lalonde", "treatment": "treat", "outcome": "re78", "estimand": "ATT",
                             "dag": {"edges": ["treat -> re78"] + [f"{v} -> {w}" for v in conf
                                                                   for w in ("treat", "re78")]},
                             "adjustment": conf, "design": {"type": "observational", "estimator": "matching"},
                             "sensitivity": {"refutations": []}},
                    "checks": [{"path": f"effect:{f}", "expected": b[k]["treat"]} for k, f in FIELDS.items()]
                    # summary(matchit)'s balance tables, the distance's eCDF statistics included: the statistics
                    # that depend on exact ties of the propensity score (issue 11)
                    + [{"path": f"balance:{when}:{cov}:{stat}", "expected": value}
                       for when, key in (("before", "balance_all"), ("after", "balance_matched"))
                       for cov, row in c["expected"][key].items()
                       for stat, value in row.items() if value is not None]})
    c = case("sensemakr_darfur_female_kd123")
    e = c["expected"]
    m = c["model"]
    outcome, rhs = (s.strip() for s in m["formula"].split("~"))
    covs = [t.strip() for t in rhs.split("+") if t.strip() != m["treatment"]]
    spec = {"name": "darfur", "treatment": m["treatment"], "outcome": outcome, "adjustment": covs,
            "dag": {"edges": [f"{m['treatment']} -> {outcome}"] + [f"{v} -> {w}" for v in covs
                                                                   for w in (m["treatment"], outcome)]},
            "inference": {"vcov": "iid"},
            "sensitivity": {"benchmarks": m["benchmark_covariates"], "kd": m["kd"], "refutations": []}}
    checks = [{"path": f"sens:{a}", "expected": e[k]} for a, k in (("rv_q", "rv_q"), ("rv_qa", "rv_qa"),
                                                                   ("r2yd_x", "r2yd.x"), ("dof", "dof"))]
    for i, bd in enumerate(e["bounds"]):
        checks += [{"path": f"bound:{i}:adjusted_estimate", "expected": bd["adjusted_estimate"]},
                   {"path": f"bound:{i}:adjusted_se", "expected": bd["adjusted_se"]}]
    shipped.append({**provenance(c, "sensemakr::sensemakr"), "id": "sensemakr_darfur", "kind": "spec",
                    "spec": spec, "checks": checks})
    for cid in ("evalue_rr_harmful", "evalue_ols"):
        c = case(cid)
        shipped.append({**provenance(c, "EValue::" + c["input"]["function"]), "id": cid, "kind": "evalue",
                        "input": c.get("input"), "expected": c["expected"]})
    c = case("honestdid_ehec_sunab")
    rm = c["relative_magnitudes"]
    shipped.append({**provenance(c, "HonestDiD::createSensitivityResults_relativeMagnitudes"),
                    "r_call": rm["r_call"], "source": rm["source"], "id": "honestdid_ehec_sunab_rm",
                    "kind": "honestdid_rm", "tolerance": {"rel": 1e-10, "abs": 1e-14},
                    "input": {"betahat": c["betahat"], "sigma": c["sigma"], "num_pre": 10, "num_post": 6,
                              "l_vec": rm["l_vec"], "mbars": [r["Mbar"] for r in rm["rows"]],
                              "grid_points": rm["grid_points"], "centred_grid": rm["grid"] == "centred"},
                    "expected": rm["rows"],
                    "not_produced": ["HonestDiD's sign and monotonicity restrictions (DeltaRMB, DeltaRMM, DeltaSDB, "
                                     "DeltaSDPB, DeltaSDM) and the combined DeltaSDRM / DeltaSDRMB sets: causalspec "
                                     "computes relative magnitudes (DeltaRM) and smoothness (DeltaSD) only"]})
    c = case("power_t_test")
    shipped.append({**provenance(c, "stats::power.t.test"), "id": "power_t_test", "kind": "power_t",
                    "cases": {k: v for k, v in list(c["expected"]["cases"].items())[:3]}})
    for cid in ("dagitty_confounding_triangle", "dagitty_m_bias"):
        matches = sorted(SRC.glob(f"{cid}*.json"))
        if not matches:
            continue
        c = json.loads(matches[0].read_text())
        shipped.append({**provenance(c, "dagitty::adjustmentSets"), "id": c["id"], "kind": "dagitty",
                        "expected": {k: c["expected"][k] for k in ("edges", "latent", "exposure", "outcome",
                                                                   "adjustment_sets")}})
    return shipped


def main() -> None:
    for old in (OUT / "cases").glob("*.json"):
        old.unlink()
    files = set()
    for item in build():
        (OUT / "cases" / f"{item['id']}.json").write_text(json.dumps(item, indent=1) + "\n")
        if item.get("data") and item["data"].get("file"):
            files.add(Path(item["data"]["file"]).name)
    for name in sorted(files):
        shutil.copyfile(DATA / name, OUT / "data" / name)
        print(name, hashlib.sha256((OUT / "data" / name).read_bytes()).hexdigest()[:12])


if __name__ == "__main__":
    main()

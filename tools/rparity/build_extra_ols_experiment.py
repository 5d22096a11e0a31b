"""Generate the extra R reference cases ols_extra_* and experiment_extra_* (run from the repo root).

Needs R with sandwich, lmtest, estimatr and jsonlite (Debian: r-base-core r-cran-sandwich r-cran-estimatr).
Each case's ``r_call`` is the complete R code that produced ``expected`` (helpers copied from the
project's stored cases), run from ``tests/parity`` so ``data/<file>.csv`` resolves.  Data provenance
(origin, rows, sha256) is copied from the stored case that uses the same CSV.

    python tools/rparity/build_extra_ols_experiment.py
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "parity"
CASES = PARITY / "cases"


def _prefix(case_id: str, marker: str) -> str:
    r = json.loads((CASES / f"{case_id}.json").read_text())["r_call"]
    return r[: r.index(marker)]


LM_HELPERS = _prefix("ols_wage1_vcovhc", "wage1 <- read.csv")
LMR_HELPERS = _prefix("ols_wagepan_lm_robust", "wagepan <- read.csv")
EXP_HELPERS = _prefix("experiment_star_kindergarten", "STAR <- read.csv")
LM_OUT = LM_HELPERS[LM_HELPERS.index("lm_out <- function"):]
LMR_OUT = LMR_HELPERS[LMR_HELPERS.index("## estimatr::lm_robust: everything"):]

VERSIONS_LM = {"R": "4.2.2", "sandwich": "3.0.2", "lmtest": "0.9.40",
               "platform": "Debian bookworm, reference BLAS/LAPACK 3.11.0"}
VERSIONS_LMR = {"R": "4.2.2", "estimatr": "1.0.0", "platform": "Debian bookworm, reference BLAS/LAPACK 3.11.0"}

SPECS = [
    dict(
        id="ols_extra_weighted_wagepan", family="ols", data="wagepan.csv", helpers=LM_HELPERS,
        versions=VERSIONS_LM,
        description="Hours-weighted pooled wage equation on wagepan: weighted lm with classical, HC0-HC3 and "
                    "person-clustered vcovCL (HC0, HC1) standard errors.",
        model={"estimator": "lm (WLS, weights = hours)", "formula": "lwage ~ educ + exper + expersq + married + union",
               "weights": "hours", "cluster": "nr",
               "vcov": "iid = vcov(lm); HC0-HC3 = sandwich::vcovHC(type = ...); vcovCL_HC0/HC1 = sandwich::vcovCL(cluster = ~nr, type = ...)",
               "inference": "lmtest::coeftest / coefci with n - k df"},
        code='''wagepan <- read.csv("data/wagepan.csv")
fit <- lm(lwage ~ educ + exper + expersq + married + union, data = wagepan, weights = hours)
V <- list(iid = vcov(fit), HC0 = sandwich::vcovHC(fit, type = "HC0"), HC1 = sandwich::vcovHC(fit, type = "HC1"),
          HC2 = sandwich::vcovHC(fit, type = "HC2"), HC3 = sandwich::vcovHC(fit, type = "HC3"),
          vcovCL_HC0 = sandwich::vcovCL(fit, cluster = ~nr, type = "HC0"),
          vcovCL_HC1 = sandwich::vcovCL(fit, cluster = ~nr, type = "HC1"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_rank_deficient", family="ols", data="wage1.csv", helpers=LM_HELPERS, versions=VERSIONS_LM,
        description="wage1 wage equation with a regressor that is the sum of two others (exper + tenure): lm "
                    "aliases it (NA coefficient); classical and HC1 inference on the rest.",
        model={"estimator": "lm (OLS)", "formula": "lwage ~ educ + exper + tenure + I(exper + tenure) + female + nonwhite",
               "vcov": "iid = vcov(lm) (complete, NA row for the aliased term); HC1 = sandwich::vcovHC",
               "aliased": "I(exper + tenure)"},
        code='''wage1 <- read.csv("data/wage1.csv")
fit <- lm(lwage ~ educ + exper + tenure + I(exper + tenure) + female + nonwhite, data = wage1)
V <- list(iid = vcov(fit), HC1 = sandwich::vcovHC(fit, type = "HC1"))
out <- c(list(coef = named(coef(fit)), aliased = I(names(coef(fit))[is.na(coef(fit))])), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_lm_robust_weighted_cr2", family="ols", data="wagepan.csv", helpers=LMR_HELPERS,
        versions=VERSIONS_LMR,
        description="Hours-weighted pooled wage equation with estimatr::lm_robust: HC2 default, CR2 and "
                    "Stata-style clustered by person.",
        model={"estimator": "estimatr::lm_robust (WLS, weights = hours)",
               "formula": "lwage ~ educ + exper + expersq + married + union", "weights": "hours", "cluster": "nr",
               "vcov": {"HC2_default": "se_type = 'HC2'", "CR2_nr": "clusters = nr, se_type = 'CR2'",
                        "stata_nr": "clusters = nr, se_type = 'stata'"}, "alpha": 0.05},
        code='''wagepan <- read.csv("data/wagepan.csv")
f <- lwage ~ educ + exper + expersq + married + union
fits <- list(
  HC2_default = estimatr::lm_robust(f, data = wagepan, weights = hours),
  CR2_nr = estimatr::lm_robust(f, data = wagepan, weights = hours, clusters = nr),
  stata_nr = estimatr::lm_robust(f, data = wagepan, weights = hours, clusters = nr, se_type = "stata"))
out <- list(nobs = fits$HC2_default$nobs, coef = named(coef(fits$HC2_default)),
            vcov_variants = lapply(fits, lmr_out))
'''),
    dict(
        id="ols_extra_lm_robust_cr2_few_clusters", family="ols", data="lalonde.csv", helpers=LMR_HELPERS,
        versions=VERSIONS_LMR,
        description="lalonde earnings regression clustered by years of education (a few, unequal clusters): "
                    "CR2 Bell-McCaffrey df differ strongly by coefficient.",
        model={"estimator": "estimatr::lm_robust (OLS)", "formula": "re78 ~ treat + age + race + married + re74",
               "cluster": "educ", "vcov": {"CR2_educ": "clusters = educ, se_type = 'CR2'",
                                           "stata_educ": "clusters = educ, se_type = 'stata'",
                                           "CR0_educ": "clusters = educ, se_type = 'CR0' (no small-sample factor, df = G - 1)"},
               "alpha": 0.05},
        code='''lalonde <- read.csv("data/lalonde.csv")
f <- re78 ~ treat + age + race + married + re74
fits <- list(CR2_educ = estimatr::lm_robust(f, data = lalonde, clusters = educ),
             stata_educ = estimatr::lm_robust(f, data = lalonde, clusters = educ, se_type = "stata"),
             CR0_educ = estimatr::lm_robust(f, data = lalonde, clusters = educ, se_type = "CR0"))
out <- list(nobs = fits$CR2_educ$nobs, coef = named(coef(fits$CR2_educ)), vcov_variants = lapply(fits, lmr_out))
'''),
    dict(
        id="ols_extra_three_way_factor_interaction", family="ols", data="lalonde.csv", helpers=LM_HELPERS,
        versions=VERSIONS_LM,
        description="lalonde earnings with a three-way factor interaction race * factor(married) * "
                    "factor(nodegree) plus a quadratic in age and log1p(re74): R's column names and contrasts.",
        model={"estimator": "lm (OLS)",
               "formula": "re78 ~ race * factor(married) * factor(nodegree) + age + I(age^2) + log1p(re74)",
               "vcov": "iid = vcov(lm); HC3 = sandwich::vcovHC(type = 'HC3')"},
        code='''lalonde <- read.csv("data/lalonde.csv")
fit <- lm(re78 ~ race * factor(married) * factor(nodegree) + age + I(age^2) + log1p(re74), data = lalonde)
V <- list(iid = vcov(fit), HC3 = sandwich::vcovHC(fit, type = "HC3"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_no_intercept", family="ols", data="wage1.csv", helpers=LM_HELPERS, versions=VERSIONS_LM,
        description="Regression through the origin on wage1 (y ~ 0 + x): uncentred R-squared and F with k "
                    "numerator df.",
        model={"estimator": "lm (OLS, no intercept)", "formula": "lwage ~ 0 + educ + exper + tenure",
               "vcov": "iid = vcov(lm); HC1, HC3 = sandwich::vcovHC"},
        code='''wage1 <- read.csv("data/wage1.csv")
fit <- lm(lwage ~ 0 + educ + exper + tenure, data = wage1)
V <- list(iid = vcov(fit), HC1 = sandwich::vcovHC(fit, type = "HC1"), HC3 = sandwich::vcovHC(fit, type = "HC3"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_no_intercept_factor", family="ols", data="lalonde.csv", helpers=LM_HELPERS,
        versions=VERSIONS_LM,
        description="lalonde without an intercept but with a factor: R codes race with a dummy for every level.",
        model={"estimator": "lm (OLS, no intercept)", "formula": "re78 ~ 0 + race + treat + age",
               "vcov": "iid = vcov(lm); HC2 = sandwich::vcovHC(type = 'HC2')"},
        code='''lalonde <- read.csv("data/lalonde.csv")
fit <- lm(re78 ~ 0 + race + treat + age, data = lalonde)
V <- list(iid = vcov(fit), HC2 = sandwich::vcovHC(fit, type = "HC2"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_interaction_without_main_effects", family="ols", data="lalonde.csv", helpers=LM_HELPERS,
        versions=VERSIONS_LM,
        description="lalonde earnings on race:factor(married) without main effects: R codes both factors with "
                    "a dummy per level (TermCode rule), so one cell is aliased.",
        model={"estimator": "lm (OLS)", "formula": "re78 ~ race:factor(married) + age",
               "vcov": "iid = vcov(lm); HC1 = sandwich::vcovHC(type = 'HC1')"},
        code='''lalonde <- read.csv("data/lalonde.csv")
fit <- lm(re78 ~ race:factor(married) + age, data = lalonde)
V <- list(iid = vcov(fit), HC1 = sandwich::vcovHC(fit, type = "HC1"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_transforms", family="ols", data="lalonde.csv", helpers=LM_HELPERS, versions=VERSIONS_LM,
        description="lalonde earnings with R transforms in the formula: orthogonal poly(), scale(), log1p(), "
                    "relevel(factor()) and a numeric interaction written in reverse variable order.",
        model={"estimator": "lm (OLS)",
               "formula": "re78 ~ poly(age, 2) + scale(educ) + log1p(re74) + relevel(factor(race), ref = \"white\") + re75:treat + treat",
               "vcov": "iid = vcov(lm); HC3 = sandwich::vcovHC(type = 'HC3')"},
        code='''lalonde <- read.csv("data/lalonde.csv")
fit <- lm(re78 ~ poly(age, 2) + scale(educ) + log1p(re74) + relevel(factor(race), ref = "white") + re75:treat + treat,
          data = lalonde)
V <- list(iid = vcov(fit), HC3 = sandwich::vcovHC(fit, type = "HC3"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_star_missing_text_factors", family="ols", data="STAR.csv", helpers=LM_HELPERS,
        versions=VERSIONS_LM,
        description="STAR kindergarten reading scores on class type (three text levels incl. 'regular+aide'), "
                    "gender, lunch status and birth (centred at 1980 inside I() so the design is well conditioned): many rows dropped for missing values.",
        model={"estimator": "lm (OLS)", "formula": "readk ~ stark + gender + lunchk + I(birth - 1980)", "cluster": "schoolidk",
               "vcov": "iid = vcov(lm); HC1 = sandwich::vcovHC; vcovCL_HC1 = sandwich::vcovCL(cluster = ~schoolidk)"},
        code='''STAR <- read.csv("data/STAR.csv")
fit <- lm(readk ~ stark + gender + lunchk + I(birth - 1980), data = STAR)
V <- list(iid = vcov(fit), HC1 = sandwich::vcovHC(fit, type = "HC1"),
          vcovCL_HC1 = sandwich::vcovCL(fit, cluster = ~schoolidk, type = "HC1"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_vcovcl_multiway", family="ols", data="wagepan.csv", helpers=LM_HELPERS, versions=VERSIONS_LM,
        description="Pooled wagepan wage equation with two-way clustered standard errors (person and year) by "
                    "sandwich::vcovCL's inclusion-exclusion, HC0 and HC1 types.",
        model={"estimator": "lm (OLS)", "formula": "lwage ~ educ + exper + expersq + married + union",
               "cluster": ["nr", "year"], "multiway": True,
               "vcov": "vcovCL_HC1/HC0 = sandwich::vcovCL(fit, cluster = ~ nr + year, type = ...)"},
        code='''wagepan <- read.csv("data/wagepan.csv")
fit <- lm(lwage ~ educ + exper + expersq + married + union, data = wagepan)
V <- list(vcovCL_HC1 = sandwich::vcovCL(fit, cluster = ~ nr + year, type = "HC1"),
          vcovCL_HC0 = sandwich::vcovCL(fit, cluster = ~ nr + year, type = "HC0"))
out <- c(list(coef = named(coef(fit))), lm_out(fit, V))
'''),
    dict(
        id="ols_extra_design_names", family="ols", data="lalonde.csv", helpers=LM_HELPERS, versions=VERSIONS_LM,
        description="R's term expansion, contrast coding, column order and names for 40 random formulas on "
                    "lalonde (operators + * : / ^ -1 0+, factors, logical and numeric interactions, calls), "
                    "with lm's coefficients (NA where aliased).",
        model={"estimator": "lm (OLS) per formula", "formulas": "expected$designs[[i]]$formula",
               "generator": "tools/rparity/build_extra_ols_experiment.py::_random_formulas (seed 20261122)"},
        code=None),
    dict(
        id="experiment_extra_lalonde_lin_clustered", family="experiment", data="lalonde.csv", helpers=EXP_HELPERS,
        versions={"R": "4.2.2", "estimatr": "1.0.0", "platform": "Debian bookworm, reference BLAS/LAPACK 3.11.0"},
        description="lalonde treat vs control with Lin adjustment for a factor, a transformed covariate "
                    "(log1p(re74)) and age, clustered by years of education: CR2 (default), stata and CR0.",
        model={"outcome": "re78", "treatment": "treat", "covariates_formula": "~ race + log1p(re74) + age",
               "cluster": "educ",
               "welch_t_test": "t.test(re78[treat == 1], re78[treat == 0])",
               "difference_in_means": "estimatr::difference_in_means(re78 ~ treat)",
               "lm_lin": "estimatr::lm_lin(re78 ~ treat, covariates = ~ race + log1p(re74) + age, clusters = educ)",
               "lm_lin_variants": "the same call with se_type = 'stata' and 'CR0'"},
        code='''lalonde <- read.csv("data/lalonde.csv")
lin <- function(se) estimatr::lm_lin(re78 ~ treat, covariates = ~ race + log1p(re74) + age, data = lalonde,
                                     clusters = educ, se_type = se)
add_v <- function(fit) c(er(fit), list(vcov = vmat(vcov(fit))))
out <- list(
  welch_t_test = ht(t.test(lalonde$re78[lalonde$treat == 1], lalonde$re78[lalonde$treat == 0])),
  difference_in_means = er(estimatr::difference_in_means(re78 ~ treat, data = lalonde)),
  lm_lin = add_v(lin("CR2")),
  lm_lin_variants = list(stata = add_v(lin("stata")), CR0 = add_v(lin("CR0"))))
'''),
    dict(
        id="experiment_extra_lalonde_lin", family="experiment", data="lalonde.csv", helpers=EXP_HELPERS,
        versions={"R": "4.2.2", "estimatr": "1.0.0", "platform": "Debian bookworm, reference BLAS/LAPACK 3.11.0"},
        description="lalonde treat vs control: Welch t test, difference in means and Lin-adjusted estimate with "
                    "a three-level factor covariate (race) plus age, educ, married (HC2).",
        model={"outcome": "re78", "treatment": "treat", "covariates": ["race", "age", "educ", "married"],
               "welch_t_test": "t.test(re78[treat == 1], re78[treat == 0])",
               "difference_in_means": "estimatr::difference_in_means(re78 ~ treat)",
               "lm_lin": "estimatr::lm_lin(re78 ~ treat, covariates = ~ race + age + educ + married), HC2"},
        code='''lalonde <- read.csv("data/lalonde.csv")
lin <- estimatr::lm_lin(re78 ~ treat, covariates = ~ race + age + educ + married, data = lalonde)
out <- list(
  welch_t_test = ht(t.test(lalonde$re78[lalonde$treat == 1], lalonde$re78[lalonde$treat == 0])),
  difference_in_means = er(estimatr::difference_in_means(re78 ~ treat, data = lalonde)),
  lm_lin = c(er(lin), list(vcov = vmat(vcov(lin)))))
'''),
]


# jsonlite prints at most 15 significant digits: write doubles verbatim with 17 so values are exact.
WRITE_JSON = r'''
.num17 <- function(x) ifelse(is.finite(x), sprintf("%.17g", x), "null")
.exact <- function(x) {
  if (is.list(x)) { a <- attributes(x); x <- lapply(x, .exact); attributes(x) <- a; return(x) }
  if (is.double(x)) {
    txt <- if (length(x) == 1 && !inherits(x, "AsIs")) .num17(x) else paste0("[", paste(.num17(x), collapse = ","), "]")
    return(structure(txt, class = "json"))
  }
  x
}
jsonlite::write_json(.exact(out), "OUT_PATH", auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null")
'''


def _provenance(csv: str) -> dict:
    for path in sorted(CASES.glob("*.json")):
        case = json.loads(path.read_text())
        data = case.get("data") or {}
        if data.get("file") == f"data/{csv}":
            raw = (PARITY / "data" / csv).read_bytes()
            return {"file": f"data/{csv}", "origin": data["origin"], "rows": data["rows"],
                    "sha256": hashlib.sha256(raw).hexdigest()}
    raise SystemExit(f"no stored case uses {csv}")


def _random_formulas(count: int = 40, seed: int = 20261122) -> list[str]:
    """Random right-hand sides over lalonde's columns, exercising R's formula algebra."""
    import random

    rnd = random.Random(seed)
    atoms = ["treat", "age", "educ", "race", "married", "nodegree", "re74", "factor(married)", "factor(nodegree)",
             "log1p(re75)", "I(age^2)", "poly(age, 2)", "relevel(factor(race), ref = \"hispan\")", "I(educ > 11)"]
    atoms.remove("I(educ > 11)")  # comparisons are outside the whitelist
    ops = [" + ", " * ", ":", " + ", " * "]
    out = []
    while len(out) < count:
        k = rnd.randint(2, 4)
        picks = rnd.sample(atoms, k)
        rhs = picks[0]
        for a in picks[1:]:
            rhs += rnd.choice(ops) + a
        roll = rnd.random()
        if roll < 0.12:
            rhs = f"({picks[0]} + {picks[1]})^2" + (f" + {picks[2]}" if k > 2 else "")
        elif roll < 0.2:
            rhs = f"{picks[0]}/{picks[1]}"
        elif roll < 0.3:
            rhs = "0 + " + rhs
        elif roll < 0.36:
            rhs = rhs + " - 1"
        f = f"re78 ~ {rhs}"
        if f not in out:
            out.append(f)
    return out


def _designs_code() -> str:
    forms = _random_formulas()
    vec = ",\n  ".join('"' + f.replace('"', '\\"') + '"' for f in forms)
    return f'''lalonde <- read.csv("data/lalonde.csv")
formulas <- c(
  {vec})
out <- list(designs = lapply(formulas, function(f) {{
  fit <- lm(as.formula(f), data = lalonde)
  list(formula = f, terms = I(names(coef(fit))), coef = I(num(coef(fit))), nobs = nobs(fit), rank = fit$rank)
}}))
'''


def main() -> None:
    for spec in SPECS:
        if spec["code"] is None:
            spec["code"] = _designs_code()
        r_call = "\n" + spec["helpers"] + spec["code"]
        with tempfile.TemporaryDirectory() as tmp:
            out_json = Path(tmp) / "out.json"
            script = r_call + WRITE_JSON.replace("OUT_PATH", str(out_json))
            (Path(tmp) / "run.R").write_text(script)
            subprocess.run(["Rscript", "--vanilla", str(Path(tmp) / "run.R")], cwd=PARITY, check=True)
            expected = json.loads(out_json.read_text())
        case = {"id": spec["id"], "family": spec["family"], "description": spec["description"],
                "data": _provenance(spec["data"]), "r_call": r_call, "r_versions": spec["versions"],
                "model": spec["model"], "expected": expected, "tolerance": {"rel": 1e-6}}
        (CASES / f"{spec['id']}.json").write_text(json.dumps(case, indent=1) + "\n")
        print("wrote", spec["id"], file=sys.stderr)


if __name__ == "__main__":
    main()

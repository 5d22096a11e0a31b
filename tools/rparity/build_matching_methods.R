# MatchIt's matching methods beyond propensity-score nearest neighbour (issue 13): Mahalanobis-distance nearest
# neighbour (with and without replacement), nearest neighbour within exact strata of named covariates, exact
# matching, coarsened exact matching (Sturges bins; user cut points) and propensity-score subclassification for
# the ATT and the ATE, on the Dehejia-Wahba lalonde data.  Each case records the matched sample as MatchIt returns
# it (match.matrix, weights and subclass per unit id), summary(m) (sum.all, sum.matched / sum.across, nn), the
# propensity model when there is one, and the effect as the MatchIt vignette "Estimating Effects After Matching"
# estimates it: lm(re78 ~ treat, data = match.data(m), weights = weights) with sandwich::vcovCL(cluster =
# ~subclass) after pair matching and sandwich::vcovHC(type = "HC3") otherwise.
# Writes tests/parity/cases/matching_lalonde_<method>.json.  Run from the repository root:
#   Rscript tools/rparity/build_matching_methods.R
# (Debian bookworm: apt-get install r-cran-matchit -> MatchIt 4.5.1; sandwich, lmtest and jsonlite from Debian.)
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})

num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)
tab <- function(ct, ci) {
  terms <- rownames(ct)
  list(coef = named(ct[, 1], terms), se = named(ct[, 2], terms), tstat = named(ct[, 3], terms),
       pvalue = named(ct[, 4], terms), conf_int = setNames(lapply(terms, function(t) I(num(ci[t, ]))), terms))
}
summ <- function(x) named(summary(as.numeric(x)))
bal_tab <- function(M) setNames(lapply(rownames(M), function(r) {
  v <- M[r, ]
  setNames(lapply(v, function(z) if (is.na(z)) NULL else z), names(v))
}), rownames(M))

match_out <- function(m, data) {
  ids <- rownames(data)
  w <- setNames(m$weights, ids)
  tr <- m$treat == 1
  sm <- summary(m)
  after <- if (!is.null(sm$sum.across)) sm$sum.across else sm$sum.matched
  md <- match.data(m)
  fit <- lm(re78 ~ treat, data = md, weights = weights)
  pairs <- !is.null(m$match.matrix) && !is.null(m$subclass)
  V <- if (pairs) list(vcovCL_subclass = sandwich::vcovCL(fit, cluster = ~subclass))
       else list(HC3 = sandwich::vcovHC(fit, type = "HC3"))
  res <- list(
    n_input = nrow(data),
    nn = setNames(lapply(rownames(sm$nn), function(r) named(sm$nn[r, ])), rownames(sm$nn)),
    match_matrix = if (is.null(m$match.matrix)) NULL else
      setNames(lapply(seq_len(nrow(m$match.matrix)), function(i) I(unname(m$match.matrix[i, ]))),
               rownames(m$match.matrix)),
    n_matched = sum(w > 0), n_matched_treated = sum(w > 0 & tr), n_matched_control = sum(w > 0 & !tr),
    matched_ids_sorted = I(sort(ids[w > 0], method = "radix")),
    weights = named(w[w > 0]),
    subclass = if (is.null(m$subclass)) NULL else {
      s <- m$subclass
      setNames(as.list(as.integer(as.character(s[!is.na(s)]))), ids[!is.na(s)])
    },
    balance_all = bal_tab(sm$sum.all), balance_matched = bal_tab(after),
    effect = lapply(V, function(v) c(tab(lmtest::coeftest(fit, vcov. = v), lmtest::coefci(fit, vcov. = v)),
                                     list(df = fit$df.residual, nobs = nobs(fit)))))
  if (!is.null(m$model)) {
    ct <- summary(m$model)$coefficients
    res$ps_model_coef <- named(coef(m$model))
    res$ps_model_table <- setNames(lapply(rownames(ct), function(t) list(
      estimate = ct[t, 1], std_error = ct[t, 2], statistic = ct[t, 3], p_value = ct[t, 4])), rownames(ct))
  }
  if (!is.null(m$distance)) {
    d <- setNames(as.numeric(m$distance), ids)
    res$distance_summary <- list(all = summ(d), treated = summ(d[tr]), control = summ(d[!tr]))
  }
  if (!is.null(m$q.cut)) res$q_cut <- I(num(m$q.cut))
  res
}

lalonde <- read.csv("tests/parity/data/lalonde.csv", row.names = "id")
sha <- strsplit(system2("sha256sum", "tests/parity/data/lalonde.csv", stdout = TRUE), " ")[[1]][1]
# the covariates in the order the planner writes the propensity formula (the adjustment set sorted by name), so
# the glm's columns and the balance tables' rows come in the same order as causalspec's
ALL <- c("age", "educ", "married", "nodegree", "race", "re74", "re75")
FEW <- c("educ", "married", "nodegree", "race")
f_all <- treat ~ age + educ + married + nodegree + race + re74 + re75
f_few <- treat ~ educ + married + nodegree + race

cases <- list(
  mahalanobis = list(
    call = quote(matchit(f_all, data = lalonde, method = "nearest", distance = "mahalanobis")),
    adjustment = ALL, estimand = "ATT", matching = list(distance = "mahalanobis", replace = FALSE),
    description = "1:1 nearest-neighbour matching on the Mahalanobis distance of the covariates (MatchIt scales them, takes the pooled within-group covariance, its generalized inverse when singular -- race's three indicators are collinear -- and the pivoted Cholesky factor), without replacement, treated units in data order"),
  mahalanobis_replace = list(
    call = quote(matchit(f_all, data = lalonde, method = "nearest", distance = "mahalanobis", replace = TRUE, ratio = 2)),
    adjustment = ALL, estimand = "ATT", matching = list(distance = "mahalanobis", replace = TRUE, ratio = 2),
    description = "2:1 nearest-neighbour matching on the Mahalanobis distance with replacement (std::partial_sort picks each treated unit's two closest controls)"),
  nearest_exact = list(
    call = quote(matchit(f_all, data = lalonde, method = "nearest", distance = "glm", exact = ~ race + married)),
    adjustment = ALL, estimand = "ATT", matching = list(exact = c("race", "married"), replace = FALSE),
    description = "1:1 propensity-score nearest-neighbour matching without replacement within the exact strata of race x married"),
  nearest_atc = list(
    call = quote(matchit(f_all, data = lalonde, method = "nearest", distance = "glm", estimand = "ATC")),
    adjustment = ALL, estimand = "ATC", matching = list(replace = FALSE),
    description = "1:1 propensity-score nearest-neighbour matching for the ATC: each control (the focal group), smallest score first, takes the closest treated unit left; 185 treated units for 429 controls, so 244 controls stay unmatched"),
  exact = list(
    call = quote(matchit(f_few, data = lalonde, method = "exact")),
    adjustment = FEW, estimand = "ATT", matching = list(method = "exact"),
    description = "exact matching on educ, race, married and nodegree: subclasses are the covariate patterns found in both groups; ATT weights"),
  cem = list(
    call = quote(matchit(f_all, data = lalonde, method = "cem")),
    adjustment = ALL, estimand = "ATT", matching = list(method = "cem"),
    description = "coarsened exact matching with MatchIt's default coarsening (Sturges bins of every numeric covariate, factors exact); ATT weights"),
  cem_cutpoints = list(
    call = quote(matchit(f_all, data = lalonde, method = "cem", estimand = "ATE",
                         cutpoints = list(age = 4, re74 = c(1, 5000, 15000), re75 = 0))),
    adjustment = ALL, estimand = "ATE",
    matching = list(method = "cem", cutpoints = list(age = 4, re74 = I(c(1, 5000, 15000)), re75 = 0)),
    description = "coarsened exact matching for the ATE with user coarsening: age in 4 equal-width bins, re74 cut at 1, 5000 and 15000, re75 not coarsened (0: exact), the rest Sturges bins"),
  subclass_att = list(
    call = quote(matchit(f_all, data = lalonde, method = "subclass", distance = "glm")),
    adjustment = ALL, estimand = "ATT", matching = list(method = "subclass"),
    description = "subclassification on the propensity score: 6 subclasses at the quantiles of the treated units' scores; ATT weights (marginal mean weighting)"),
  subclass_ate = list(
    call = quote(matchit(f_all, data = lalonde, method = "subclass", distance = "glm", estimand = "ATE", subclass = 5)),
    adjustment = ALL, estimand = "ATE", matching = list(method = "subclass", subclasses = 5),
    description = "subclassification on the propensity score for the ATE: 5 subclasses at the quantiles of all units' scores; ATE weights"),
  nearest_probit = list(
    call = quote(matchit(f_all, data = lalonde, method = "nearest", distance = "glm", link = "probit")),
    adjustment = ALL, estimand = "ATT", matching = list(replace = FALSE), propensity_model = list(link = "probit"),
    description = "1:1 nearest-neighbour matching without replacement on a probit propensity score (glm(family = binomial(link = \"probit\")))"),
  nearest_cloglog = list(
    call = quote(matchit(f_all, data = lalonde, method = "nearest", distance = "glm", link = "cloglog")),
    adjustment = ALL, estimand = "ATT", matching = list(replace = FALSE), propensity_model = list(link = "cloglog"),
    description = "1:1 nearest-neighbour matching without replacement on a complementary log-log propensity score"),
  subclass_linear_probit = list(
    call = quote(matchit(f_all, data = lalonde, method = "subclass", distance = "glm", link = "linear.probit",
                         estimand = "ATE")),
    adjustment = ALL, estimand = "ATE", matching = list(method = "subclass", distance = "logit"),
    propensity_model = list(link = "probit"),
    description = "subclassification for the ATE on the linear predictor of a probit propensity model (link = \"linear.probit\"), 6 subclasses")
)

helpers <- paste(deparse(match_out), collapse = "\n")
for (name in names(cases)) {
  cs <- cases[[name]]
  m <- eval(cs$call)
  out <- match_out(m, lalonde)
  edges <- c("treat -> re78", as.vector(t(outer(cs$adjustment, c("treat", "re78"), paste, sep = " -> "))))
  id <- paste0("matching_lalonde_", name)
  case <- list(
    id = id, family = "matching_methods", description = paste0("lalonde (NSW treated vs PSID controls): ", cs$description, "."),
    data = list(file = "data/lalonde.csv", rows = nrow(lalonde), sha256 = sha,
                origin = list(package = "MatchIt", version = as.character(packageVersion("MatchIt")), dataset = "lalonde",
                              note = "row names (NSW1..NSW185, PSID1..PSID429) are the first column `id`")),
    r_call = paste0("lalonde <- read.csv(\"data/lalonde.csv\", row.names = \"id\")\nm <- ",
                    paste(deparse(cs$call), collapse = " "), "\nfit <- lm(re78 ~ treat, data = match.data(m), weights = weights)\n",
                    "## match_out(m, lalonde) of tools/rparity/build_matching_methods.R:\nmatch_out <- ", helpers),
    r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                      MatchIt = as.character(packageVersion("MatchIt")), sandwich = as.character(packageVersion("sandwich")),
                      lmtest = as.character(packageVersion("lmtest")),
                      platform = "Debian bookworm (r-cran-matchit 4.5.1-1), reference BLAS/LAPACK 3.11.0"),
    spec = list(treatment = "treat", outcome = "re78", estimand = cs$estimand, edges = I(edges),
                adjustment = I(cs$adjustment), design = c(list(type = "observational", estimator = "matching",
                                                               matching = cs$matching),
                                                          if (!is.null(cs$propensity_model))
                                                            list(propensity_model = cs$propensity_model))),
    model = list(outcome_model = "re78 ~ treat, weighted by the matching weights",
                 vcov = names(out$effect),
                 expected_layout = paste("match_matrix: treated id -> matched control ids (null: empty slot); weights",
                                         "for the units kept (weight > 0); subclass for every unit in a subclass;",
                                         "balance_matched is summary(m)$sum.matched (sum.across for subclassification)")),
    expected = out,
    tolerance = list(rel = 1e-8, note = paste(
      "through the spec; matched ids, match_matrix, subclasses exactly; weights at 1e-12; every number at rel 1e-8",
      "(the propensity score is glm's IRLS reproduced step for step)"))
  )
  write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
        file.path("tests/parity/cases", paste0(id, ".json")))
  cat("wrote", id, "\n")
}

## Balance after inverse-probability weighting with cobalt::bal.tab's formulas.  cobalt is not in Debian; its
## statistics for a continuous covariate (SMD over the unweighted treated / pooled SD, weighted variance ratio,
## weighted KS) are those MatchIt's bal1var computes (s.d.denom "treated" / "pooled", standardize = TRUE, eCDF
## Max = KS), so bal1var gives the reference; binary covariates are cobalt's raw differences in proportions.
ps_fit <- glm(f_all, data = lalonde, family = binomial)
e <- fitted(ps_fit)
tr <- lalonde$treat
X <- cbind(prop.score = e, model.matrix(~ age + educ + married + nodegree + race + re74 + re75 - 1, lalonde,
                                        contrasts.arg = list(race = contrasts(factor(lalonde$race), contrasts = FALSE))))
colnames(X) <- sub("^race", "race_", colnames(X))
X <- X[, c("prop.score", "age", "educ", "married", "nodegree", "race_black", "race_hispan", "race_white", "re74", "re75")]
wm <- function(x, w) sum(x * w) / sum(w)
bal <- function(w, denom) {
  setNames(lapply(colnames(X), function(v) {
    x <- X[, v]
    binary <- length(unique(x)) == 2 && v != "prop.score"
    side <- function(ww) {
      if (binary) {
        d <- wm(x[tr == 1], ww[tr == 1]) - wm(x[tr == 0], ww[tr == 0])
        return(list(M1 = wm(x[tr == 1], ww[tr == 1]), M0 = wm(x[tr == 0], ww[tr == 0]), Diff = d, V.Ratio = NULL,
                    KS = abs(d)))
      }
      b <- MatchIt:::bal1var(x, tt = tr, ww = if (all(ww == 1)) NULL else ww, s.weights = rep(1, length(x)),
                             standardize = TRUE, s.d.denom = denom, compute.pair.dist = FALSE)
      list(M1 = b[["Means Treated"]], M0 = b[["Means Control"]], Diff = b[["Std. Mean Diff."]],
           V.Ratio = b[["Var. Ratio"]], KS = b[["eCDF Max"]])
    }
    list(type = if (v == "prop.score") "Distance" else if (binary) "Binary" else "Contin.",
         un = side(rep(1, length(x))), adj = side(w))
  }), colnames(X))
}
w_ate <- ifelse(tr == 1, 1 / e, 1 / (1 - e))
w_att <- ifelse(tr == 1, 1, e / (1 - e))
case <- list(
  id = "matching_lalonde_weighting_balance", family = "weighted_balance",
  description = paste("Balance of lalonde after inverse-probability weighting (ATE weights 1/e, 1/(1-e); ATT weights",
                      "1, e/(1-e); e from glm(treat ~ ..., binomial)), with cobalt::bal.tab's statistics"),
  data = list(file = "data/lalonde.csv", rows = nrow(lalonde), sha256 = sha,
              origin = list(package = "MatchIt", version = as.character(packageVersion("MatchIt")), dataset = "lalonde")),
  r_call = paste("e <- fitted(glm(treat ~ age + educ + married + nodegree + race + re74 + re75, binomial, lalonde));",
                 "continuous covariates: MatchIt:::bal1var(x, tt = treat, ww = w, s.weights = 1, standardize = TRUE,",
                 "s.d.denom = 'treated' (ATT) / 'pooled' (ATE)) -> Std. Mean Diff. (cobalt Diff), Var. Ratio",
                 "(cobalt V.Ratio), eCDF Max (cobalt KS); binary covariates: weighted difference in proportions"),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    MatchIt = as.character(packageVersion("MatchIt")), platform = "Debian bookworm"),
  formula = "treat ~ age + educ + married + nodegree + race + re74 + re75",
  expected = list(ATE = list(weights_head = I(unname(w_ate[1:5])), ess = list(treated = MatchIt:::ESS(w_ate[tr == 1]),
                                                                      control = MatchIt:::ESS(w_ate[tr == 0])),
                             balance = bal(w_ate, "pooled")),
                  ATT = list(weights_head = I(unname(w_att[1:5])), ess = list(treated = MatchIt:::ESS(w_att[tr == 1]),
                                                                      control = MatchIt:::ESS(w_att[tr == 0])),
                             balance = bal(w_att, "treated"))),
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/matching_lalonde_weighting_balance.json")
cat("wrote matching_lalonde_weighting_balance\n")

# Experiments with clustered assignment: estimatr's clustered difference in means (which is
# lm_robust(y ~ d, clusters, se_type = "CR2")), lm_robust's other cluster variances, lm_lin with clusters,
# and the sample-ratio-mismatch chi-square counted over clusters.
# Writes tests/parity/cases/experiment_clustered_*.json.  Run from the repository root:
#   Rscript tools/rparity/build_experiment_clusters.R
# Each case's analysis is kept as text (r_call) and evaluated with tests/parity as the working directory,
# so the stored call is exactly the one that made the numbers.
library(jsonlite)

helpers <- '
num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)
## htest -> list (observed and expected counts for chisq.test)
ht <- function(h) {
  res <- list(method = h$method, statistic = num(h$statistic),
              parameter = if (is.null(h$parameter)) NULL else named(h$parameter), p_value = num(h$p.value))
  if (!is.null(h$estimate)) res$estimate <- named(h$estimate)
  if (!is.null(h$conf.int)) res$conf_int <- I(num(h$conf.int))
  if (!is.null(h$stderr)) res$stderr <- num(h$stderr)
  if (!is.null(h$null.value)) res$null_value <- named(h$null.value)
  if (!is.null(h$observed)) res$observed <- named(h$observed)
  if (!is.null(h$expected)) res$expected <- named(h$expected)
  res
}
## a covariance matrix as {terms, matrix (rows)}
vmat <- function(V) list(terms = I(rownames(V)), matrix = lapply(seq_len(nrow(V)), function(i) I(num(V[i, ]))))
## estimatr fit -> list (tidy() columns, per term)
er <- function(fit, vcov = FALSE) {
  td <- estimatr::tidy(fit); terms <- td$term
  res <- list(nobs = fit$nobs, nclusters = fit$nclusters, se_type = fit$se_type, design = fit$design,
       coef = named(td$estimate, terms), se = named(td$std.error, terms),
       tstat = named(td$statistic, terms), pvalue = named(td$p.value, terms),
       conf_int = setNames(lapply(seq_along(terms), function(i) I(c(td$conf.low[i], td$conf.high[i]))), terms),
       df = named(td$df, terms))
  if (vcov) res$vcov <- vmat(vcov(fit))
  res[!vapply(res, is.null, logical(1))]
}
'

mpdta_call <- '
mpdta <- read.csv("data/mpdta.csv")
split <- 0.4  # the planned share of treated counties
## one row per county: the assignment (treat is constant within a county)
assignment <- mpdta[!duplicated(mpdta$countyreal), c("countyreal", "treat")]
stopifnot(all(tapply(mpdta$treat, mpdta$countyreal, function(x) all(x == x[1]))))
robust <- function(se) estimatr::lm_robust(lemp ~ treat, data = mpdta, clusters = countyreal, se_type = se)
lin <- function(se) estimatr::lm_lin(lemp ~ treat, covariates = ~ lpop, data = mpdta, clusters = countyreal,
                                     se_type = se)
theta <- cov(mpdta$lemp, mpdta$lpop) / var(mpdta$lpop)
mpdta$lemp_cuped <- mpdta$lemp - theta * (mpdta$lpop - mean(mpdta$lpop))
out <- list(
  welch_t_test = ht(t.test(mpdta$lemp[mpdta$treat == 1], mpdta$lemp[mpdta$treat == 0])),
  difference_in_means = er(estimatr::difference_in_means(lemp ~ treat, data = mpdta)),
  difference_in_means_clustered = er(estimatr::difference_in_means(lemp ~ treat, data = mpdta,
                                                                   clusters = countyreal)),
  lm_robust_clustered = list(CR2 = er(robust("CR2"), vcov = TRUE), stata = er(robust("stata"), vcov = TRUE),
                             CR0 = er(robust("CR0"), vcov = TRUE)),
  lm_lin = er(lin("CR2"), vcov = TRUE),
  lm_lin_variants = list(stata = er(lin("stata"), vcov = TRUE), CR0 = er(lin("CR0"), vcov = TRUE)),
  guardrail_lpop = er(estimatr::difference_in_means(lpop ~ treat, data = mpdta, clusters = countyreal)),
  cuped = list(theta = theta,
               adjusted = er(estimatr::difference_in_means(lemp_cuped ~ treat, data = mpdta, clusters = countyreal)),
               unadjusted_se = unname(estimatr::difference_in_means(lemp ~ treat, data = mpdta,
                                                                    clusters = countyreal)$std.error)),
  srm_clusters = c(ht(chisq.test(table(assignment$treat), p = c(1 - split, split))), planned_split = split,
                   n_units = nrow(mpdta)),
  srm_units = c(ht(chisq.test(table(mpdta$treat), p = c(1 - split, split))), planned_split = split))
'

lalonde_call <- '
lalonde <- read.csv("data/lalonde.csv")
split <- 0.3
## treat varies within years of education: the assignment is not clustered by educ
stopifnot(!all(tapply(lalonde$treat, lalonde$educ, function(x) all(x == x[1]))))
lin <- function(se) estimatr::lm_lin(re78 ~ treat, covariates = ~ age + re74, data = lalonde, clusters = educ,
                                     se_type = se)
robust <- function(se) estimatr::lm_robust(re78 ~ treat, data = lalonde, clusters = educ, se_type = se)
out <- list(
  welch_t_test = ht(t.test(lalonde$re78[lalonde$treat == 1], lalonde$re78[lalonde$treat == 0])),
  difference_in_means = er(estimatr::difference_in_means(re78 ~ treat, data = lalonde)),
  difference_in_means_clustered_error = tryCatch(
    estimatr::difference_in_means(re78 ~ treat, data = lalonde, clusters = educ), error = conditionMessage),
  lm_robust_clustered = list(CR2 = er(robust("CR2"), vcov = TRUE), stata = er(robust("stata"), vcov = TRUE),
                             CR0 = er(robust("CR0"), vcov = TRUE)),
  lm_lin = er(lin("CR2"), vcov = TRUE),
  lm_lin_variants = list(stata = er(lin("stata"), vcov = TRUE), CR0 = er(lin("CR0"), vcov = TRUE)),
  guardrail_re75 = er(estimatr::lm_robust(re75 ~ treat, data = lalonde, clusters = educ, se_type = "CR2")),
  srm_units = c(ht(chisq.test(table(lalonde$treat), p = c(1 - split, split))), planned_split = split))
'

sha256 <- function(path) strsplit(system2("sha256sum", path, stdout = TRUE), " ")[[1]][1]
run <- function(code) {
  env <- new.env()
  old <- setwd("tests/parity"); on.exit(setwd(old))
  eval(parse(text = paste(helpers, code)), envir = env)
  env$out
}
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."),
                 estimatr = as.character(packageVersion("estimatr")),
                 platform = "Debian bookworm, reference BLAS/LAPACK 3.11.0")

cases <- list(
  list(
    id = "experiment_clustered_mpdta_county",
    description = paste(
      "County-level assignment (did::mpdta: 500 US counties x 5 years; treat = 1 for the 191 counties that",
      "raised the minimum wage, constant within a county) analysed as a cluster-randomised experiment: the",
      "clustered difference in means (estimatr = lm_robust CR2, Bell-McCaffrey df), lm_robust stata / CR0,",
      "lm_lin with clusters (CR2, stata, CR0), a guardrail and CUPED by the clustered difference in means,",
      "and the sample-ratio chi-square over counties (and, for contrast, over county-years). A numerical",
      "reference, not a causal claim: the policy was not randomised."),
    file = "data/mpdta.csv",
    origin = list(package = "did", version = "2.5.1", dataset = "mpdta",
                  export = "oracle/r/export_data_regressions.R (numbers at full precision, NA as NA)"),
    code = mpdta_call,
    model = list(
      outcome = "lemp", treatment = "treat", covariates = I("lpop"), cluster = "countyreal", planned_split = 0.4,
      difference_in_means_clustered = "estimatr::difference_in_means(lemp ~ treat, clusters = countyreal)",
      lm_robust_clustered = "estimatr::lm_robust(lemp ~ treat, clusters = countyreal, se_type = CR2 / stata / CR0)",
      lm_lin = "estimatr::lm_lin(lemp ~ treat, covariates = ~ lpop, clusters = countyreal) (CR2; variants stata, CR0)",
      guardrail_lpop = "estimatr::difference_in_means(lpop ~ treat, clusters = countyreal)",
      cuped = paste("theta = cov(lemp, lpop) / var(lpop) over county-years; difference_in_means(lemp - theta",
                    "(lpop - mean(lpop)) ~ treat, clusters = countyreal)"),
      srm_clusters = "chisq.test(table(treat of each county), p = c(0.6, 0.4)): 500 counties",
      srm_units = "chisq.test(table(treat), p = c(0.6, 0.4)) over the 2500 county-years, which overstates the evidence five-fold"),
    tolerance = list(rel = 1e-8, abs = 1e-12)),
  list(
    id = "experiment_clustered_lalonde_educ",
    description = paste(
      "lalonde treat vs control clustered by years of education, where the treatment varies within clusters:",
      "estimatr::difference_in_means(clusters = ) refuses (recorded message), lm_lin with clusters (CR2, stata,",
      "CR0), the unadjusted lm_robust(y ~ d, clusters) beside it and a guardrail by lm_robust(y ~ d, clusters,",
      "CR2) are computed, and the sample-ratio chi-square",
      "counts units because the clusters do not carry the assignment."),
    file = "data/lalonde.csv",
    origin = list(package = "MatchIt", version = "4.5.1", dataset = "lalonde",
                  export = "oracle/r/export_data_regressions.R (numbers at full precision, NA as NA)",
                  note = "row names (NSW1..NSW185, PSID1..PSID429) written as the first column `id`"),
    code = lalonde_call,
    model = list(
      outcome = "re78", treatment = "treat", covariates = I(c("age", "re74")), cluster = "educ",
      planned_split = 0.3,
      lm_robust_clustered = paste("estimatr::lm_robust(re78 ~ treat, clusters = educ, se_type = CR2 / stata / CR0):",
                                  "the unadjusted contrast beside Lin's estimate"),
      lm_lin = "estimatr::lm_lin(re78 ~ treat, covariates = ~ age + re74, clusters = educ) (CR2; variants stata, CR0)",
      guardrail_re75 = "estimatr::lm_robust(re75 ~ treat, clusters = educ, se_type = 'CR2')",
      srm_units = "chisq.test(table(treat), p = c(0.7, 0.3)) over the 614 units"),
    tolerance = list(rel = 1e-8, abs = 1e-12))
)

for (cs in cases) {
  path <- file.path("tests/parity", cs$file)
  case <- list(
    id = cs$id, family = "experiment", description = cs$description,
    data = list(file = cs$file, origin = cs$origin, rows = nrow(read.csv(path)), sha256 = sha256(path)),
    r_call = paste(helpers, cs$code),
    r_versions = versions,
    model = cs$model,
    expected = run(cs$code),
    tolerance = cs$tolerance)
  writeLines(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path("tests/parity/cases", paste0(cs$id, ".json")))
  cat(cs$id, "\n")
}

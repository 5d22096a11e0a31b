# The propensity model with each link glm's binomial family offers (issue 13): glm(treat ~ ..., family =
# binomial(link)) on the Dehejia-Wahba lalonde data, with the terms a spec can write (age + I(age^2)), for logit,
# probit and cloglog: coefficients, standard errors, deviance, iterations and the first fitted probabilities.
# Writes tests/parity/cases/glm_lalonde_links.json.  Run from the repository root: Rscript tools/rparity/build_glm_links.R
library(jsonlite)
d <- read.csv("tests/parity/data/lalonde.csv")
f <- treat ~ married + nodegree + race + re74 + re75 + age + I(age^2) + educ
variants <- list()
for (link in c("logit", "probit", "cloglog")) {
  fit <- glm(f, family = binomial(link), data = d)
  variants[[link]] <- list(coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))),
                           deviance = deviance(fit), iter = fit$iter, converged = fit$converged,
                           fitted_head = unname(fitted(fit)[1:10]))
}
case <- list(
  id = "glm_lalonde_links", family = "propensity",
  description = "Propensity models with the logit, probit and cloglog links of glm's binomial family (lalonde)",
  data = list(file = "data/lalonde.csv", rows = nrow(d),
              sha256 = strsplit(system2("sha256sum", "tests/parity/data/lalonde.csv", stdout = TRUE), " ")[[1]][1],
              origin = list(package = "MatchIt", dataset = "lalonde")),
  r_call = "glm(treat ~ married + nodegree + race + re74 + re75 + age + I(age^2) + educ, family = binomial(link), data = lalonde)",
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."), platform = "Debian bookworm"),
  expected = variants,
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/parity/cases/glm_lalonde_links.json")
cat("wrote tests/parity/cases/glm_lalonde_links.json\n")

# Regression terms and effect modification in the observational design (OLS regression adjustment), on the
# Dehejia-Wahba lalonde data.  The outcome model writes the adjustment with R terms (age + I(age^2), factor(educ));
# the treatment is interacted with each modifier's model.matrix columns centred at their (weighted) sample means,
# as estimatr::lm_lin centres, so the treatment coefficient is the average effect; the effect at m = v is the
# treatment coefficient of the same lm with m's columns centred at v's coding instead (the other modifiers at their
# means).  Joint test of the interactions: car::linearHypothesis(fit, terms, vcov. = V, test = "F").
# Variants: HC2 (sandwich::vcovHC), CR2 clustered by age (estimatr::lm_robust, Bell-McCaffrey df per coefficient),
# weighted HC1 (lm(weights = w), w = 1 + married + age / 50).
# Writes tests/parity/cases/ols_lalonde_heterogeneity.json.
# Run from the repository root: Rscript tools/rparity/build_heterogeneity.R
suppressPackageStartupMessages({library(sandwich); library(estimatr); library(car)})
library(jsonlite)

d <- read.csv("tests/parity/data/lalonde.csv")
d$w <- 1 + d$married + d$age / 50
base <- re78 ~ treat + married + nodegree + race + re74 + re75 + age + I(age^2) + factor(educ)
mods <- list(race = model.matrix(~ race, d)[, -1, drop = FALSE],
             married = model.matrix(~ married, d)[, -1, drop = FALSE],
             re74 = model.matrix(~ re74, d)[, -1, drop = FALSE])
at <- list(race = c("black", "hispan", "white"), married = c(0, 1), re74 = c(0, 5000))
coding <- function(m, v) if (m == "race") c(racehispan = v == "hispan", racewhite = v == "white") + 0 else v

with_interactions <- function(centre) {
  dd <- d
  for (m in names(mods)) for (j in colnames(mods[[m]])) dd[[paste0("treat_x_", j, "_c")]] <- d$treat * (mods[[m]][, j] - centre[[j]])
  dd
}
rhs <- paste(c(deparse(base[[3]]), paste0("treat_x_", unlist(lapply(mods, colnames)), "_c")), collapse = " + ")
f <- as.formula(paste("re78 ~", rhs))
rename <- function(x) sub("^treat_x_(.*)$", "treat:\\1", x)

fit_variant <- function(centre, kind) {
  dd <- with_interactions(centre)
  if (kind == "CR2") {
    fit <- lm_robust(f, data = dd, clusters = age, se_type = "CR2")
    ok <- !is.na(coef(fit))  # factor(educ)18 is aliased (nodegree = educ < 12): lm drops it, as causalspec does
    V <- vcov(fit); nm <- names(coef(fit))[ok]
    list(coef = coef(fit)[ok], V = V[nm, nm], df = fit$df[ok], dfres = fit$df.residual)
  } else if (kind == "HC2") {
    fit <- lm(f, data = dd)
    list(coef = na.omit(coef(fit)), V = vcovHC(fit, type = "HC2"), df = rep(fit$df.residual, sum(!is.na(coef(fit)))),
         dfres = fit$df.residual, lm = fit)
  } else {
    fit <- lm(f, data = dd, weights = w)
    list(coef = na.omit(coef(fit)), V = vcovHC(fit, type = "HC1"), df = rep(fit$df.residual, sum(!is.na(coef(fit)))),
         dfres = fit$df.residual, lm = fit)
  }
}
row <- function(r, term = "treat") {
  i <- which(names(r$coef) == term)
  se <- sqrt(r$V[i, i]); q <- qt(0.975, r$df[i])
  list(estimate = unname(r$coef[i]), std_error = se, statistic = unname(r$coef[i]) / se,
       p_value = 2 * pt(-abs(unname(r$coef[i]) / se), r$df[i]), conf_low = unname(r$coef[i]) - q * se,
       conf_high = unname(r$coef[i]) + q * se, df = unname(r$df[i]))
}
variants <- list()
for (kind in c("HC2", "CR2", "HC1_weighted")) {
  wts <- if (kind == "HC1_weighted") d$w else rep(1, nrow(d))
  means <- unlist(lapply(mods, function(M) apply(M, 2, weighted.mean, w = wts)))
  names(means) <- unlist(lapply(mods, colnames))
  r <- fit_variant(as.list(means), kind)
  terms <- grep("^treat_x_", names(r$coef), value = TRUE)
  idx <- match(terms, names(r$coef))
  b <- r$coef[idx]; Vi <- r$V[idx, idx]
  fstat <- as.numeric(t(b) %*% solve(Vi, b)) / length(idx)
  if (kind != "CR2") {
    lh <- linearHypothesis(r$lm, terms, vcov. = r$V, test = "F", singular.ok = TRUE)
    stopifnot(abs(lh$F[2] - fstat) < 1e-8 * fstat)
  }
  conditional <- list()
  for (m in names(at)) for (v in at[[m]]) {
    centre <- as.list(means)
    code <- coding(m, v)
    for (j in colnames(mods[[m]])) centre[[j]] <- if (length(code) > 1) code[[j]] else code
    conditional[[length(conditional) + 1]] <- c(list(modifier = m, at = v), row(fit_variant(centre, kind)))
  }
  variants[[kind]] <- list(
    effect = row(r), centred_at = as.list(means),
    interactions = lapply(setNames(terms, rename(terms)), function(t) row(r, t)),
    interaction_test = list(statistic = fstat, df1 = length(idx), df2 = r$dfres,
                            p_value = pf(fstat, length(idx), r$dfres, lower.tail = FALSE)),
    conditional_effects = conditional)
}
plain <- lm(base, data = d)
case <- list(
  id = "ols_lalonde_heterogeneity", family = "ols",
  description = paste("Regression terms and effect modification in OLS regression adjustment (lalonde):",
                      "the adjustment written as R terms (age + I(age^2), factor(educ)), the treatment interacted",
                      "with race, married and re74 centred at their (weighted) means; the average effect, the",
                      "interaction coefficients, their joint F test and the effect at modifier values, for HC2,",
                      "CR2 by age and weighted HC1"),
  data = list(file = "data/lalonde.csv", rows = nrow(d),
              sha256 = strsplit(system2("sha256sum", "tests/parity/data/lalonde.csv", stdout = TRUE), " ")[[1]][1],
              origin = list(package = "MatchIt", dataset = "lalonde")),
  r_call = paste("lm(re78 ~ treat + married + nodegree + race + re74 + re75 + age + I(age^2) + factor(educ) +",
                 "treat:(model.matrix(~ m)[, -1] - centre) for m in race, married, re74); centre = the (weighted)",
                 "column means, or the coding of m = v; sandwich::vcovHC(type = 'HC2'), estimatr::lm_robust(",
                 "clusters = age, se_type = 'CR2'), lm(weights = w) + vcovHC(type = 'HC1');",
                 "car::linearHypothesis(fit, interaction terms, vcov. = V, test = 'F')"),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    sandwich = as.character(packageVersion("sandwich")),
                    estimatr = as.character(packageVersion("estimatr")), car = as.character(packageVersion("car")),
                    platform = "Debian bookworm"),
  model = list(weights = "w = 1 + married + age / 50 (HC1_weighted only)", at = at),
  expected = list(nobs = nobs(plain),
                  terms_only = list(coef = as.list(na.omit(coef(plain))),
                                    se_HC2 = as.list(sqrt(diag(vcovHC(plain, type = "HC2"))))),
                  variants = variants),
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/ols_lalonde_heterogeneity.json")
cat("wrote tests/parity/cases/ols_lalonde_heterogeneity.json\n")

# IPW with Horvitz-Thompson weights and with overlap weights (issue 13): on the Dehejia-Wahba lalonde data, the
# logistic propensity model treat ~ age + educ + race + married + nodegree + re74 + re75 fitted to its maximum,
# then
#   * the Horvitz-Thompson ATE, ATT and ATC: mu_a = sum(d_a w_a y) / sum(G), G = 1, t, 1 - t (Lunceford & Davidian
#     2004), with the M-estimation SE of the stacked equations (the logit scores and d_a w_a y - G mu_a);
#   * the ATO with overlap weights (treated 1 - e, controls e; Li, Morgan & Zaslavsky 2018), normalised, with the
#     M-estimation SE of the scores and d_a w_a (y - mu_a);
# each sandwich A^-1 B A^-T / n with A the numerical Jacobian (numDeriv::jacobian) of the mean estimating equations
# -- an independent check of causalspec's analytic one -- and the weights-fixed SEs estimatr reports:
# lm_robust(re78 ~ treat, weights = overlap weights, se_type = HC0-HC3) for the ATO, lm_robust(z ~ 1, se_type) of
# the unit contrasts z = t y / e - (1 - t) y / (1 - e) for the Horvitz-Thompson ATE.
# Writes tests/parity/cases/ipw_lalonde_ht_ato.json.  Run from the repository root:
#   Rscript tools/rparity/build_ipw_ht_ato.R
library(jsonlite)
library(numDeriv)
library(estimatr)
path <- "tests/parity/data/lalonde.csv"
d <- read.csv(path, row.names = "id")
f <- treat ~ age + educ + race + married + nodegree + re74 + re75
ps <- glm(f, family = binomial(), data = d, control = glm.control(epsilon = 1e-15, maxit = 100))
X <- model.matrix(f, d)
t <- d$treat
y <- d$re78
n <- nrow(d)
k <- ncol(X)
arm_w <- function(e, estimand) switch(estimand,
  ATE = list(w1 = 1 / e, w0 = 1 / (1 - e)), ATT = list(w1 = rep(1, length(e)), w0 = e / (1 - e)),
  ATC = list(w1 = (1 - e) / e, w0 = rep(1, length(e))), ATO = list(w1 = 1 - e, w0 = e))
target <- function(estimand) switch(estimand, ATE = rep(1, n), ATT = t, ATC = 1 - t)
psi <- function(theta, estimand, ht) {  # theta = (mu0, mu1, gamma)
  g <- theta[3:(2 + k)]
  e <- plogis(drop(X %*% g))
  w <- arm_w(e, estimand)
  if (ht) {
    G <- target(estimand)
    m0 <- (1 - t) * w$w0 * y - G * theta[1]
    m1 <- t * w$w1 * y - G * theta[2]
  } else {
    m0 <- (1 - t) * w$w0 * (y - theta[1])
    m1 <- t * w$w1 * (y - theta[2])
  }
  cbind(m0, m1, X * (t - e))
}
m_estimate <- function(estimand, ht) {
  g <- coef(ps)
  e <- plogis(drop(X %*% g))
  w <- arm_w(e, estimand)
  if (ht) {
    G <- target(estimand)
    mu <- c(sum((1 - t) * w$w0 * y) / sum(G), sum(t * w$w1 * y) / sum(G))
  } else {
    mu <- c(sum((1 - t) * w$w0 * y) / sum((1 - t) * w$w0), sum(t * w$w1 * y) / sum(t * w$w1))
  }
  theta <- c(mu, g)
  A <- jacobian(function(th) colMeans(psi(th, estimand, ht)), theta, method = "Richardson",
                method.args = list(eps = 1e-4, d = 1e-4, r = 6))
  P <- psi(theta, estimand, ht)
  B <- crossprod(P) / n
  Ai <- solve(A)
  V <- Ai %*% B %*% t(Ai) / n
  L <- c(-1, 1, rep(0, k))
  list(estimand = estimand, weights = if (ht) "horvitz_thompson" else "normalized",
       estimate = mu[2] - mu[1], std_error = sqrt(drop(t(L) %*% V %*% L)),
       po_means = list(`0` = mu[1], `1` = mu[2]), po_std_errors = list(`0` = sqrt(V[1, 1]), `1` = sqrt(V[2, 2])),
       e = e, w = ifelse(t == 1, w$w1, w$w0))
}
fixed <- function(formula, data, weights = NULL) {
  out <- list()
  for (se in c("HC0", "HC1", "HC2", "HC3")) {
    fit <- if (is.null(weights)) lm_robust(formula, data = data, se_type = se)
           else lm_robust(formula, data = data, weights = weights, se_type = se)
    out[[se]] <- unname(fit$std.error[length(fit$std.error)])
  }
  out
}
# the potential-outcome means' SEs under the same weights-fixed rule: the intercept and intercept + treat of the
# weighted regression (ATO); each arm's lm_robust(z_a ~ 1) of its Horvitz-Thompson terms (ATE)
fixed_po_wls <- function(formula, data, weights) {
  out <- list()
  for (se in c("HC0", "HC1", "HC2", "HC3")) {
    V <- vcov(lm_robust(formula, data = data, weights = weights, se_type = se))
    out[[se]] <- list(`0` = sqrt(V[1, 1]), `1` = sqrt(sum(V)))
  }
  out
}
fixed_po_ht <- function(z0, z1) {
  out <- list()
  for (se in c("HC0", "HC1", "HC2", "HC3")) {
    out[[se]] <- list(`0` = unname(lm_robust(z ~ 1, data = data.frame(z = z0), se_type = se)$std.error),
                      `1` = unname(lm_robust(z ~ 1, data = data.frame(z = z1), se_type = se)$std.error))
  }
  out
}
results <- list()
for (est in c("ATE", "ATT", "ATC")) {
  r <- m_estimate(est, TRUE)
  entry <- r[c("estimand", "weights", "estimate", "std_error", "po_means", "po_std_errors")]
  if (est == "ATE") {
    z <- data.frame(z = t * y * r$w - (1 - t) * y * r$w)
    entry$weights_fixed <- fixed(z ~ 1, z)
    entry$weights_fixed_call <- "lm_robust(z ~ 1, se_type = se), z = t y / e - (1 - t) y / (1 - e)"
    entry$weights_fixed_po <- fixed_po_ht((1 - t) * y * r$w, t * y * r$w)
    entry$weights_fixed_po_call <- "lm_robust(z_a ~ 1, se_type = se), z_1 = t y / e, z_0 = (1 - t) y / (1 - e)"
  }
  results[[paste0("ht_", tolower(est))]] <- entry
}
r <- m_estimate("ATO", FALSE)
entry <- r[c("estimand", "weights", "estimate", "std_error", "po_means", "po_std_errors")]
dd <- data.frame(re78 = y, treat = t, w = r$w)
entry$weights_fixed <- fixed(re78 ~ treat, dd, dd$w)
entry$weights_fixed_call <- "lm_robust(re78 ~ treat, weights = w, se_type = se), w = 1 - e (treated), e (controls)"
entry$weights_fixed_po <- fixed_po_wls(re78 ~ treat, dd, dd$w)
entry$weights_fixed_po_call <- "lm_robust(re78 ~ treat, weights = w, se_type = se): SE of the intercept (POmean:0), of intercept + treat (POmean:1)"
entry$lm_robust_estimate <- unname(coef(lm_robust(re78 ~ treat, data = dd, weights = w))["treat"])
entry$overlap_weights_head <- unname(r$w[1:10])
results[["ato"]] <- entry
case <- list(
  id = "ipw_lalonde_ht_ato", family = "propensity",
  description = paste("IPW on lalonde with Horvitz-Thompson weights (ATE, ATT, ATC) and with overlap weights (ATO):",
                      "estimates, potential-outcome means, M-estimation SEs from a numerical Jacobian of the stacked",
                      "estimating equations, and the weights-fixed lm_robust SEs"),
  data = list(file = "data/lalonde.csv", rows = n,
              sha256 = strsplit(system2("sha256sum", path, stdout = TRUE), " ")[[1]][1],
              origin = list(package = "MatchIt", dataset = "lalonde")),
  r_call = paste("glm(treat ~ age + educ + race + married + nodegree + re74 + re75, binomial, epsilon = 1e-15);",
                 "stacked psi (logit scores; HT: d_a w_a y - G mu_a; ATO: d_a w_a (y - mu_a)),",
                 "A = numDeriv::jacobian(colMeans(psi)), V = A^-1 B A^-T / n; estimatr::lm_robust for the fixed weights"),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    estimatr = as.character(packageVersion("estimatr")),
                    numDeriv = as.character(packageVersion("numDeriv")), platform = "Debian bookworm"),
  spec = list(treatment = "treat", outcome = "re78",
              adjustment = c("age", "educ", "race", "married", "nodegree", "re74", "re75")),
  expected = results,
  tolerance = list(rel = 1e-8, rel_m_estimation_se = 1e-7,
                   note = "M-estimation SEs use Richardson extrapolation of the numerical Jacobian (about 1e-9 relative)")
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/parity/cases/ipw_lalonde_ht_ato.json")
cat("wrote tests/parity/cases/ipw_lalonde_ht_ato.json\n")

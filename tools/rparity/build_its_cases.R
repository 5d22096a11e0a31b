# Reference values for the interrupted time series design (issue 16) on R's Seatbelts data (UK road casualties,
# January 1969 to December 1984; the compulsory front-seat belt law took effect on 31 January 1983, so `law` is 1
# from February 1983).  Writes the data (tests/parity/data/seatbelts.csv and seatbelts_seats.csv, specs/data/
# seatbelts.csv) and tests/parity/cases/its_*.json.
#
# The segmented regression is built column by column exactly as causalspec.estimators.its.segmented_design builds
# it: time = 1..n (the period index), level = time >= t0, trend = (time - t0) * level, Fourier terms
# sin_j / cos_j = sin / cos(2 pi j time / 12), or season_2..season_12 indicators, and for comparative ITS every
# term times group (1 for the front-seat series).  Variances: sandwich::NeweyWest (one series),
# sandwich::vcovPL(cluster = ~ series, order.by = ~ time, aggregate = FALSE) (comparative), vcov / vcovHC (ols);
# nlme::gls(correlation = corAR1()) for ar1_gls.  lmtest::bgtest for serial correlation.
#
# nlme::gls stops its nlminb search within about 1e-7 of the optimum in phi (nlminb's default x.tol 1.5e-8 on
# the unconstrained parameter; glsControl's tolerances do not reach it), which moves coefficients by ~1e-8.  The
# reference values at 1e-8 are therefore gls evaluated (corAR1(value = phi, fixed = TRUE)) at the phi that zeroes
# the derivative of gls's own logLik (a 5-point central difference, h = 1e-4, solved by uniroot to 1e-13); the
# output of the default gls() call is kept beside them under "gls_default".
#
# Run from the repository root: Rscript tools/rparity/build_its_cases.R
# Needs (Debian bookworm): r-base-core 4.2.2, r-cran-sandwich, r-cran-lmtest, r-cran-nlme, r-cran-jsonlite.
suppressPackageStartupMessages({library(sandwich); library(lmtest); library(nlme); library(jsonlite)})

# ------------------------------------------------------------------------------------------------ the data
sb <- as.data.frame(Seatbelts)
tt <- time(Seatbelts)
yr <- floor(tt + 1e-9); mo <- round((tt - yr) * 12) + 1
sb <- data.frame(month = sprintf("%d-%02d", yr, mo), sb)
write.csv(sb, "tests/parity/data/seatbelts.csv", row.names = FALSE)
write.csv(sb, "specs/data/seatbelts.csv", row.names = FALSE)
seats <- rbind(data.frame(month = sb$month, seat = "front", killed = sb$front, law = sb$law),
               data.frame(month = sb$month, seat = "rear", killed = sb$rear, law = 0L))
write.csv(seats, "tests/parity/data/seatbelts_seats.csv", row.names = FALSE)
sha <- function(f) strsplit(system2("sha256sum", f, stdout = TRUE), " ")[[1]][1]
sb <- read.csv("tests/parity/data/seatbelts.csv")
seats <- read.csv("tests/parity/data/seatbelts_seats.csv")  # sorted by seat, then month (vcovPL's nc: see below)

versions <- list(R = paste(R.version$major, R.version$minor, sep = "."),
                 sandwich = as.character(packageVersion("sandwich")), lmtest = as.character(packageVersion("lmtest")),
                 nlme = as.character(packageVersion("nlme")), jsonlite = as.character(packageVersion("jsonlite")),
                 platform = "Debian bookworm")
origin <- list(package = "datasets (base R)", version = versions$R, dataset = "Seatbelts",
               note = "Harvey & Durbin (1986), J. R. Statist. Soc. A 149, 187-227; month written as YYYY-MM")

# ------------------------------------------------------------------------------------------------ helpers
num <- function(x) as.numeric(unclass(x))
named <- function(x, nm = names(x)) setNames(as.list(num(x)), nm)

design <- function(time, cuts, season = NULL, harmonics = 2, group = NULL, covs = NULL) {
  X <- data.frame(time = time)
  for (k in seq_along(cuts)) {
    nm <- if (length(cuts) == 1) c("level", "trend") else paste0(c("level_", "trend_"), k)
    X[[nm[1]]] <- as.numeric(time >= cuts[k])
    X[[nm[2]]] <- (time - cuts[k]) * X[[nm[1]]]
  }
  if (identical(season, "fourier")) for (j in seq_len(harmonics)) {
    if (2 * j != 12) X[[paste0("sin_", j)]] <- sin(2 * pi * j * time / 12)
    X[[paste0("cos_", j)]] <- cos(2 * pi * j * time / 12)
  }
  if (identical(season, "dummies")) {
    s <- (time - 1) %% 12 + 1
    for (j in 2:12) X[[paste0("season_", j)]] <- as.numeric(s == j)
  }
  if (!is.null(group)) {
    base <- names(X)
    X$group <- group
    for (nm in base) X[[paste0("group_", nm)]] <- group * X[[nm]]
  }
  if (!is.null(covs)) X <- cbind(X, covs)
  X
}
effect_terms <- function(X) grep("^(group_)?(level|trend)(_[0-9]+)?$", names(X), value = TRUE)
pick_effects <- function(X, comparative) {
  e <- effect_terms(X)
  if (comparative) grep("^group_", e, value = TRUE) else e
}

coef_table <- function(b, V, df) {
  se <- sqrt(diag(V)); t <- b / se
  list(coef = named(b), se = named(se), tstat = named(t), pvalue = named(2 * pt(-abs(t), df)),
       conf_low = named(b - qt(0.975, df) * se), conf_high = named(b + qt(0.975, df) * se))
}

# average / cumulative / relative effect over the interrupted series' post-interruption rows (delta method)
effects <- function(Xm, b, V, df, post, eff) {
  A <- Xm[post, , drop = FALSE]; A[, setdiff(colnames(A), eff)] <- 0
  a <- colMeans(A)
  C <- Xm[post, , drop = FALSE]; C[, eff] <- 0
  cf <- colMeans(C)
  m <- length(post)
  one <- function(est, se) list(estimate = est, std_error = se, statistic = est / se, p_value = 2 * pt(-abs(est / se), df),
                                conf_low = est - qt(0.975, df) * se, conf_high = est + qt(0.975, df) * se)
  avg <- sum(a * b); se_avg <- sqrt(drop(t(a) %*% V %*% a))
  den <- sum(cf * b); rel <- avg / den; g <- a / den - avg * cf / den^2
  band_se <- sqrt(rowSums((C %*% V) * C))
  list(average_effect = one(avg, se_avg), cumulative_effect = one(m * avg, m * se_avg),
       relative_effect = one(rel, sqrt(drop(t(g) %*% V %*% g))), post_periods = m,
       counterfactual = num(C %*% b), counterfactual_se = num(band_se))
}

gls_fit <- function(f, data, method, form, phi = NULL) {
  cs <- if (is.null(phi)) corAR1(form = form) else corAR1(value = phi, form = form, fixed = TRUE)
  gls(f, data = data, correlation = cs, method = method)
}
gls_phi <- function(g) num(coef(g$modelStruct$corStruct, unconstrained = FALSE))
refine <- function(f, data, method, form) {
  g0 <- gls_fit(f, data, method, form)
  ll <- function(p) as.numeric(logLik(gls_fit(f, data, method, form, p)))
  h <- 1e-4
  score <- function(p) (8 * (ll(p + h) - ll(p - h)) - (ll(p + 2 * h) - ll(p - 2 * h))) / (12 * h)
  p0 <- gls_phi(g0)
  phi <- uniroot(score, p0 + c(-1e-3, 1e-3), tol = 1e-13)$root
  list(default = g0, fit = gls_fit(f, data, method, form, phi))
}
gls_summary <- function(g) {
  list(phi = gls_phi(g), sigma = g$sigma, loglik = as.numeric(logLik(g)), df = g$dims$N - g$dims$p)
}

# one segmented regression with a variance ("nw", "nw_options", "pl", "gls_REML", "gls_ML", "iid", "HC3")
fit_one <- function(y, X, kind, opts = list(), groups = NULL, tvar = NULL) {
  dat <- cbind(y = y, X)
  fit <- lm(y ~ ., data = dat)
  df <- fit$df.residual
  out <- list()
  if (kind == "nw") {
    out$bandwidth <- if (is.null(opts$lag)) bwNeweyWest(fit, prewhite = if (is.null(opts$prewhite)) TRUE else opts$prewhite) else NULL
    V <- do.call(NeweyWest, c(list(fit), opts))
    out$lag <- if (is.null(opts$lag)) floor(out$bandwidth) else opts$lag
    b <- coef(fit)
  } else if (kind == "pl") {
    dat$series <- groups; dat$time <- tvar
    fit <- lm(y ~ . - series, data = dat)
    V <- do.call(vcovPL, c(list(fit, cluster = ~ series, order.by = ~ time, aggregate = FALSE), opts))
    out$lag <- if (is.null(opts$lag)) floor(length(unique(tvar))^(1 / 4)) else opts$lag
    b <- coef(fit)
  } else if (startsWith(kind, "gls_")) {
    method <- sub("gls_", "", kind)
    if (is.null(groups)) { form <- if ("time" %in% names(dat)) ~ time else ~ 1 } else {
      dat$series <- groups; form <- ~ time | series }
    f <- if (is.null(groups)) y ~ . else y ~ . - series
    r <- refine(f, dat, method, form)
    g <- r$fit
    b <- coef(g); V <- vcov(g); df <- g$dims$N - g$dims$p
    out$gls <- gls_summary(g)
    out$gls_default <- c(gls_summary(r$default), list(coef = named(coef(r$default)),
                                                      se = named(sqrt(diag(vcov(r$default))))))
  } else if (kind == "iid") {
    V <- vcov(fit); b <- coef(fit)
  } else {
    V <- vcovHC(fit, type = kind); b <- coef(fit)
  }
  out$b <- b; out$V <- V; out$df <- df; out$fit <- fit
  out
}

placebo_times <- function(pre) {
  n <- length(pre); out <- c()
  for (q in c(0.25, 0.5, 0.75)) {
    pos <- floor(q * n)
    if (pos >= 3 && n - pos >= 3) out <- c(out, pre[pos + 1])
  }
  unique(out)
}

labels <- sb$month
run_case <- function(id, description, data_file, frame, y, time, t0, kind, opts = list(), season = "fourier",
                     harmonics = 2, covs = NULL, comparative = FALSE, r_call, bg_order = 12, extra = list(), spec_design = list()) {
  group <- if (comparative) as.numeric(frame$seat == "front") else NULL
  series <- if (comparative) frame$seat else NULL
  X <- design(time, t0, season, harmonics, group, if (is.null(covs)) NULL else frame[, covs, drop = FALSE])
  f <- fit_one(frame[[y]], X, kind, opts, series, time)
  Xm <- cbind("(Intercept)" = 1, as.matrix(X))
  eff <- pick_effects(X, comparative)
  treated <- if (comparative) frame$seat == "front" else rep(TRUE, nrow(frame))
  post <- which(treated & time >= t0)
  expected <- list(nobs = nrow(frame), df = f$df, terms = colnames(Xm), effect_terms = eff,
                   coefficients = coef_table(f$b, f$V, f$df),
                   effects = effects(Xm, f$b, f$V, f$df, post, eff))
  if (!is.null(f$lag)) expected$lag <- f$lag
  if (!is.null(f$bandwidth)) expected$bandwidth <- f$bandwidth
  if (!is.null(f$gls)) { expected$gls <- f$gls; expected$gls_default <- f$gls_default }
  # Breusch-Godfrey on each series' own OLS segmented regression
  bg <- list()
  for (s in if (comparative) c("front", "rear") else "all") {
    rows <- if (comparative) which(frame$seat == s) else seq_len(nrow(frame))
    Xs <- design(time[rows], t0, season, harmonics, NULL, if (is.null(covs)) NULL else frame[rows, covs, drop = FALSE])
    fs <- lm(y ~ ., data = cbind(y = frame[[y]][rows], Xs))
    chi <- bgtest(fs, order = bg_order); ft <- bgtest(fs, order = bg_order, type = "F")
    bg[[s]] <- list(order = bg_order, statistic = num(chi$statistic), df = num(chi$parameter),
                    p_value = chi$p.value, f_statistic = num(ft$statistic), df1 = num(ft$parameter[1]),
                    df2 = num(ft$parameter[2]), f_p_value = ft$p.value)
  }
  expected$breusch_godfrey <- bg
  # placebo interruptions in the pre-period, refitted on the pre-period rows with the same variance
  pre_rows <- which(time < t0)
  pre_times <- sort(unique(time[treated & time < t0]))
  placebo <- list()
  for (p in placebo_times(pre_times)) {
    Xp <- design(time[pre_rows], p, season, harmonics, if (comparative) group[pre_rows] else NULL,
                 if (is.null(covs)) NULL else frame[pre_rows, covs, drop = FALSE])
    fp <- fit_one(frame[[y]][pre_rows], Xp, kind, opts, if (comparative) series[pre_rows] else NULL, time[pre_rows])
    ct <- coef_table(fp$b, fp$V, fp$df)
    lv <- if (comparative) "group_level" else "level"; tr <- if (comparative) "group_trend" else "trend"
    pick <- function(term) list(estimate = ct$coef[[term]], std_error = ct$se[[term]], p_value = ct$pvalue[[term]],
                                conf_low = ct$conf_low[[term]], conf_high = ct$conf_high[[term]])
    placebo[[length(placebo) + 1]] <- c(list(period = labels[p], level_change = pick(lv), slope_change = pick(tr)),
                                        if (!is.null(fp$lag)) list(lag = fp$lag) else list())
  }
  expected$placebo <- placebo
  # naive contrast: outcome ~ treatment on the interrupted series, the same variance on one series
  rows <- which(treated)
  nk <- if (kind == "pl") "nw" else kind
  no <- if (kind == "pl") list() else opts
  fn <- fit_one(frame[[y]][rows], data.frame(law = frame$law[rows]), nk, no)
  expected$naive <- list(estimate = num(fn$b["law"]), std_error = sqrt(fn$V["law", "law"]))
  expected <- c(expected, extra)
  case <- list(id = id, family = "interrupted_time_series", description = description,
               data = list(file = paste0("data/", data_file), rows = nrow(frame),
                           sha256 = sha(file.path("tests/parity/data", data_file)), origin = origin),
               r_call = r_call, r_versions = versions,
               spec = list(outcome = y, interruption = labels[t0], season = season, harmonics = harmonics,
                           covariates = covs, comparative = comparative, bg_order = bg_order, options = opts,
                           causalspec = c(list(type = "interrupted_time_series", time = "month",
                                               interruptions = list(labels[t0]),
                                               seasonality = if (season == "fourier") list(period = 12, terms = "fourier", harmonics = harmonics)
                                                             else list(period = 12, terms = "dummies")),
                                          if (comparative) list(comparison = "seat") else list(), spec_design)),
               expected = expected, tolerance = list(rel = 1e-8, abs = 1e-10, gls_default_rel = 1e-6))
  writeLines(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path("tests/parity/cases", paste0(id, ".json")))
  invisible(case)
}

t0 <- which(sb$month == "1983-02")
n <- nrow(sb); time <- seq_len(n)
seg <- "lm(drivers ~ time + level + trend + sin_1 + cos_1 + sin_2 + cos_2), level = time >= 170, trend = (time - 170) * level"
run_case("its_seatbelts_newey_west",
         "UK drivers killed or seriously injured, monthly 1969-1984, segmented at the seat-belt law (1983-02) with two Fourier harmonics of the year: lmtest::coeftest with sandwich::NeweyWest's defaults (automatic bwNeweyWest lag, VAR(1) prewhitening, adjust = FALSE), the average / cumulative / relative post-period effects and the counterfactual band by the delta method, lmtest::bgtest of order 12, placebo interruptions at 1/4, 1/2, 3/4 of the pre-period and the naive lm(drivers ~ law)",
         "seatbelts.csv", sb, "drivers", time, t0, "nw",
         r_call = paste0("fit <- ", seg, "; lmtest::coeftest(fit, vcov. = sandwich::NeweyWest(fit)); lmtest::bgtest(fit, order = 12)"))
run_case("its_seatbelts_newey_west_options",
         "Seatbelts drivers with monthly indicators, distance driven (kms) and the petrol price as covariates: sandwich::NeweyWest(fit, lag = 3, prewhite = FALSE, adjust = TRUE)",
         "seatbelts.csv", sb, "drivers", time, t0, "nw", opts = list(lag = 3, prewhite = FALSE, adjust = TRUE),
         season = "dummies", covs = c("kms", "PetrolPrice"), spec_design = list(lag = 3, prewhite = FALSE, adjust = TRUE),
         r_call = "fit <- lm(drivers ~ time + level + trend + season_2 + ... + season_12 + kms + PetrolPrice); lmtest::coeftest(fit, vcov. = sandwich::NeweyWest(fit, lag = 3, prewhite = FALSE, adjust = TRUE))")
for (m in c("REML", "ML")) {
  run_case(paste0("its_seatbelts_ar1_gls_", tolower(m)),
           paste0("Seatbelts drivers, segmented with two Fourier harmonics, by nlme::gls with AR(1) errors (", m, "): coefficients, vcov, phi, sigma, logLik, the effects by the delta method, placebo interruptions refitted by gls"),
           "seatbelts.csv", sb, "drivers", time, t0, paste0("gls_", m),
           spec_design = list(variance = "ar1_gls", ar1_method = m),
           r_call = paste0("nlme::gls(drivers ~ time + level + trend + sin_1 + cos_1 + sin_2 + cos_2, correlation = corAR1(form = ~ time), method = \"", m, "\") at the phi zeroing d logLik / d phi"))
}
variants <- list()
for (k in c("iid", "HC1", "HC3")) {
  X <- design(time, t0, "fourier", 2)
  f <- fit_one(sb$drivers, X, k)
  variants[[k]] <- coef_table(f$b, f$V, f$df)
}
run_case("its_seatbelts_ols",
         "Seatbelts drivers by lm with classical (iid) standard errors, and sandwich::vcovHC HC1 / HC3 in vcov_variants",
         "seatbelts.csv", sb, "drivers", time, t0, "iid", spec_design = list(variance = "ols"), r_call = paste0("fit <- ", seg, "; summary(fit); sandwich::vcovHC(fit, type = 'HC1' | 'HC3')"),
         extra = list(vcov_variants = variants))
# comparative ITS: front-seat passengers (covered by the 1983 law) against rear-seat passengers (not until 1991).
# vcovPL(aggregate = FALSE) counts clusters as the code of the last row after ordering by time (nc <- cluster[n]);
# with the data sorted by seat then month that row is the last series, so every series' lags are used.
tm <- match(seats$month, sb$month)
run_case("its_seatbelts_seats_newey_west",
         "Comparative ITS: front- vs rear-seat passengers killed or seriously injured, every term interacted with group (front = 1), two Fourier harmonics; the panel Newey-West of sandwich::vcovPL(cluster = ~ seat, order.by = ~ time, aggregate = FALSE) with its default lag (NW1987, floor(T^(1/4)) = 3) and adjust = TRUE",
         "seatbelts_seats.csv", seats, "killed", tm, t0, "pl", comparative = TRUE,
         r_call = "fit <- lm(killed ~ (time + level + trend + sin_1 + cos_1 + sin_2 + cos_2) * group); lmtest::coeftest(fit, vcov. = sandwich::vcovPL(fit, cluster = ~ seat, order.by = ~ time, aggregate = FALSE))")
run_case("its_seatbelts_seats_ar1_gls",
         "Comparative ITS of front- vs rear-seat casualties by nlme::gls with AR(1) errors within each series (corAR1(form = ~ time | seat), REML)",
         "seatbelts_seats.csv", seats, "killed", tm, t0, "gls_REML", comparative = TRUE,
         spec_design = list(variance = "ar1_gls"),
         r_call = "nlme::gls(killed ~ (time + level + trend + sin_1 + cos_1 + sin_2 + cos_2) * group, correlation = corAR1(form = ~ time | seat), method = \"REML\") at the phi zeroing d logLik / d phi")
cat("wrote tests/parity/cases/its_*.json\n")

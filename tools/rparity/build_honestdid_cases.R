# Reference values for Rambachan & Roth's parallel-trends sensitivity (HonestDiD), from the package's own
# documented examples.
#
# HonestDiD needs CVXR, lpSolveAPI, Rglpk and TruncatedNormal, which Debian does not package, and CRAN is not
# reachable from the build machine; so HonestDiD is not run here.  Its README (README.Rmd, knitted with
# knitr's cache) stores every cached chunk's objects in README_cache/gfm: the Medicaid-expansion data, the
# event-study coefficients and covariances it passes to HonestDiD, and HonestDiD's results, at full precision.
# This script reads those caches with base R's lazyLoad() and writes them, with their provenance, as causalspec
# parity cases.  It also records base R's random numbers (set.seed, rnorm, and mvtnorm::rmvnorm, which HonestDiD
# uses for its simulated critical values) so the tests can check that causalspec reproduces them.
#
# Usage: Rscript tools/rparity/build_honestdid_cases.R <HonestDiD checkout> <HonestDiD commit>
# (a checkout of github.com/asheshrambachan/HonestDiD; the cases below were built from commit 6813f02).
# Needs: r-base-core, r-cran-jsonlite, r-cran-mvtnorm (Debian).  Numbers are written with 15 significant digits
# (jsonlite digits = NA), data with write.csv's 15.

args <- commandArgs(trailingOnly = TRUE)
repo <- args[1]
commit <- args[2]
out_dir <- "tests/parity/cases"
suppressMessages(library(jsonlite))

chunk <- function(stem) {
  f <- sub("\\.rdb$", "", list.files(file.path(repo, "README_cache/gfm"), pattern = paste0("^", stem, "_.*rdb$"),
                                    full.names = TRUE))
  e <- new.env()
  lazyLoad(f, envir = e)
  list(env = e, file = basename(f))
}
rows <- function(df, key) lapply(seq_len(nrow(df)), function(i) {
  r <- list(lb = df$lb[i], ub = df$ub[i])
  r[[key]] <- df[[key]][i]
  r
})
provenance <- function(file, call) list(
  source = paste0("github.com/asheshrambachan/HonestDiD README.Rmd, knitr cache README_cache/gfm/", file,
                  " at commit ", commit),
  r_call = call)
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."), jsonlite = as.character(packageVersion("jsonlite")),
                 mvtnorm = as.character(packageVersion("mvtnorm")), platform = "Debian bookworm",
                 HonestDiD = "README cache (the package version that knitted it is not recorded in the cache)")

# The Medicaid-expansion panel (Mixtape-Sessions/Advanced-DID ehec_data.dta), as the README read it.
c10 <- chunk("unnamed-chunk-10")
df <- as.data.frame(lapply(c10$env$df[, c("stfips", "year", "dins", "yexp2", "W")], as.vector))
write.csv(df, "tests/parity/data/ehec.csv", row.names = FALSE)
sha <- strsplit(system("sha256sum tests/parity/data/ehec.csv", intern = TRUE), " ")[[1]][1]
data <- list(file = "data/ehec.csv", rows = nrow(df), sha256 = sha,
             origin = list(dataset = "ehec_data.dta from github.com/Mixtape-Sessions/Advanced-DID (Exercises/Data)",
                           via = paste0("HonestDiD README knitr cache ", c10$file)))

write_case <- function(id, case) {
  case$id <- id
  case$family <- "honestdid"
  case$r_versions <- versions
  case$data <- data
  writeLines(toJSON(case, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
             file.path(out_dir, paste0(id, ".json")))
}

twfe_call <- paste("df_nonstaggered <- subset(df, year < 2016 & (is.na(yexp2) | yexp2 != 2015));",
                   "D <- yexp2 == 2014; fixest::feols(dins ~ i(year, D, ref = 2013) | stfips + year,",
                   "cluster = 'stfips'); betahat, sigma = summary(.)$coefficients, $cov.scaled")
c4 <- chunk("unnamed-chunk-4"); c5 <- chunk("unnamed-chunk-5"); c6 <- chunk("unnamed-chunk-6")
c7 <- chunk("unnamed-chunk-7")
write_case("honestdid_ehec_twfe", list(
  description = paste("Medicaid expansion and insurance coverage (HonestDiD README): TWFE event study, 5 pre- and",
                      "2 post-periods, relative-magnitudes (C-LF) and smoothness (FLCI) sensitivity."),
  event_study = twfe_call,
  grids = list(
    symmetric = "HonestDiD master: theta grid [-20, 20] standard errors (README cache of 2022-09-14)",
    centred = paste("HonestDiD pull request #53 / Stata honestdid: estimate +- (Mbar * sum_t t|l_t| * max|pre",
                    "first difference| + 20 SE); the README's printed examples (caches of 2024-03-28)")),
  relative_magnitudes = list(
    first_symmetric = c(provenance(c5$file, "createSensitivityResults_relativeMagnitudes(betahat, sigma, 5, 2, Mbarvec = seq(0, 2, by = 0.5))"),
                        list(l_vec = c(1, 0), grid = "symmetric", grid_points = 1000,
                             rows = rows(as.data.frame(c5$env$delta_rm_results), "Mbar"))),
    first_centred = c(provenance(c4$file, "createSensitivityResults_relativeMagnitudes(betahat, sigma, 5, 2, Mbarvec = seq(0.5, 2, by = 0.5))"),
                      list(l_vec = c(1, 0), grid = "centred", grid_points = 1000,
                           rows = rows(as.data.frame(c4$env$delta_rm_results), "Mbar"))),
    average_centred = c(provenance(c7$file, "createSensitivityResults_relativeMagnitudes(betahat, sigma, 5, 2, Mbarvec = seq(0, 2, by = 0.5), l_vec = c(0.5, 0.5))"),
                        list(l_vec = c(0.5, 0.5), grid = "centred", grid_points = 1000,
                             rows = rows(as.data.frame(c7$env$delta_rm_results_avg), "Mbar"),
                             original = list(lb = as.numeric(c7$env$originalResults_avg$lb), ub = as.numeric(c7$env$originalResults_avg$ub))))),
  smoothness = c(provenance(c6$file, "createSensitivityResults(betahat, sigma, 5, 2, Mvec = seq(0, 0.05, by = 0.01))"),
                 list(l_vec = c(1, 0), method = "FLCI", rows = rows(as.data.frame(c6$env$delta_sd_results), "M")))
))

bv <- c10$env$beta_vcv
write_case("honestdid_ehec_sunab", list(
  description = "Medicaid expansion, staggered: Sun & Abraham event study (10 pre-, 6 post-periods), relative magnitudes.",
  event_study = paste(deparse(c10$env$formula_sunab), "with cluster = 'stfips' on all years, year_treated = Inf",
                      "when never treated; period coefficients and covariance by the README's sunab_beta_vcv()"),
  terms = rownames(bv$beta), betahat = as.vector(bv$beta), sigma = unname(bv$sigma),
  relative_magnitudes = c(provenance(c10$file, "createSensitivityResults_relativeMagnitudes(betahat, sigma, 10, 6, Mbarvec = seq(0.5, 2, by = 0.5), gridPoints = 100)"),
                          list(l_vec = c(1, 0, 0, 0, 0, 0), grid = "centred", grid_points = 100,
                               rows = rows(as.data.frame(c10$env$sensitivity_results), "Mbar"),
                               original = list(lb = as.numeric(c10$env$original_results$lb), ub = as.numeric(c10$env$original_results$ub))))
))

c9 <- chunk("unnamed-chunk-9"); c12 <- chunk("unnamed-chunk-12")
es <- c9$env$es
cs_call <- paste("did::att_gt(dins ~ ., tname = 'year', idname = 'stfips', gname = 'yexp2' (never: 3000),",
                 "control_group = 'notyettreated', base_period = 'universal'); did::aggte(., type = 'dynamic',",
                 "min_e = -5, max_e = 5); sigma = crossprod(inf.function$dynamic.inf.func.e) / n^2")
write_case("honestdid_ehec_callaway_santanna", list(
  description = "Medicaid expansion, staggered: Callaway & Sant'Anna dynamic aggregation with a universal base period.",
  event_study = cs_call, egt = es$egt, att_egt = es$att.egt,
  relative_magnitudes = list(
    symmetric = c(provenance(c9$file, "honest_did(es, e = 0, type = 'relative_magnitude', Mbarvec = seq(0.5, 2, by = 0.5)) (gridPoints = 100)"),
                  list(grid = "symmetric", grid_points = 100, rows = rows(as.data.frame(c9$env$sensitivity_results$robust_ci), "Mbar"),
                       original = list(lb = as.numeric(c9$env$sensitivity_results$orig_ci$lb), ub = as.numeric(c9$env$sensitivity_results$orig_ci$ub)))),
    centred = c(provenance(c12$file, "honest_did(es, e = 0, type = 'relative_magnitude', Mbarvec = seq(0.5, 2, by = 0.5)) (gridPoints = 100)"),
                list(grid = "centred", grid_points = 100, rows = rows(as.data.frame(c12$env$sensitivity_results$robust_ci), "Mbar"))))
))

# Base R's random numbers, which HonestDiD's simulated critical values use.
set.seed(0); u <- runif(5)
set.seed(0); z <- rnorm(5)
set.seed(0); zz <- rnorm(1e6); fq <- quantile(abs(zz), 0.95, names = FALSE); fq2 <- quantile(abs(zz + 0.7), 0.95, names = FALSE)
S <- matrix(c(2, 0.5, 0.3, 0.5, 1, -0.2, 0.3, -0.2, 0.7), 3)
set.seed(0); mv <- mvtnorm::rmvnorm(4, sigma = S)
writeLines(toJSON(list(
  id = "r_random_numbers", family = "r_random", r_versions = versions,
  r_call = "set.seed(0); runif(5); set.seed(0); rnorm(5); set.seed(0); quantile(abs(rnorm(1e6) + mu), 0.95); set.seed(0); mvtnorm::rmvnorm(4, sigma = S)",
  expected = list(runif_seed0 = u, rnorm_seed0 = z, folded_q95_mu0 = fq, folded_q95_mu07 = fq2,
                  sigma = S, rmvnorm_seed0 = unname(mv))
), digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "r_random_numbers.json"))
cat("wrote honestdid cases\n")

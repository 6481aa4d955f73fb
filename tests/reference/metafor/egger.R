# Reference values for Egger's regression test (tests/test_certainty_rules.py), from R's metafor:
# regtest(x, model = "lm", predictor = "sei"), the classical test of Egger et al. 1997, on public data sets.
# Run from the repository root:   Rscript tests/reference/metafor/egger.R
suppressMessages(library(metafor))
library(jsonlite)

one <- function(dat) {
  res <- rma(yi, vi, data = dat, method = "REML")
  reg <- regtest(res, model = "lm", predictor = "sei")
  coefs <- summary(reg$fit)$coefficients
  list(yi = as.numeric(dat$yi), vi = as.numeric(dat$vi), k = res$k,
       t = reg$zval, p_value = reg$pval, df = reg$dfs,
       slope = coefs["Xsei", "Estimate"], slope_se = coefs["Xsei", "Std. Error"],
       limit_estimate = reg$est, limit_se = coefs["Xintrcpt", "Std. Error"])
}
h <- dat.hackshaw1998
ref <- list(
  metafor_version = as.character(packageVersion("metafor")),
  magnesium = one(escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)),
  bcg = one(escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)),
  smoking = one(data.frame(yi = log(h$or), vi = ((log(h$or.ub) - log(h$or.lb)) / (2 * qnorm(0.975)))^2)))
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path("tests", "reference", "metafor", "egger.json"))

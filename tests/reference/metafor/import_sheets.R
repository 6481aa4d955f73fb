# Reference values for tests/test_import_sheets.py: each sheet pooled by metafor as the import + build
# pipeline pools it (escalc defaults: 0.5 added to every cell of a study with a zero cell, double-zero
# studies dropped for ratio measures; REML; CIs by test = "z", "knha" and "adhoc").
# Run: Rscript tests/reference/metafor/import_sheets.R tests/reference/metafor/import_sheets.json
library(metafor)
library(jsonlite)
fit <- function(yi, vi) {
  out <- list()
  for (test in c("z", "knha", "adhoc")) {
    # metafor stops REML at a change of 1e-5 by default; the tighter threshold gives the exact maximum.
    m <- rma(yi, vi, method = "REML", test = test, control = list(threshold = 1e-12, maxiter = 1000))
    ci <- confint(m, control = list(tol = 1e-12))  # uniroot tolerance: the default (1e-4) is coarser than the test
    out[[test]] <- list(estimate = m$b[1], se = m$se, ci_low = m$ci.lb, ci_high = m$ci.ub,
      tau2 = m$tau2, i2 = m$I2, h2 = m$H2, q = m$QE, q_p = m$QEp, k = m$k,
      tau2_ci = c(ci$random[1, 2], ci$random[1, 3]))
  }
  out
}
b <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
e <- escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
n <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
h <- dat.hackshaw1998
hy <- log(h$or); hv <- ((log(h$or.ub) - log(h$or.lb)) / (2 * qnorm(0.975)))^2
ref <- list(
  metafor_version = as.character(packageVersion("metafor")),
  bcg = fit(b$yi, b$vi), magnesium = fit(e$yi, e$vi), stroke = fit(n$yi, n$vi), smoking = fit(hy, hv))
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), commandArgs(trailingOnly = TRUE)[1])

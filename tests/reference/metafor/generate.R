# Reference values for tests/test_metafor_reference.py, from R's metafor on public data sets.
#
# Run from the repository root:   Rscript tests/reference/metafor/generate.R
# It rewrites tests/reference/metafor/*.json. The tests read those files and never need R.
#
# Every data set is one of metafor's (package metadat) except three: "ma2023_ae_grade3", the pair of
# grade >= 3 adverse-event counts of Ma et al. in this repository's datapackage/adverse_events.csv (rows
# 56-59), the k = 2 case of issue 13 whose untruncated Hartung-Knapp interval was far narrower than the
# Wald-type one; "zero_cells", 2x2 tables constructed to exercise the zero-cell rules of rma.mh and
# rma.peto; and "oscillating", a synthetic set on which Fisher scoring oscillates.
#
# Tolerances: metafor's defaults stop Fisher scoring when a step is below 1e-5 (absolute) and find the
# Paule-Mandel root and the Q-profile bounds with uniroot(tol = .Machine$double.eps^0.25 ~ 1.2e-4,
# absolute). On risk differences (tau^2 ~ 1e-3) that leaves tau^2 off by ~1e-4 relative, so the fits
# below tighten them (control() below) to get the exact estimators; "default_control" keeps one
# REML fit per test with metafor's defaults, to show that the defaults agree to their own precision.

suppressMessages(library(metafor))
library(jsonlite)

OUT <- file.path("tests", "reference", "metafor")
# Thresholds relative to the data's scale: an absolute 1e-13 is below float resolution for tau^2 ~ 1000
# (mean differences in days) and loose for tau^2 ~ 1e-6.
control <- function(yi, vi) {
  scale <- var(yi) + mean(vi)
  list(threshold = 1e-12 * scale, maxiter = 10000, tol = 1e-12 * scale)
}
TESTS <- c("z", "knha", "adhoc")
METHODS <- c("REML", "PM", "DL")

num <- function(x) {
  x <- as.numeric(x)
  x[!is.finite(x)] <- NA
  x
}

main_fit <- function(res, scale) {
  # confint() searches tau^2 up to max(100, 10 tau^2) and prints a bound beyond that as ">value"
  # (censored); a wide search interval gives the actual Q-profile bound.
  ci <- confint(res, control = list(tol = 1e-12 * scale, tau2.max = 1e6 * scale))$random
  pr <- predict(res)
  list(
    k = res$k, method = res$method, test = res$test,
    estimate = num(res$beta), se = num(res$se), statistic = num(res$zval), df = num(res$ddf),
    p_value = num(res$pval), ci_low = num(res$ci.lb), ci_high = num(res$ci.ub),
    tau2 = num(res$tau2), i2 = num(res$I2), h2 = num(res$H2),
    q = num(res$QE), q_p = num(res$QEp),
    tau2_ci = num(ci["tau^2", c("ci.lb", "ci.ub")]), tau_ci = num(ci["tau", c("ci.lb", "ci.ub")]),
    i2_ci = num(ci["I^2(%)", c("ci.lb", "ci.ub")]), h2_ci = num(ci["H^2", c("ci.lb", "ci.ub")]),
    pi_low = num(pr$pi.lb), pi_high = num(pr$pi.ub),
    weights = num(weights(res) / 100)
  )
}

rows <- function(tab) {
  list(
    estimate = num(tab$estimate), se = num(tab$se), ci_low = num(tab$ci.lb), ci_high = num(tab$ci.ub),
    tau2 = num(tab$tau2), i2 = num(tab$I2), q = num(tab$Q)
  )
}

fits <- function(yi, vi, sensitivity = TRUE) {
  out <- list()
  for (method in METHODS) for (test in TESTS) {
    res <- rma(yi, vi, method = method, test = test, control = control(yi, vi))
    fit <- main_fit(res, var(yi) + mean(vi))
    if (sensitivity && length(yi) >= 3) fit$leave_one_out <- rows(leave1out(res))
    if (sensitivity) fit$cumulative <- rows(cumul(res))
    out[[length(out) + 1]] <- fit
  }
  out
}

default_control <- function(yi, vi) {
  lapply(TESTS, function(test) {
    res <- rma(yi, vi, method = "REML", test = test)
    list(test = test, estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb),
         ci_high = num(res$ci.ub), tau2 = num(res$tau2), i2 = num(res$I2))
  })
}

mh_fit <- function(res) {
  list(
    estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb), ci_high = num(res$ci.ub),
    statistic = num(res$zval), p_value = num(res$pval), q = num(res$QE), q_p = num(res$QEp),
    i2 = num(res$I2), h2 = num(res$H2), k = res$k, k_yi = res$k.yi
  )
}

count_block <- function(ai, n1i, ci, n2i) {
  out <- list()
  for (measure in c("RR", "OR", "RD")) {
    out[[paste0("mh_", measure)]] <- mh_fit(rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, measure = measure))
  }
  out$peto <- mh_fit(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i))
  out
}

subgroup_block <- function(yi, vi, g) {
  levels <- unique(as.character(g))
  out <- list(groups = as.character(g), levels = levels, by_test = list())
  for (test in TESTS) {
    mod <- rma(yi, vi, mods = ~ factor(g), method = "REML", test = test, control = control(yi, vi))
    per <- lapply(levels, function(lev) {
      sel <- g == lev
      res <- rma(yi[sel], vi[sel], method = "REML", test = test, control = control(yi, vi))
      list(level = lev, k = res$k, estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb),
           ci_high = num(res$ci.ub), tau2 = num(res$tau2))
    })
    # RevMan's test for subgroup differences: a common-effect model fitted to the subgroup estimates with
    # their (Wald) random-effects standard errors; its Q is Q-between (metafor's own idiom for comparing
    # separate meta-analyses).
    wald <- lapply(levels, function(lev) {
      sel <- g == lev
      rma(yi[sel], vi[sel], method = "REML", test = "z", control = control(yi, vi))
    })
    between <- rma(sapply(wald, function(r) r$beta), sapply(wald, function(r) r$se^2), method = "FE")
    out$by_test[[test]] <- list(
      qm = num(mod$QM), qm_df = num(mod$QMdf), qm_p = num(mod$QMp), tau2 = num(mod$tau2),
      coefficients = num(mod$beta), coefficient_se = num(mod$se),
      groups = per, q_between = num(between$QE), q_between_df = length(levels) - 1,
      q_between_p = num(between$QEp)
    )
  }
  out
}

write_set <- function(name, x) {
  x$generated_by <- paste0("metafor ", packageVersion("metafor"), ", ", R.version.string)
  writeLines(toJSON(x, auto_unbox = TRUE, digits = I(17), na = "null", null = "null", pretty = TRUE),
             file.path(OUT, paste0(name, ".json")))
}

binary_set <- function(name, source, labels, ai, n1i, ci, n2i, measures, groups = NULL) {
  x <- list(dataset = name, source = source, labels = labels,
            counts = list(a = ai, n1 = n1i, c = ci, n2 = n2i), analyses = list())
  for (measure in measures) {
    es <- escalc(measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i)
    analysis <- list(measure = measure, yi = num(es$yi), vi = num(es$vi), fits = fits(es$yi, es$vi),
                     default_control = default_control(es$yi, es$vi))
    if (!is.null(groups)) analysis$subgroups <- subgroup_block(es$yi, es$vi, groups)
    x$analyses[[measure]] <- analysis
  }
  x$mantel_haenszel <- count_block(ai, n1i, ci, n2i)
  write_set(name, x)
}

means_set <- function(name, source, labels, d, measures, sensitivity = TRUE) {
  x <- list(dataset = name, source = source, labels = labels,
            means = list(m1 = d$m1i, sd1 = d$sd1i, n1 = d$n1i, m2 = d$m2i, sd2 = d$sd2i, n2 = d$n2i),
            analyses = list())
  for (measure in measures) {
    es <- escalc(measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
    x$analyses[[measure]] <- list(measure = measure, yi = num(es$yi), vi = num(es$vi),
                                  fits = fits(es$yi, es$vi, sensitivity),
                                  default_control = default_control(es$yi, es$vi))
  }
  write_set(name, x)
}

# BCG vaccine against tuberculosis (Colditz et al. 1994), 13 trials; subgroups by allocation.
b <- dat.bcg
binary_set("dat.bcg", "metadat::dat.bcg (Colditz et al. 1994)", paste(b$author, b$year),
           b$tpos, b$tpos + b$tneg, b$cpos, b$cpos + b$cneg, c("RR", "OR", "RD"), groups = b$alloc)

# Intravenous magnesium after myocardial infarction: 16 trials (Egger et al. 2001, incl. ISIS-4) and 22
# trials (Li et al. 2007); single zero cells in both.
for (name in c("dat.egger2001", "dat.li2007")) {
  d <- get(name)
  binary_set(name, paste0("metadat::", name), paste(d$study, d$year), d$ai, d$n1i, d$ci, d$n2i,
             c("RR", "OR"))
}

# Ma et al.: grade >= 3 treatment-related adverse events, regorafenib + PD-1 inhibitor vs regorafenib, two
# cohorts (datapackage/adverse_events.csv rows 56-59, from the paper's Table 5).
binary_set("ma2023_ae_grade3", "datapackage/adverse_events.csv rows 56-59 (Ma et al., Table 5)",
           c("Ma et al. (PD-1 before regorafenib)", "Ma et al. (monotherapy before regorafenib)"),
           c(34, 13), c(103, 64), c(14, 9), c(59, 62), c("RR", "OR", "RD"))

# Zero cells for the Mantel-Haenszel and Peto estimators: tables constructed for this test (not data of any
# study): one with no events in either arm, one with events for everyone in both arms, one zero per arm.
x <- list(dataset = "zero_cells", source = "constructed for tests/test_metafor_reference.py",
          labels = paste("table", 1:6),
          counts = list(a = c(0, 2, 0, 5, 3, 1), n1 = c(10, 20, 15, 5, 30, 25),
                        c = c(0, 4, 1, 5, 0, 3), n2 = c(12, 20, 14, 5, 28, 25)))
x$mantel_haenszel <- with(x$counts, count_block(a, n1, c, n2))
write_set("zero_cells", x)

# Specialist stroke care vs conventional care: length of stay (Normand 1999), 9 studies.
d <- dat.normand1999
means_set("dat.normand1999", "metadat::dat.normand1999 (Normand 1999)", as.character(d$source), d,
          c("MD", "SMD", "ROM"))

# Elevated CO2 and plant growth (Curtis & Wang 1998), 102 observations; the classic ratio-of-means set.
d <- dat.curtis1998
means_set("dat.curtis1998", "metadat::dat.curtis1998 (Curtis & Wang 1998)", paste0("obs ", d$id), d,
          c("SMD", "ROM"), sensitivity = FALSE)

# Teacher expectancy and pupil IQ (Raudenbush 1985), 19 studies, standardised mean differences as
# published (yi, vi); subgroups by whether the tester was aware of the expectancy induction.
d <- dat.raudenbush1985
x <- list(dataset = "dat.raudenbush1985", source = "metadat::dat.raudenbush1985 (Raudenbush 1985)",
          labels = paste(d$author, d$year, d$study), analyses = list())
x$analyses$SMD <- list(measure = "SMD", yi = num(d$yi), vi = num(d$vi), fits = fits(d$yi, d$vi),
                       default_control = default_control(d$yi, d$vi),
                       subgroups = subgroup_block(d$yi, d$vi, d$tester))
write_set("dat.raudenbush1985", x)

# Passive smoking and lung cancer (Hackshaw et al. 1997), 37 studies: odds ratios printed with 95% CIs;
# yi = log(OR), vi from the CI's width on the log scale. Subgroups by design (cohort, case-control).
d <- dat.hackshaw1998
yi <- log(d$or)
vi <- ((log(d$or.ub) - log(d$or.lb)) / (2 * qnorm(0.975)))^2
x <- list(dataset = "dat.hackshaw1998", source = "metadat::dat.hackshaw1998 (Hackshaw et al. 1997)",
          labels = paste(d$author, d$year, d$study),
          reported = list(estimate = d$or, ci_low = d$or.lb, ci_high = d$or.ub), analyses = list())
x$analyses$OR <- list(measure = "OR", yi = num(yi), vi = num(vi), fits = fits(yi, vi),
                      default_control = default_control(yi, vi),
                      subgroups = subgroup_block(yi, vi, d$design))
write_set("dat.hackshaw1998", x)

# Fisher scoring that oscillates for more than metafor's 100 steps (a synthetic case from this project's
# tests): metafor's REML needs maxiter = 1000 to settle; method = c("REML", "PM", "DL") with the defaults
# falls back to Paule-Mandel.
yi <- c(-0.3425, -0.0943, -0.0943, -0.0408, -0.1985, -0.1165)
vi <- c(0.01796, 0.053, 0.0559, 0.01458, 0.06325, 0.06438)
reml <- rma(yi, vi, method = "REML", control = control(yi, vi))
chain <- rma(yi, vi, method = c("REML", "PM", "DL"))
write_set("oscillating", list(dataset = "oscillating", source = "tests/test_pooling_batch.py OSCILLATING",
                              yi = yi, vi = vi, reml_tau2 = num(reml$tau2),
                              chain_method_default_control = chain$method, chain_tau2 = num(chain$tau2)))

# Reference values for tests/stats/meta_test.cpp (metafor::escalc and rma).
# Data inline (metadat::dat.normand1999 and dat.bcg, duplicated in the test).
# Run from the repository root: Rscript tests/reference/stats_meta.R
suppressMessages(library(metafor))
p <- function(name, v) cat(sprintf("%s = %.17g\n", name, v))
pv <- function(name, v) cat(name, "=", sprintf("%.17g", v), "\n")
norm <- data.frame(
  n1i = c(155, 31, 75, 18, 8, 57, 34, 110, 60), m1i = c(55, 27, 64, 66, 14, 19, 52, 21, 30),
  sd1i = c(47, 7, 17, 20, 8, 7, 45, 16, 27), n2i = c(156, 32, 71, 18, 13, 52, 33, 183, 52),
  m2i = c(75, 29, 119, 137, 18, 18, 41, 31, 23), sd2i = c(64, 4, 29, 48, 11, 4, 34, 27, 20))
smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = norm)
pv("smd.yi", smd$yi); pv("smd.vi", smd$vi)
md <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = norm)
pv("md.yi", md$yi); pv("md.vi", md$vi)
# 2x2 counts; trial 14 added with a zero cell (0.5 added to its four cells only).
bcg <- data.frame(tpos = c(4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27, 0),
  tneg = c(119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886, 40),
  cpos = c(11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29, 4),
  cneg = c(128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825, 37),
  ablat = c(44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33, 30),
  year = c(1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976, 1990))
or <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
pv("or.yi", or$yi); pv("or.vi", or$vi)
fit <- function(tag, m) {
  p(paste0(tag, ".est"), m$beta[1]); p(paste0(tag, ".se"), m$se[1]); p(paste0(tag, ".z"), m$zval[1])
  p(paste0(tag, ".p"), m$pval[1]); p(paste0(tag, ".low"), m$ci.lb[1]); p(paste0(tag, ".high"), m$ci.ub[1])
  p(paste0(tag, ".tau2"), m$tau2); p(paste0(tag, ".Q"), m$QE); p(paste0(tag, ".Qp"), m$QEp)
  p(paste0(tag, ".I2"), m$I2); p(paste0(tag, ".H2"), m$H2)
  p(paste0(tag, ".QM"), m$QM); p(paste0(tag, ".QMp"), m$QMp)
  if (nrow(m$beta) == 1) { pr <- predict(m); p(paste0(tag, ".pi.low"), pr$pi.lb); p(paste0(tag, ".pi.high"), pr$pi.ub) }
}
tight <- list(threshold = 1e-12, maxiter = 1000)
fit("smd.fe", rma(yi, vi, data = smd, method = "FE"))
fit("smd.dl", rma(yi, vi, data = smd, method = "DL"))
fit("smd.reml", rma(yi, vi, data = smd, method = "REML", control = tight))
fit("or.reml", rma(yi, vi, data = or, method = "REML", control = tight))
fit("or.dl", rma(yi, vi, data = or, method = "DL"))
# Meta-regression on absolute latitude and year (REML, mixed effects).
mr <- rma(yi, vi, mods = ~ ablat + year, data = or, method = "REML", control = tight)
for (i in 1:3) {
  tag <- paste0("mr.", c("intrcpt", "ablat", "year")[i])
  p(paste0(tag, ".est"), mr$beta[i]); p(paste0(tag, ".se"), mr$se[i]); p(paste0(tag, ".z"), mr$zval[i])
  p(paste0(tag, ".p"), mr$pval[i]); p(paste0(tag, ".low"), mr$ci.lb[i]); p(paste0(tag, ".high"), mr$ci.ub[i])
}
p("mr.tau2", mr$tau2); p("mr.QE", mr$QE); p("mr.QEp", mr$QEp); p("mr.QM", mr$QM); p("mr.QMp", mr$QMp)
p("mr.I2", mr$I2); p("mr.H2", mr$H2)
# Homogeneous data: REML tau^2 on the boundary (0).
h <- rma(yi = c(0.1, 0.12, 0.09, 0.11), vi = c(0.04, 0.05, 0.03, 0.06), method = "REML", control = tight)
p("homog.tau2", h$tau2); p("homog.est", h$beta[1]); p("homog.I2", h$I2)

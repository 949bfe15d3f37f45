# Reference values for tests/stats/descriptives_test.cpp.
# Run from the repository root: Rscript tests/reference/stats_descriptives.R
d <- read.csv("tests/data/stats/trial.csv")
p <- function(name, v) cat(sprintf("%s = %.17g\n", name, v))
for (v in c("il6_change", "pain_change", "pcs_change")) {
  x <- d[[v]]
  p(paste0(v, ".n"), sum(!is.na(x)))
  p(paste0(v, ".missing"), sum(is.na(x)))
  p(paste0(v, ".mean"), mean(x, na.rm = TRUE))
  p(paste0(v, ".sd"), sd(x, na.rm = TRUE))
  q <- quantile(x, c(0, 0.25, 0.5, 0.75, 1), type = 7, na.rm = TRUE)
  p(paste0(v, ".min"), q[1]); p(paste0(v, ".q1"), q[2]); p(paste0(v, ".median"), q[3])
  p(paste0(v, ".q3"), q[4]); p(paste0(v, ".max"), q[5])
}
# General quantiles (type 7) at awkward probabilities.
for (pr in c(0.1, 0.333, 0.9, 0.975)) p(sprintf("quantile.pcs.%g", pr), quantile(d$pcs_change, pr, type = 7))
p("quantile.small.0.5", quantile(c(3, 1, 2, 10), 0.5))
p("quantile.small.0.1", quantile(c(3, 1, 2, 10), 0.1))
# Categorical counts (factor() sorts levels).
print(table(d$activity))
print(100 * prop.table(table(d$activity)), digits = 17)
# tableone's SMD formulas (tableone is not installed here; its StdDiff is
# (m1 - m2) / sqrt((v1 + v2) / 2), and for a binary variable
# (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2)); signed here.
g1 <- d$age[d$group == 1]; g0 <- d$age[d$group == 0]
p("smd.age", (mean(g1) - mean(g0)) / sqrt((var(g1) + var(g0)) / 2))
g1 <- d$il6_change[d$group == 1]; g0 <- d$il6_change[d$group == 0]
p("smd.il6", (mean(g1, na.rm = TRUE) - mean(g0, na.rm = TRUE)) / sqrt((var(g1, na.rm = TRUE) + var(g0, na.rm = TRUE)) / 2))
p1 <- mean(d$sex[d$group == 1]); p0 <- mean(d$sex[d$group == 0])
p("sex.p1", p1); p("sex.p0", p0)
p("smd.sex", (p1 - p0) / sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2))
# tableone's SMD of a categorical variable (StdDiffMulti, Yang & Dalton 2012):
# T = differences of the level proportions without the first level,
# S = the mean of the two groups' multinomial covariance matrices,
# SMD = sqrt(T' ginv(S) T).
mv <- function(m) { s <- -outer(m, m); diag(s) <- m * (1 - m); s }
smd_multi <- function(p1, p2) {
  t <- p1[-1] - p2[-1]
  s <- (mv(p1[-1]) + mv(p2[-1])) / 2
  sqrt(drop(t(t) %*% MASS::ginv(s) %*% t))
}
p("smd.multi.three", smd_multi(c(0.2, 0.3, 0.5), c(0.4, 0.4, 0.2)))
p("smd.multi.empty_level", smd_multi(c(0.25, 0.25, 0, 0.5), c(0.5, 0.1, 0, 0.4)))
p("smd.multi.binary", smd_multi(c(2 / 3, 1 / 3), c(0.6, 0.4)))

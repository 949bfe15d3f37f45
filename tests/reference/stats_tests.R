# Reference values for tests/stats/hypothesis_tests_test.cpp.
# Run from the repository root: Rscript tests/reference/stats_tests.R
d <- read.csv("tests/data/stats/trial.csv")
p <- function(name, v) cat(sprintf("%s = %.17g\n", name, v))
x <- d$pain_change[d$group == 1]; y <- d$pain_change[d$group == 0]
for (ve in c(TRUE, FALSE)) {
  tag <- if (ve) "student" else "welch"
  t <- t.test(x, y, var.equal = ve)
  p(paste0(tag, ".t"), t$statistic); p(paste0(tag, ".df"), t$parameter); p(paste0(tag, ".p"), t$p.value)
  p(paste0(tag, ".low"), t$conf.int[1]); p(paste0(tag, ".high"), t$conf.int[2])
  p(paste0(tag, ".mx"), t$estimate[1]); p(paste0(tag, ".my"), t$estimate[2])
}
t <- t.test(d$pcs_change[d$group == 1], d$pcs_change[d$group == 0], conf.level = 0.9)
p("welch.pcs90.low", t$conf.int[1]); p("welch.pcs90.high", t$conf.int[2]); p("welch.pcs90.p", t$p.value)
w <- wilcox.test(x, y, exact = FALSE, correct = TRUE)
p("wilcox.pain.W", w$statistic); p("wilcox.pain.p", w$p.value)
w <- wilcox.test(d$il6_change[d$group == 1], d$il6_change[d$group == 0], exact = FALSE, correct = TRUE)
p("wilcox.il6.W", w$statistic); p("wilcox.il6.p", w$p.value)
# Chi-square: 2x2 (Yates) group by sex, 2x2 without correction, 3x2 activity by group.
tab <- table(factor(d$group, levels = c(1, 0)), factor(d$sex, levels = c(1, 0)))
print(tab)
c2 <- chisq.test(tab); p("chisq22.X2", c2$statistic); p("chisq22.p", c2$p.value)
print(c2$expected, digits = 17)
c2 <- chisq.test(matrix(c(10, 10, 10, 11), 2)); p("chisq22small.X2", c2$statistic); p("chisq22small.p", c2$p.value)
c2 <- chisq.test(tab, correct = FALSE); p("chisq22nc.X2", c2$statistic); p("chisq22nc.p", c2$p.value)
tab3 <- table(factor(d$activity, levels = c("low", "moderate", "high")), d$group)
print(tab3)
c3 <- suppressWarnings(chisq.test(tab3)); p("chisq32.X2", c3$statistic); p("chisq32.df", c3$parameter); p("chisq32.p", c3$p.value)
print(c3$expected, digits = 17)
# NAKO-like prevalence by activity category: trend test (counts inline).
ev <- c(1523, 2810, 1650); tot <- c(6191, 14485, 7500)
pt <- prop.trend.test(ev, tot); p("trend.X2", pt$statistic); p("trend.p", pt$p.value)
pt <- prop.trend.test(c(15, 10, 6, 3), c(40, 40, 40, 40), score = c(0, 1, 2, 4)); p("trend2.X2", pt$statistic); p("trend2.p", pt$p.value)
# Fisher's exact 2x2: matrix(c(a, c, b, d), 2) with rows exposed+/-.
f <- fisher.test(matrix(c(3, 1, 1, 3), 2)); p("fisher1.p", f$p.value); p("fisher1.or.R", f$estimate)
f <- fisher.test(matrix(c(12, 5, 7, 20), 2)); p("fisher2.p", f$p.value); p("fisher2.or.R", f$estimate)
p("fisher2.low.R", f$conf.int[1]); p("fisher2.high.R", f$conf.int[2])
f <- fisher.test(matrix(c(0, 6, 8, 4), 2)); p("fisher3.p", f$p.value); p("fisher3.or.R", f$estimate); p("fisher3.high.R", f$conf.int[2])
# R's estimate and CI use uniroot's default tolerance (~1e-4). The same
# conditional likelihood equations solved tightly (tol 1e-14) for a 1e-8 test:
cmle <- function(a, b, c, d, conf.level = 0.95) {
  m <- a + c; n <- b + d; k <- a + b; x <- a
  lo <- max(0, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dn <- function(ncp) { dd <- logdc + log(ncp) * support; dd <- exp(dd - max(dd)); dd / sum(dd) }
  mn <- function(ncp) sum(support * dn(ncp))
  pn <- function(q, ncp, upper) { dd <- dn(ncp); if (upper) sum(dd[support >= q]) else sum(dd[support <= q]) }
  tol <- 1e-14
  est <- exp(uniroot(function(t) mn(exp(t)) - x, c(-50, 50), tol = tol)$root)
  alpha <- (1 - conf.level) / 2
  low <- exp(uniroot(function(t) pn(x, exp(t), TRUE) - alpha, c(-50, 50), tol = tol)$root)
  high <- exp(uniroot(function(t) pn(x, exp(t), FALSE) - alpha, c(-50, 50), tol = tol)$root)
  c(est, low, high)
}
r <- cmle(12, 7, 5, 20); p("fisher2.or", r[1]); p("fisher2.low", r[2]); p("fisher2.high", r[3])
r <- cmle(3, 1, 1, 3); p("fisher1.or", r[1])
# p.adjust with an NA kept out of the count.
pv <- c(0.01, 0.04, 0.03, 0.005, NA, 0.2, 0.04)
cat("holm =", sprintf("%.17g", p.adjust(pv, "holm")), "\n")
cat("BH =", sprintf("%.17g", p.adjust(pv, "BH")), "\n")

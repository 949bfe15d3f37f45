# Reference values for tests/stats/correlation_test.cpp.
# Run from the repository root: Rscript tests/reference/stats_correlation.R
d <- read.csv("tests/data/stats/trial.csv")
p <- function(name, v) cat(sprintf("%s = %.17g\n", name, v))
show <- function(tag, ct) {
  n <- if (!is.null(ct$parameter)) ct$parameter + 2 else NA
  p(paste0(tag, ".estimate"), ct$estimate); p(paste0(tag, ".statistic"), ct$statistic)
  p(paste0(tag, ".p"), ct$p.value)
  if (!is.null(ct$conf.int)) { p(paste0(tag, ".low"), ct$conf.int[1]); p(paste0(tag, ".high"), ct$conf.int[2]) }
}
# Pairs with NA are dropped (complete.cases): il6 has NA in rows 5, 30; pain in 12, 30.
show("pearson.il6.pain", cor.test(d$il6_change, d$pain_change))
p("pearson.il6.pain.n", sum(complete.cases(d$il6_change, d$pain_change)))
show("pearson.il6.pain.90", cor.test(d$il6_change, d$pain_change, conf.level = 0.90))
show("pearson.il6.pcs", cor.test(d$il6_change, d$pcs_change))
# Spearman with ties (pain is integer NRS), asymptotic t p-value.
show("spearman.pain.crp", cor.test(d$pain_change, d$crp_change, method = "spearman", exact = FALSE))
show("spearman.il6.pcs", cor.test(d$il6_change, d$pcs_change, method = "spearman", exact = FALSE))
# Exactly 4 pairs: smallest n with a CI.
x4 <- c(1, 2, 3, 4.5); y4 <- c(2.1, 1.9, 3.5, 4.0)
show("pearson.four", cor.test(x4, y4))
# Exactly 3 pairs: no CI.
show("pearson.three", cor.test(c(1, 2, 4), c(1, 3, 2)))

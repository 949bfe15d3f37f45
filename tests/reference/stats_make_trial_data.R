# Generates tests/data/stats/trial.csv, the synthetic change-score trial used by
# the src/stats tests (shaped like DOMAIN.md study 1: 41 participants, two arms,
# biomarker and outcome changes). Values are rounded so the CSV is exact.
# Run from the repository root: Rscript tests/reference/stats_make_trial_data.R
set.seed(20261122)
n <- 41
group <- c(rep(1, 21), rep(0, 20))
age <- round(rnorm(n, 45, 9))
sex <- rbinom(n, 1, 0.55)
il6_change <- round(-0.6 * group + rnorm(n, 0, 0.8), 2)
crp_change <- round(-0.4 * group + 0.5 * il6_change + rnorm(n, 0, 0.7), 2)
pain_change <- round(-1.2 * group + 0.9 * il6_change + 0.02 * (age - 45) + rnorm(n, 0, 1.1))
pcs_change <- round(3 * group - 1.5 * il6_change + rnorm(n, 0, 4), 1)
activity <- sample(c("low", "moderate", "high"), n, replace = TRUE, prob = c(0.3, 0.5, 0.2))
# Missing values: one biomarker and one outcome missing, one row missing both.
il6_change[c(5, 30)] <- NA
pain_change[c(12, 30)] <- NA
d <- data.frame(id = 1:n, group, age, sex, il6_change, crp_change, pain_change, pcs_change, activity)
write.csv(d, "tests/data/stats/trial.csv", row.names = FALSE, na = "")

# Reference values for tests/analysis/cohort_analyses_test.cpp, "logistic
# --per-sd under --by": odds ratios per 2 SD within each osteoarthritis
# stratum, scaled by the SD of the overall analysis sample (not the
# stratum's), as z() is and as published stratified analyses report them.
# Run: Rscript tests/reference/analysis_per_sd_by.R  (from the repository root)
options(digits = 15)
p <- function(name, x) cat(sprintf("%s = %s\n", name, paste(formatC(x, digits = 15, format = "g"), collapse = ", ")))
co <- read.csv("tests/data/analysis/cohort.csv")
co$sex <- factor(co$sex)
dc <- na.omit(co[, c("cbp", "lmm", "intermat", "age_years", "sex", "osteoarthritis")])
p("n", nrow(dc))
sd_lmm <- sd(dc$lmm)
p("sd.lmm.overall", sd_lmm)
for (level in c(0, 1)) {
  s <- dc[dc$osteoarthritis == level, ]
  g <- glm(cbp ~ lmm + intermat + age_years + sex, family = binomial, data = s)
  p(sprintf("stratum%d.n", level), nrow(s))
  p(sprintf("stratum%d.sd.lmm", level), sd(s$lmm))
  # per 2 SD of the overall sample: exp(2 * sd * beta), Wald interval
  p(sprintf("stratum%d.or2sd.lmm", level), exp(2 * sd_lmm * c(coef(g)["lmm"], confint.default(g)["lmm", ])))
}
g <- glm(cbp ~ lmm + intermat + age_years + sex + osteoarthritis, family = binomial, data = dc)
p("overall.or2sd.lmm", exp(2 * sd_lmm * c(coef(g)["lmm"], confint.default(g)["lmm", ])))

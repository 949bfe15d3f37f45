# Reference values for tests/stats/ols_test.cpp.
# Run from the repository root: Rscript tests/reference/stats_ols.R
d <- read.csv("tests/data/stats/trial.csv")
p <- function(name, v) cat(sprintf("%s = %.17g\n", name, v))
show <- function(tag, m) {
  s <- summary(m); cf <- coef(s); ci <- confint(m)
  for (term in rownames(cf)) {
    p(paste0(tag, ".", term, ".est"), cf[term, 1]); p(paste0(tag, ".", term, ".se"), cf[term, 2])
    p(paste0(tag, ".", term, ".t"), cf[term, 3]); p(paste0(tag, ".", term, ".p"), cf[term, 4])
    p(paste0(tag, ".", term, ".low"), ci[term, 1]); p(paste0(tag, ".", term, ".high"), ci[term, 2])
  }
  p(paste0(tag, ".n"), nobs(m)); p(paste0(tag, ".sigma"), s$sigma)
  p(paste0(tag, ".r2"), s$r.squared); p(paste0(tag, ".adjr2"), s$adj.r.squared)
  if (!is.null(s$fstatistic)) {
    f <- s$fstatistic
    p(paste0(tag, ".F"), f[1]); p(paste0(tag, ".Fdf1"), f[2]); p(paste0(tag, ".Fdf2"), f[3])
    p(paste0(tag, ".Fp"), pf(f[1], f[2], f[3], lower.tail = FALSE))
  }
  p(paste0(tag, ".rss"), sum(resid(m)^2))
}
# Model 1: pain change ~ group + il6 + age + sex (rows with NA dropped).
m1 <- lm(pain_change ~ group + il6_change + age + sex, data = d)
show("m1", m1)
# Standardised betas: beta * sd(x) / sd(y) over the rows used.
mf <- model.frame(m1)
for (v in c("group", "il6_change", "age", "sex"))
  p(paste0("m1.", v, ".std"), coef(m1)[v] * sd(mf[[v]]) / sd(mf$pain_change))
# Nested F test (anova) for il6 and sex.
m0 <- lm(pain_change ~ group + age, data = d, subset = complete.cases(d[, c("pain_change", "il6_change")]))
a <- anova(m0, m1)
p("anova.F", a$F[2]); p("anova.df", a$Df[2]); p("anova.p", a$`Pr(>F)`[2]); p("anova.rss0", a$RSS[1]); p("anova.rss1", a$RSS[2])
# Without intercept: uncentred R^2.
m2 <- lm(pcs_change ~ 0 + group + il6_change, data = d)
show("m2", m2)
# Rank deficiency: female = 1 - sex is aliased with the intercept and sex;
# age2 = 2 * age is aliased with age.
d$female <- 1 - d$sex; d$age2 <- 2 * d$age
m3 <- lm(pcs_change ~ group + sex + female + age + age2, data = d)
print(coef(m3))
show("m3", m3)
# Which fits summary.lm calls "essentially perfect" (test_ols.cpp, warning flag):
# a constant outcome and an exact line warn; noisy data and an all-zero outcome
# (0 < 0 is false) do not.
x <- c(1, 2, 3, 5)
for (y in list(rep(2, 4), 2 * x + 1, c(1.0, 2.1, 2.9, 4.2), rep(0, 4))) {
  w <- NULL
  withCallingHandlers(summary(lm(y ~ x)),
                      warning = function(c) { w <<- conditionMessage(c); invokeRestart("muffleWarning") })
  cat("perfect fit warning:", !is.null(w), "\n")
}

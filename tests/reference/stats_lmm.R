# Reference values for tests/stats/test_lmm.cpp: linear mixed models as
# lme4::lmer fits them (REML and ML), with Satterthwaite degrees of freedom
# from lmerTest and the likelihood-ratio test of anova(). Writes the data sets
# to tests/data/stats/ and prints every number the test freezes.
# Run from the repository root: Rscript tests/reference/stats_lmm.R
#
# The fits use a tight optimizer ("tight" below) so that the frozen values are
# the optimum itself rather than where lmer's default stopping rule leaves
# bobyqa (default fits agree to about 1e-6 on these data; printed at the end).
suppressPackageStartupMessages(library(lmerTest))
out_dir <- "tests/data/stats"
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5),
                     calc.derivs = FALSE)
p <- function(label, x) cat(label, paste(sprintf("%.15g", x), collapse = " "), "\n")
show_fit <- function(label, fit) {
  s <- summary(fit)$coefficients
  cat("==", label, "\n")
  p("coef", s[, "Estimate"])
  p("se", s[, "Std. Error"])
  p("df", s[, "df"])
  p("t", s[, "t value"])
  p("p", s[, "Pr(>|t|)"])
  p("theta", getME(fit, "theta"))
  p("sigma", sigma(fit))
  vc <- as.data.frame(VarCorr(fit))
  p("vc_sdcor", vc$sdcor)
  p("deviance_or_reml", if (isREML(fit)) getME(fit, "devcomp")$cmp["REML"] else deviance(fit))
  p("loglik", as.numeric(logLik(fit)))
  p("aic", AIC(fit))
  p("bic", BIC(fit))
  p("singular", isSingular(fit))
}

# 1. Repeated visits: 80 participants, 3 or 4 visits each, a random intercept
#    and a random slope for the visit day, correlated.
set.seed(20261206)
np <- 80
id <- rep(1:np, times = sample(3:4, np, replace = TRUE))
n <- length(id)
arm <- rbinom(np, 1, 0.5)[id]
age <- round(rnorm(np, 55, 9))[id]
visit_day <- ave(id, id, FUN = function(v) c(0, 30, 90, 180)[seq_along(v)]) / 30
b0 <- rnorm(np, 0, 1.2)[id]
b1 <- rnorm(np, 0, 0.25)[id] + 0.1 * b0
y <- 6 + b0 - 0.3 * arm + (-0.2 - 0.15 * arm + b1) * visit_day + 0.02 * age + rnorm(n, 0, 0.8)
d <- data.frame(participant = id, arm = arm, age = age, visit_day = visit_day, pain = round(y, 3))
write.csv(d, file.path(out_dir, "lmm_visits.csv"), row.names = FALSE)

f_slope <- pain ~ arm * visit_day + age + (1 + visit_day | participant)
show_fit("slope REML", lmer(f_slope, data = d, control = tight))
show_fit("slope ML", lmer(f_slope, data = d, REML = FALSE, control = tight))
show_fit("intercept REML", lmer(pain ~ arm * visit_day + age + (1 | participant), data = d, control = tight))

# Likelihood-ratio test of the interaction (anova refits with ML).
m0 <- lmer(pain ~ arm + visit_day + age + (1 + visit_day | participant), data = d, control = tight)
m1 <- lmer(f_slope, data = d, control = tight)
a <- anova(m0, m1)
cat("== lrt\n")
p("chisq", a$Chisq[2])
p("df", a$Df[2])
p("p", a[["Pr(>Chisq)"]][2])
p("loglik", a$logLik)

# 2. A singular fit: no participant-level variation in the slope or intercept.
set.seed(20261209)  # the first seed from 20261207 on whose fit is singular
ng <- 30
g <- rep(1:ng, each = 4)
x <- rnorm(length(g))
ys <- 2 + 0.5 * x + rnorm(length(g))
s <- data.frame(group = g, x = x, y = round(ys, 4))
write.csv(s, file.path(out_dir, "lmm_singular.csv"), row.names = FALSE)
show_fit("singular REML", lmer(y ~ x + (1 | group), data = s, control = tight))

cat("== default optimizer, slope REML\n")
p("coef", fixef(lmer(f_slope, data = d)))

# Reference values for tests/stats/test_lmm.cpp, "many groups": a random
# intercept and slope over 60,000 participants x 3 visits, enough groups for
# FitLmm's parallel passes (8,192 groups or more) and its start from a subset
# of the groups (50,000 or more). The data come from a formula (no random
# number generator), so that the C++ test builds the same rows:
#   u(i, s) = frac(|sin(i * 12.9898 + s * 78.233)| * 43758.5453)
#   z(i, s) = u(i, s) + u(i, s + 1) + u(i, s + 2) - 1.5   (spread about 0.5)
# Run from the repository root: Rscript tests/reference/stats_lmm_large.R
suppressPackageStartupMessages(library(lmerTest))
u <- function(i, s) { v <- abs(sin(i * 12.9898 + s * 78.233)) * 43758.5453; v - floor(v) }
z <- function(i, s) u(i, s) + u(i, s + 1) + u(i, s + 2) - 1.5
np <- 60000
i <- 1:np
arm <- as.numeric(u(i, 1) < 0.5)
b0 <- 2.4 * z(i, 2)
b1 <- 0.6 * z(i, 5) + 0.1 * b0
rows <- expand.grid(visit = 0:2, participant = i)
r <- rows$participant * 3 + rows$visit
day <- ifelse(rows$visit == 0, 0, rows$visit + 0.2 * (u(r, 11) - 0.5))
a <- arm[rows$participant]
y <- 6 + b0[rows$participant] - 0.3 * a + (-0.2 - 0.15 * a + b1[rows$participant]) * day + 1.6 * z(r, 13)
d <- data.frame(participant = rows$participant, arm = a, day = day, y = y)
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5),
                     calc.derivs = FALSE)
fit <- lmer(y ~ arm * day + (1 + day | participant), data = d, REML = TRUE, control = tight)
p <- function(label, x) cat(label, paste(sprintf("%.15g", x), collapse = ", "), "\n")
s <- summary(fit)$coefficients
cat("== many groups REML\n")
p("rows", nrow(d))
p("y[1:4]", d$y[1:4])
p("coef", s[, "Estimate"])
p("se", s[, "Std. Error"])
p("df", s[, "df"])
p("t", s[, "t value"])
p("p", s[, "Pr(>|t|)"])
p("theta", getME(fit, "theta"))
p("sigma", sigma(fit))
p("vc_sdcor", as.data.frame(VarCorr(fit))$sdcor)
p("reml", getME(fit, "devcomp")$cmp["REML"])
p("loglik", as.numeric(logLik(fit)))
p("aic", AIC(fit))
p("bic", BIC(fit))

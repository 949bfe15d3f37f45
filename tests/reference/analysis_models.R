# Reference values for tests/analysis/models_test.cpp: the lmm and glm
# commands on the trial test data (tests/data/analysis/trial.csv) as R fits
# them. The per-visit frame wide_trial_visit has one row per participant and
# visit (baseline, week12); participant_id is the row number of trial.csv.
# Run: Rscript tests/reference/analysis_models.R  (from the repository root)
suppressPackageStartupMessages({ library(lmerTest); library(sandwich) })
p <- function(name, x) cat(sprintf("%s = %s\n", name, paste(formatC(x, digits = 15, format = "g"), collapse = ", ")))
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5),
                     calc.derivs = FALSE)
tr <- read.csv("tests/data/analysis/trial.csv")
tr$participant_id <- seq_len(nrow(tr))
long <- rbind(data.frame(participant_id = tr$participant_id, arm = tr$arm, age_years = tr$age_years,
                         visit = "baseline", pain_nrs = tr$pain_nrs_baseline),
              data.frame(participant_id = tr$participant_id, arm = tr$arm, age_years = tr$age_years,
                         visit = "week12", pain_nrs = tr$pain_nrs_week12))
long <- long[complete.cases(long), ]
p("lmm.n", nrow(long))
m <- lmer(pain_nrs ~ arm * visit + (1 | participant_id), data = long, control = tight)
s <- summary(m)$coefficients
p("lmm.terms", seq_len(nrow(s)))
cat("# ", rownames(s), "\n")
p("lmm.estimate", s[, "Estimate"]); p("lmm.se", s[, "Std. Error"]); p("lmm.df", s[, "df"]); p("lmm.p", s[, "Pr(>|t|)"])
p("lmm.sd", as.data.frame(VarCorr(m))$sdcor)
p("lmm.reml", getME(m, "devcomp")$cmp["REML"])
m0 <- lmer(pain_nrs ~ arm + visit + (1 | participant_id), data = long, control = tight)
a <- anova(m0, m)
p("lmm.lrt", c(a$Chisq[2], a$Df[2], a[["Pr(>Chisq)"]][2]))

g <- glm(pain_nrs_week12 ~ arm + age_years, family = poisson, data = tr)
v <- vcovHC(g, type = "HC0")
p("glm.estimate", coef(g)); p("glm.robust_se", sqrt(diag(v)))
p("glm.rr_arm", exp(coef(g)["armintervention"] + c(0, -1, 1) * qnorm(0.975) * sqrt(v[2, 2])))
p("glm.deviance", deviance(g))

# regress --formula with the il6 change (censored values excluded) and the
# nested F test of the interaction.
lodx <- function(v) suppressWarnings(as.numeric(ifelse(grepl("^<", v), NA, v)))
tr$il6_change <- lodx(tr$il6_week12) - lodx(tr$il6_baseline)
tr$pain_change <- tr$pain_nrs_week12 - tr$pain_nrs_baseline
r <- lm(pain_change ~ arm * il6_change + age_years, data = tr)
cat("# ", names(coef(r)), "\n")
p("regress.n", nobs(r))
p("regress.estimate", coef(r)); p("regress.se", summary(r)$coefficients[, 2])
a <- anova(lm(pain_change ~ arm + il6_change + age_years, data = tr[complete.cases(tr[, c("pain_change", "il6_change", "age_years")]), ]), r)
p("regress.interaction_F", c(a$F[2], a[["Pr(>F)"]][2]))

# logistic --formula: the second level of the outcome is the event (glm).
tr$sexf <- factor(tr$sex)
l <- glm(sexf ~ pain_nrs_baseline * age_years, family = binomial, data = tr)
cat("# ", names(coef(l)), "\n")
p("logistic.estimate", coef(l)); p("logistic.se", sqrt(diag(vcov(l))))
p("logistic.interaction_p", summary(l)$coefficients[4, 4])

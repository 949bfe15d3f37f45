# Reference values for the lmm tests with several random-effect terms in
# tests/analysis/models_test.cpp and cli_test.cpp: the cohort test data
# (tests/data/analysis/cohort.csv; 6 sites) with sex nested in site and
# with site and sex crossed, as lme4::lmer + lmerTest fit them.
# Run: Rscript tests/reference/analysis_lmm_multi.R  (from the repository root)
suppressPackageStartupMessages(library(lmerTest))
p <- function(name, x) cat(sprintf("%s = %s\n", name, paste(formatC(x, digits = 15, format = "g"), collapse = ", ")))
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5),
                     calc.derivs = FALSE)
co <- read.csv("tests/data/analysis/cohort.csv")
all <- co
co <- all[complete.cases(all[, c("pain_nrs", "age_years", "lmm", "site", "sex")]), ]
p("nested.n", nrow(co))
m <- lmer(pain_nrs ~ age_years + lmm + (1 | site/sex), data = co, control = tight)
s <- summary(m)$coefficients
cat("nested.terms =", rownames(s), "\n")
p("nested.estimate", s[, "Estimate"]); p("nested.se", s[, "Std. Error"]); p("nested.df", s[, "df"])
p("nested.p", s[, "Pr(>|t|)"])
vc <- as.data.frame(VarCorr(m)); cat("nested.vc =", vc$grp, "\n"); p("nested.sd", vc$sdcor)
p("nested.reml", getME(m, "devcomp")$cmp["REML"]); p("nested.ngrps", ngrps(m)); print(isSingular(m))
m0 <- lmer(pain_nrs ~ age_years + lmm + (1 | site), data = co, control = tight)
a <- anova(m0, m)
p("nested.lrt", c(a$Chisq[2], a$Df[2], a[["Pr(>Chisq)"]][2]))
co <- all  # the crossed model does not use lmm: all 400 rows
p("crossed.n", nrow(co))
c2 <- lmer(pain_nrs ~ age_years + (1 | site) + (1 | sex), data = co, control = tight)
s <- summary(c2)$coefficients
p("crossed.estimate", s[, "Estimate"]); p("crossed.se", s[, "Std. Error"]); p("crossed.df", s[, "df"])
vc <- as.data.frame(VarCorr(c2)); cat("crossed.vc =", vc$grp, "\n"); p("crossed.sd", vc$sdcor)
p("crossed.reml", getME(c2, "devcomp")$cmp["REML"]); print(isSingular(c2))
a <- anova(lmer(pain_nrs ~ age_years + (1 | site), data = co, control = tight), c2)
p("crossed.lrt", c(a$Chisq[2], a$Df[2], a[["Pr(>Chisq)"]][2]))
# Uncorrelated intercept and slope ('||', lme4's expansion to (1 | site) + (0 + lmm | site))
co <- all[complete.cases(all[, c("pain_nrs", "age_years", "lmm", "site")]), ]
p("double.n", nrow(co))
d <- lmer(pain_nrs ~ age_years + lmm + (1 + lmm || site), data = co, control = tight)
s <- summary(d)$coefficients
p("double.estimate", s[, "Estimate"]); p("double.se", s[, "Std. Error"]); p("double.df", s[, "df"])
vc <- as.data.frame(VarCorr(d)); cat("double.vc =", vc$grp, vc$var1, "\n"); p("double.sd", vc$sdcor)
p("double.reml", getME(d, "devcomp")$cmp["REML"]); print(isSingular(d))

# Reference values for tests/recipes/test_recipe_cli.cpp ("the trial recipe
# equals R"): the demo trial recipe (examples/recipes/trial.toml) recomputed in
# R straight from the example exports under examples/trial/.
#   Rscript tests/reference/recipes_trial.R
# Change score = week 12 minus baseline; values below the detection limit
# ("<0.15") count as limit/sqrt(2) (censored = "sqrt2"); the north lab's hs-CRP
# in mg/dL is converted to mg/L (x 10).
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
examples <- file.path(here, "..", "..", "examples", "trial")

source(file.path(here, "trial_change_scores.R"))
d <- trial_change_scores(examples)

options(digits = 15)
for (x in c("il6_change", "crp_change")) {
  t <- cor.test(d[[x]], d$pain_change)
  cat(sprintf("cor %s ~ pain_change: r = %.15g, p = %.15g\n", x, t$estimate, t$p.value))
}
for (y in c("pain_change", "pcs_change")) {
  m <- lm(as.formula(paste(y, "~ treatment + tnf_change + il6_change + crp_change")), data = d)
  s <- summary(m)$coefficients
  beta <- coef(m)["treatment"] * sd(d$treatment) / sd(d[[y]])
  cat(sprintf("lm %s: treatment estimate = %.15g, p = %.15g, std beta = %.15g\n", y,
              s["treatment", "Estimate"], s["treatment", "Pr(>|t|)"], beta))
}

# The lmm step: pain at both visits, arm * visit, random intercept per
# participant, REML with lmerTest's Satterthwaite df (tight optimizer; see
# stats_lmm.R).
suppressPackageStartupMessages(library(lmerTest))
redcap <- read.csv(file.path(examples, "trial_redcap.csv"), colClasses = "character")
arm <- setNames(ifelse(redcap$arm == "1", "exercise", "control"), redcap$record_id)[redcap$redcap_event_name == "baseline_arm_1"]
long <- data.frame(id = redcap$record_id, arm = arm[redcap$record_id],
                   visit = ifelse(redcap$redcap_event_name == "baseline_arm_1", "baseline", "week12"),
                   pain_nrs = as.numeric(redcap$pain_nrs))
long <- long[complete.cases(long), ]
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5))
m <- lmer(pain_nrs ~ arm * visit + (1 | id), data = long, control = tight)
s <- summary(m)$coefficients
cat(sprintf("lmm n = %d; armexercise:visitweek12 estimate = %.15g, se = %.15g, df = %.15g, p = %.15g\n", nrow(long),
            s[4, "Estimate"], s[4, "Std. Error"], s[4, "df"], s[4, "Pr(>|t|)"]))

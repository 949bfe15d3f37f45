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

redcap <- read.csv(file.path(examples, "trial_redcap.csv"), colClasses = "character")
labs <- read.csv(file.path(examples, "trial_labs.csv"), colClasses = "character")

base <- redcap[redcap$redcap_event_name == "baseline_arm_1", ]
week <- redcap[redcap$redcap_event_name == "week_12_arm_1", ]
d <- data.frame(id = base$record_id, treatment = ifelse(base$arm == "1", 1, 0))
num <- function(x) as.numeric(x)
d$pain_change <- num(week$pain_nrs[match(d$id, week$record_id)]) - num(base$pain_nrs)
d$pcs_change <- num(week$sf36_pcs[match(d$id, week$record_id)]) - num(base$sf36_pcs)

lab_value <- function(value, unit) {
  censored <- startsWith(value, "<")
  v <- as.numeric(sub("^<", "", value))
  v[censored] <- v[censored] / sqrt(2)
  v[unit == "mg/dL"] <- v[unit == "mg/dL"] * 10
  v
}
labs$v <- lab_value(labs$value, labs$unit)
biomarker <- function(analyte, visit) {
  l <- labs[labs$analyte == analyte & labs$visit == visit, ]
  l$v[match(d$id, l$subject)]
}
d$tnf_change <- biomarker("TNF-alpha", "V2") - biomarker("TNF-alpha", "V1")
d$il6_change <- biomarker("IL-6", "V2") - biomarker("IL-6", "V1")
d$crp_change <- biomarker("hs-CRP", "V2") - biomarker("hs-CRP", "V1")

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

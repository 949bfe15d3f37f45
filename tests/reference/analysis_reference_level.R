# Expected values for tests/analysis/reference_level_test.cpp: --ref VAR=LEVEL
# as R's relevel(). The cohort data of tests/data/analysis/cohort.csv; the
# --cut pa_met=500,5000 column (levels <500, 500-5000, >5000; a value equal to
# an inner cut point goes to the lower interval) with 500-5000 as reference,
# and sex with male as reference.
# Run: Rscript tests/reference/analysis_reference_level.R  (from the repository root)
p <- function(name, x) cat(sprintf("%s = %s\n", name, paste(formatC(x, digits = 15, format = "g"), collapse = ", ")))
co <- read.csv("tests/data/analysis/cohort.csv")
co$pa_met_cat <- cut(co$pa_met, c(-Inf, 500, 5000, Inf), labels = c("<500", "500-5000", ">5000"), right = TRUE)
# cohortdb's "<500" is strictly below 500; cut(right = TRUE) puts 500 itself in
# the first interval: check that no value sits on 500.
stopifnot(!any(co$pa_met == 500, na.rm = TRUE))
co$pa_met_cat <- relevel(co$pa_met_cat, ref = "500-5000")
co$sex <- relevel(factor(co$sex), ref = "male")
g <- glm(cbp ~ pa_met_cat + sex + age_years, family = binomial, data = co)
s <- summary(g)$coefficients
print(s)
p("n", nobs(g))
p("intercept", s["(Intercept)", 1:2])
p("lt500", s["pa_met_cat<500", 1:2])
p("gt5000", s["pa_met_cat>5000", 1:2])
p("sexfemale", s["sexfemale", 1:2])

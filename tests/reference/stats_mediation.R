# Reference values for tests/stats/mediation_test.cpp: treatment (group) ->
# IL-6 change -> pain change, with and without covariates (age, sex).
# Point estimates are lm fits; the bootstrap CI is boot::boot.ci(type = "perc")
# with R's own RNG, so only a loose comparison is possible (see the test).
# Run from the repository root: Rscript tests/reference/stats_mediation.R
suppressMessages(library(boot))
d <- read.csv("tests/data/stats/trial.csv")
p <- function(name, v) cat(sprintf("%s = %.17g\n", name, v))
d <- d[complete.cases(d[, c("group", "il6_change", "pain_change", "age", "sex")]), ]
p("n", nrow(d))
for (cov in c("", " + age + sex")) {
  tag <- if (cov == "") "plain" else "cov"
  ma <- lm(as.formula(paste("il6_change ~ group", cov)), data = d)
  mb <- lm(as.formula(paste("pain_change ~ group + il6_change", cov)), data = d)
  mc <- lm(as.formula(paste("pain_change ~ group", cov)), data = d)
  a <- coef(ma)["group"]; sa <- coef(summary(ma))["group", 2]
  b <- coef(mb)["il6_change"]; sb <- coef(summary(mb))["il6_change", 2]
  p(paste0(tag, ".a"), a); p(paste0(tag, ".a.se"), sa); p(paste0(tag, ".a.p"), coef(summary(ma))["group", 4])
  p(paste0(tag, ".b"), b); p(paste0(tag, ".b.se"), sb); p(paste0(tag, ".b.p"), coef(summary(mb))["il6_change", 4])
  p(paste0(tag, ".direct"), coef(mb)["group"]); p(paste0(tag, ".direct.se"), coef(summary(mb))["group", 2])
  p(paste0(tag, ".total"), coef(mc)["group"]); p(paste0(tag, ".total.se"), coef(summary(mc))["group", 2])
  ab <- a * b; se <- sqrt(b^2 * sa^2 + a^2 * sb^2)
  p(paste0(tag, ".indirect"), ab); p(paste0(tag, ".sobel.se"), se); p(paste0(tag, ".sobel.z"), ab / se)
  p(paste0(tag, ".sobel.p"), 2 * pnorm(-abs(ab / se))); p(paste0(tag, ".prop"), ab / coef(mc)["group"])
  stat <- function(data, i) {
    dd <- data[i, ]
    coef(lm(as.formula(paste("il6_change ~ group", cov)), data = dd))["group"] *
      coef(lm(as.formula(paste("pain_change ~ group + il6_change", cov)), data = dd))["il6_change"]
  }
  set.seed(1)
  bt <- boot(d, stat, R = 4000)
  ci <- boot.ci(bt, type = "perc")$percent
  p(paste0(tag, ".boot.low"), ci[4]); p(paste0(tag, ".boot.high"), ci[5])
}

# Reference values for tests/stats/test_poisson.cpp: Poisson regression with a
# log link as glm(family = poisson) fits it, model-based SEs, robust HC0 SEs
# (sandwich::vcovHC(type = "HC0")) and cluster-robust SEs
# (sandwich::vcovCL(cluster = ~clinic), whose defaults for a glm are type
# "HC0" with the G / (G - 1) cluster adjustment). Writes the data sets to
# tests/data/stats/ and prints every number the test freezes.
# Run from the repository root: Rscript tests/reference/stats_poisson.R
suppressPackageStartupMessages(library(sandwich))
out_dir <- "tests/data/stats"
p <- function(label, x) cat(label, paste(sprintf("%.15g", x), collapse = " "), "\n")
wald <- function(label, fit, v) {
  b <- coef(fit); se <- sqrt(diag(v)); z <- b / se
  cat("==", label, "\n")
  p("coef", b)
  p("se", se)
  p("z", z)
  p("p", 2 * pnorm(-abs(z)))
  p("lo", b - qnorm(0.975) * se)
  p("hi", b + qnorm(0.975) * se)
}

# 1. Counts with person-years at risk: rate ratios with an offset.
set.seed(20261204)
n <- 300
d <- data.frame(age = round(rnorm(n, 60, 8), 1), smoker = rbinom(n, 1, 0.3),
                py = round(runif(n, 0.5, 6), 2), clinic = sample(1:12, n, replace = TRUE))
d$events <- rpois(n, d$py * exp(-3 + 0.03 * d$age + 0.5 * d$smoker))
write.csv(d, file.path(out_dir, "poisson_rates.csv"), row.names = FALSE)
fit <- glm(events ~ age + smoker + offset(log(py)), family = poisson, data = d)
wald("rates model", fit, vcov(fit))
p("deviance", deviance(fit))
p("null", fit$null.deviance)
p("loglik", as.numeric(logLik(fit)))
p("aic", AIC(fit))
p("iter", fit$iter)
wald("rates HC0", fit, vcovHC(fit, type = "HC0"))
wald("rates cluster", fit, vcovCL(fit, cluster = ~clinic))

# 2. A binary outcome: modified Poisson (Zou 2004) risk ratios.
set.seed(20261205)
m <- 500
b <- data.frame(treated = rbinom(m, 1, 0.5), bmi = round(rnorm(m, 27, 4), 1),
                site = sample(1:8, m, replace = TRUE))
b$event <- rbinom(m, 1, pmin(0.9, 0.25 * exp(-0.4 * b$treated + 0.03 * (b$bmi - 27))))
write.csv(b, file.path(out_dir, "poisson_binary.csv"), row.names = FALSE)
fit2 <- glm(event ~ treated + bmi, family = poisson, data = b)
wald("binary model", fit2, vcov(fit2))
p("deviance", deviance(fit2))
p("null", fit2$null.deviance)
p("aic", AIC(fit2))
wald("binary HC0", fit2, vcovHC(fit2, type = "HC0"))
wald("binary cluster", fit2, vcovCL(fit2, cluster = ~site))

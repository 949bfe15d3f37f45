# Reference values for tests/stats/test_logistic.cpp: logistic regression as
# glm(family = binomial) fits it. Writes the data sets to tests/data/stats/ and
# prints every number the test freezes.
# Run from the repository root: Rscript tests/reference/stats_logistic.R
out_dir <- "tests/data/stats"
p <- function(label, x) cat(label, paste(sprintf("%.15g", x), collapse = " "), "\n")
show_fit <- function(label, fit) {
  s <- summary(fit)$coefficients
  cat("==", label, "\n")
  p("coef", coef(fit))
  p("se", s[, 2])
  p("z", s[, 3])
  p("p", s[, 4])
  ci <- confint.default(fit)
  p("lo", ci[, 1])
  p("hi", ci[, 2])
  p("deviance", deviance(fit))
  p("null", fit$null.deviance)
  p("loglik", as.numeric(logLik(fit)))
  p("aic", AIC(fit))
  p("iter", fit$iter)
}

# 1. An ordinary fit with predictors on different scales.
set.seed(20261122)
n <- 400
d <- data.frame(x1 = rnorm(n), x2 = rbinom(n, 1, 0.4), x3 = runif(n, 0, 5000))
eta <- -0.5 + 0.8 * d$x1 - 0.6 * d$x2 + 0.0002 * d$x3
d$y <- rbinom(n, 1, plogis(eta))
write.csv(d, file.path(out_dir, "logistic_basic.csv"), row.names = FALSE)
fit <- glm(y ~ x1 + x2 + x3, family = binomial, data = d)
show_fit("basic", fit)
b <- coef(fit)["x1"]; se <- sqrt(vcov(fit)["x1", "x1"]); k <- 2 * sd(d$x1)
p("or_per_2sd_x1", c(exp(b * k), exp((b - qnorm(0.975) * se) * k), exp((b + qnorm(0.975) * se) * k)))

# 2. Complete separation: x > 0 exactly when y = 1.
d2 <- data.frame(x = c(-3.1, -2.4, -2, -1.7, -1.1, -0.8, -0.5, -0.2, 0.3, 0.6, 0.9, 1.4, 1.8, 2.2, 2.9, 3.5))
d2$y <- as.numeric(d2$x > 0)
write.csv(d2, file.path(out_dir, "logistic_separation.csv"), row.names = FALSE)
fit2 <- glm(y ~ x, family = binomial, data = d2)
show_fit("complete separation", fit2)

# 3. Quasi-complete separation: every participant with g = 1 has y = 1.
set.seed(7)
n3 <- 120
d3 <- data.frame(x = rnorm(n3), g = rep(c(0, 1), c(90, 30)))
d3$y <- ifelse(d3$g == 1, 1, rbinom(n3, 1, plogis(-0.3 + 0.7 * d3$x)))
write.csv(d3, file.path(out_dir, "logistic_quasi.csv"), row.names = FALSE)
fit3 <- glm(y ~ x + g, family = binomial, data = d3)
show_fit("quasi-complete separation", fit3)

# 4. Rank deficiency: x12 = x1 + x2 and a constant column, on data set 1.
d4 <- d
d4$x12 <- d4$x1 + d4$x2
d4$const <- 3
fit4 <- glm(y ~ x1 + x2 + x12 + const + x3, family = binomial, data = d4)
show_fit("aliased", fit4)
print(coef(fit4))

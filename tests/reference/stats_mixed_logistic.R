# Reference values for tests/stats/test_mixed_logistic.cpp: mixed logistic
# regression with a random intercept for site, as lme4::glmer fits it with its
# defaults (Laplace, nAGQ = 1) and with nAGQ = 10. Writes the data sets to
# tests/data/stats/ and prints every number the test freezes.
# Run from the repository root: Rscript tests/reference/stats_mixed_logistic.R
#
# Frozen values come from glmer with tight tolerances ("tight" below): with its
# default tolPwrss = 1e-7 glmer evaluates the Laplace deviance at an inexact
# conditional mode, which moves its finite-difference Hessian standard errors by
# about 0.2% and its estimates by up to ~3e-4 relative on these data (it also
# warns "Model failed to converge"). With tolPwrss = 1e-13 glmer's deviance
# function agrees with the exact Laplace approximation to 1e-11. The default
# fits are printed too, for comparison.
suppressPackageStartupMessages(library(lme4))
out_dir <- "tests/data/stats"
tight <- glmerControl(tolPwrss = 1e-13, optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
p <- function(label, x) cat(label, paste(sprintf("%.12g", x), collapse = " "), "\n")
args <- commandArgs(trailingOnly = FALSE)
source(file.path(dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)]))), "glmer_polished.R"))
polish <- function(label, fit, formula, data, nAGQ = 1) {
  r <- glmer_polished(fit, formula, data, nAGQ)
  cat("==", label, "\n")
  p("coef", r$beta)
  p("se", r$se)
  p("theta", r$theta)
  p("loglik", -r$deviance / 2)
  p("aic", r$deviance + 2 * r$npar)
  p("max|gradient|", r$max_gradient)
  invisible(list(beta = r$beta, vcov = r$vcov))
}
show_fit <- function(label, fit) {
  cat("==", label, "\n")
  p("coef", fixef(fit))
  p("se", sqrt(diag(as.matrix(vcov(fit)))))
  p("theta", getME(fit, "theta"))
  p("loglik", as.numeric(logLik(fit)))
  p("aic", AIC(fit))
  p("singular", isSingular(fit))
}

# 1. NAKO-like: 18 sites plus one site with a single participant, 11 predictors.
set.seed(20261122)
sizes <- c(sample(80:220, 18, replace = TRUE), 1)
site <- rep(seq_along(sizes) - 1, sizes)
n <- length(site)
d <- data.frame(site = site,
                age = round(runif(n, 40, 75)),
                sex = rbinom(n, 1, 0.5),
                diabetes = rbinom(n, 1, 0.08),
                dyslipidemia = rbinom(n, 1, 0.2),
                osteoporosis = rbinom(n, 1, 0.05),
                osteoarthritis = rbinom(n, 1, 0.15),
                act_low = 0, act_high = 0,
                lmm_z = rnorm(n), intermat_z = rnorm(n), bmi = rnorm(n, 27, 4))
act <- sample(0:2, n, replace = TRUE, prob = c(0.2, 0.6, 0.2))
d$act_low <- as.numeric(act == 0); d$act_high <- as.numeric(act == 2)
b <- rnorm(length(sizes), 0, 0.35)
eta <- -3.2 + 0.015 * d$age + 0.3 * d$sex + 0.25 * d$diabetes + 0.2 * d$dyslipidemia + 0.4 * d$osteoporosis +
  0.5 * d$osteoarthritis + 0.15 * d$act_low + 0.1 * d$act_high - 0.07 * d$lmm_z + 0.1 * d$intermat_z +
  0.02 * d$bmi + b[d$site + 1]
d$y <- rbinom(n, 1, plogis(eta))
write.csv(d, file.path(out_dir, "mixed_sites.csv"), row.names = FALSE)
f <- y ~ age + sex + diabetes + dyslipidemia + osteoporosis + osteoarthritis + act_low + act_high + lmm_z +
  intermat_z + bmi + (1 | site)
d$site <- factor(d$site)
cat("n", n, "\n")
show_fit("sites laplace, glmer defaults (not frozen)", glmer(f, family = binomial, data = d))
fit1 <- glmer(f, family = binomial, data = d, control = tight)
show_fit("sites laplace, tight glmer", fit1)
pol <- polish("sites laplace", fit1, f, d)
j <- which(names(fixef(fit1)) == "intermat_z")
bb <- pol$beta[j]; se <- sqrt(pol$vcov[j, j]); k <- 2 * sd(d$intermat_z)
p("or_per_2sd_intermat", c(exp(bb * k), exp((bb - qnorm(0.975) * se) * k), exp((bb + qnorm(0.975) * se) * k)))
show_fit("sites agq10, glmer defaults (not frozen)", glmer(f, family = binomial, data = d, nAGQ = 10))
fit10 <- glmer(f, family = binomial, data = d, nAGQ = 10, control = tight)
show_fit("sites agq10, tight glmer", fit10)
polish("sites agq10", fit10, f, d, nAGQ = 10)

# 2. No variation between sites: lme4 reports a singular fit (theta = 0).
set.seed(11)
for (attempt in 1:50) {
  n2 <- 600
  d2 <- data.frame(site = sample(0:5, n2, replace = TRUE), x = rnorm(n2))
  d2$y <- rbinom(n2, 1, plogis(-0.4 + 0.6 * d2$x))
  d2$site_f <- factor(d2$site)
  fit2 <- glmer(y ~ x + (1 | site_f), family = binomial, data = d2)
  if (getME(fit2, "theta") == 0) break
}
write.csv(d2[, c("site", "x", "y")], file.path(out_dir, "mixed_singular.csv"), row.names = FALSE)
show_fit("singular, glmer defaults", fit2)
show_fit("singular", glmer(y ~ x + (1 | site_f), family = binomial, data = d2, control = tight))
g2 <- glm(y ~ x, family = binomial, data = d2)
p("glm coef", coef(g2))
p("glm se", sqrt(diag(vcov(g2))))

# 3. Predictors on scales 1e-3 and 1e4. glmer is fitted on the standardised
# predictors (it warns and may stop early on the raw ones) and the estimates and
# covariance are mapped back to the raw scale: the same model, reparameterised.
set.seed(5)
n3 <- 1500
d3 <- data.frame(site = sample(0:9, n3, replace = TRUE), tiny = rnorm(n3, 0, 1e-3), huge = rnorm(n3, 5e4, 1e4),
                 z = rnorm(n3))
bsite <- rnorm(10, 0, 0.5)
d3$y <- rbinom(n3, 1, plogis(-0.5 + 400 * d3$tiny + 4e-5 * (d3$huge - 5e4) + 0.3 * d3$z + bsite[d3$site + 1]))
write.csv(d3, file.path(out_dir, "mixed_scales.csv"), row.names = FALSE)
d3$site_f <- factor(d3$site)
m <- c(tiny = mean(d3$tiny), huge = mean(d3$huge)); s <- c(tiny = sd(d3$tiny), huge = sd(d3$huge))
d3$tiny_s <- (d3$tiny - m["tiny"]) / s["tiny"]; d3$huge_s <- (d3$huge - m["huge"]) / s["huge"]
f3 <- y ~ tiny_s + huge_s + z + (1 | site_f)
fit3 <- glmer(f3, family = binomial, data = d3, control = tight)
pol3 <- polish("scales laplace, standardised predictors", fit3, f3, d3)
T <- diag(c(1, 1 / s["tiny"], 1 / s["huge"], 1)); T[1, 2] <- -m["tiny"] / s["tiny"]; T[1, 3] <- -m["huge"] / s["huge"]
cat("== scales laplace (back-transformed from the standardised fit)\n")
p("coef", T %*% pol3$beta)
p("se", sqrt(diag(T %*% pol3$vcov %*% t(T))))
raw <- glmer(y ~ tiny + huge + z + (1 | site_f), family = binomial, data = d3)
show_fit("scales laplace raw (for comparison only)", raw)

# 4. Large differences between sites (SD about 2.5), 8 sites, one of them with
# every outcome 1: the optimiser starts far from the estimate.
set.seed(99)
n4 <- 400
d4 <- data.frame(site = sample(0:7, n4, replace = TRUE), x = rnorm(n4))
b4 <- c(-3, -1.5, 0, 0.5, 1, 2, 3.5, 6)
d4$y <- rbinom(n4, 1, plogis(0.2 + 0.8 * d4$x + b4[d4$site + 1]))
d4$y[d4$site == 7] <- 1
write.csv(d4, file.path(out_dir, "mixed_wide_sd.csv"), row.names = FALSE)
d4$site_f <- factor(d4$site)
f4 <- y ~ x + (1 | site_f)
show_fit("wide sd, glmer defaults (not frozen)", glmer(f4, family = binomial, data = d4))
fit4 <- glmer(f4, family = binomial, data = d4, control = tight)
polish("wide sd", fit4, f4, d4)

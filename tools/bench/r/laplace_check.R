# Why default glmer SEs differ slightly from cohortdb's on large sites: compares
# glmer's deviance function (even with tolPwrss = 1e-13) with the exact Laplace
# approximation written out in R (conditional modes by Newton to 1e-14) at
# cohortdb's estimate and one step away, and their second differences.
# Usage (after tools/bench/models 30000):
#   Rscript tools/bench/r/laplace_check.R tools/bench/work/models/cohort_30000.csv \
#     tools/bench/work/models/ours_glmm_30000.txt
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = "numeric"); d$site <- factor(d$site)
ours <- read.table(args[2], fill = TRUE, col.names = c("k", "est", "se"))
par <- c(ours$est[ours$k == "site_sd"], ours$est[!is.na(ours$se)])
f <- y ~ age + sex + diabetes + dyslipidemia + osteoporosis + osteoarthritis + act_low + act_high + lmm_z +
  intermat_z + bmi + (1 | site)
dd <- glmer(f, family = binomial, data = d, devFunOnly = TRUE, control = glmerControl(tolPwrss = 1e-13))
X <- model.matrix(lme4::nobars(f), d)
sites <- split(seq_len(nrow(d)), d$site)
exact <- function(par) {
  theta <- par[1]; eta_fixed <- drop(X %*% par[-1]); total <- 0
  for (i in sites) {
    y <- d$y[i]; e <- eta_fixed[i]; u <- 0
    for (it in 1:100) {
      mu <- plogis(e + theta * u)
      step <- (theta * sum(y - mu) - u) / (1 + theta^2 * sum(mu * (1 - mu)))
      u <- u + step
      if (abs(step) < 1e-14) break
    }
    eta <- e + theta * u; mu <- plogis(eta)
    total <- total + sum(y * eta - log1p(exp(eta))) - u^2 / 2 - 0.5 * log(1 + theta^2 * sum(mu * (1 - mu)))
  }
  -2 * total
}
f0 <- c(glmer = dd(par), exact = exact(par))
cat(sprintf("deviance at cohortdb's estimate: glmer %.9f, exact Laplace %.9f\n", f0[1], f0[2]))
for (j in c(1, 4)) {
  e <- replace(numeric(length(par)), j, 1e-3)
  second <- function(fun, f) (fun(par + e) - 2 * f + fun(par - e)) / 1e-6
  cat(sprintf("second difference along %s: glmer %.4f, exact Laplace %.4f\n",
              c("theta", "", "", "sex")[j], second(dd, f0[1]), second(exact, f0[2])))
}

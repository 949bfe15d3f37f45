# glmer's own deviance function (tight PIRLS), minimised to convergence by
# Newton steps from a glmer fit, using lme4's finite-difference gradient and
# Hessian (lme4:::deriv12, as glmer's convergence checks do; nlminb reports
# "false convergence" on these badly scaled problems). Standard errors from
# that Hessian as vcov.merMod computes them (use.hessian = TRUE). A reference
# free of optimiser slack, so even coefficients near zero can be compared at
# 1e-4 relative. Sourced by stats_mixed_logistic.R and analysis_reference.R.
suppressPackageStartupMessages(library(lme4))
glmer_polished <- function(fit, formula, data, nAGQ = 1) {
  dd <- glmer(formula, family = binomial, data = data, nAGQ = nAGQ, devFunOnly = TRUE,
              control = glmerControl(tolPwrss = 1e-13))
  par <- c(getME(fit, "theta"), fixef(fit))
  for (i in 1:4) {
    dv <- lme4:::deriv12(dd, par)
    par <- par - solve(dv$Hessian, dv$gradient)
  }
  dv <- lme4:::deriv12(dd, par)
  v <- solve(dv$Hessian)[-1, -1]
  v <- v + t(v)
  list(beta = par[-1], se = sqrt(diag(v)), vcov = v, theta = par[1], deviance = dd(par), npar = length(par),
       max_gradient = max(abs(dv$gradient)))
}

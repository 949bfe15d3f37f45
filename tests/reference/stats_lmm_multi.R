# Reference values for tests/stats/test_lmm_multi.cpp: linear mixed models
# with several random-effect terms (nested and crossed groupings) as
# lme4::lmer fits them, with lmerTest's Satterthwaite df and anova()'s
# likelihood-ratio test. Writes the data sets to tests/data/stats/ and prints
# every number the test freezes, as C++ initialisers of the test's Expected.
# Run from the repository root: Rscript tests/reference/stats_lmm_multi.R
#
# The fits use a tight optimizer ("tight" below) so that the frozen values are
# the optimum itself rather than where lmer's default stopping rule leaves
# the optimizer (the default fits are printed at the end for comparison).
suppressPackageStartupMessages(library(lmerTest))
out_dir <- "tests/data/stats"
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5),
                     calc.derivs = FALSE)
v <- function(x) paste0("{", paste(sprintf("%.15g", x), collapse = ", "), "}")
show_fit <- function(label, fit) {
  s <- summary(fit)$coefficients
  vc <- as.data.frame(VarCorr(fit))
  crit <- if (isREML(fit)) getME(fit, "devcomp")$cmp["REML"] else deviance(fit)
  cat("==", label, "\n")
  cat("// terms:", rownames(s), "\n")
  cat("// theta:", names(getME(fit, "theta")), "\n")
  cat("// components:", paste(vc$grp, vc$var1, vc$var2, sep = "/"), "\n")
  cat("// groups:", paste(names(ngrps(fit)), ngrps(fit), sep = "="), "singular:", isSingular(fit), "\n")
  cat(sprintf("{%s,\n %s,\n %s,\n %s,\n %s,\n %s,\n %.15g,\n %s,\n %.15g, %.15g, %.15g, %.15g}\n",
              v(s[, "Estimate"]), v(s[, "Std. Error"]), v(s[, "df"]), v(s[, "t value"]), v(s[, "Pr(>|t|)"]),
              v(getME(fit, "theta")), sigma(fit), v(vc$sdcor), crit, as.numeric(logLik(fit)), AIC(fit),
              BIC(fit)))
}

# 1. Nested, balanced: 8 sites x 10 participants x 4 visits. Participants are
#    numbered 1..10 within each site, so only site:participant identifies one.
set.seed(20261211)
ns <- 8; npp <- 10; nv <- 4
site <- rep(1:ns, each = npp * nv)
participant <- rep(rep(1:npp, each = nv), times = ns)
visit <- rep(0:(nv - 1), times = ns * npp)
pid <- (site - 1) * npp + participant
arm <- rbinom(ns * npp, 1, 0.5)[pid]
y <- 5 + rnorm(ns, 0, 0.7)[site] + rnorm(ns * npp, 0, 1)[pid] - 0.4 * arm +
  (-0.3 - 0.2 * arm) * visit + rnorm(length(site), 0, 0.9)
nested <- data.frame(site, participant, arm, visit, y = round(y, 4))
write.csv(nested, file.path(out_dir, "lmm_nested.csv"), row.names = FALSE)
f_nested <- y ~ arm * visit + (1 | site/participant)
show_fit("nested REML", lmer(f_nested, data = nested, control = tight))
show_fit("nested ML", lmer(f_nested, data = nested, REML = FALSE, control = tight))
# Likelihood-ratio tests (anova refits by ML): the interaction, and the site term.
full <- lmer(f_nested, data = nested, control = tight)
no_inter <- lmer(y ~ arm + visit + (1 | site/participant), data = nested, control = tight)
no_site <- lmer(y ~ arm * visit + (1 | site:participant), data = nested, control = tight)
for (small in list(list("lrt interaction", no_inter), list("lrt site", no_site))) {
  a <- anova(small[[2]], full)
  cat("==", small[[1]], "\n")
  cat(sprintf("{%.15g, %d, %.15g, %.15g, %.15g}\n", a$Chisq[2], a$Df[2], a[["Pr(>Chisq)"]][2], a$logLik[1],
              a$logLik[2]))
}
# Too few sites: the first 3 sites only.
show_fit("nested 3 sites REML", lmer(f_nested, data = subset(nested, site <= 3), control = tight))

# 2. Nested, unbalanced: 12 sites with 2 to 9 participants, 2 to 5 visits
#    each, a correlated random slope for the visit per participant.
set.seed(20261212)
ns <- 12
per_site <- sample(2:9, ns, replace = TRUE)
psite <- rep(1:ns, times = per_site)
np <- length(psite)
nvis <- sample(2:5, np, replace = TRUE)
pid <- rep(1:np, times = nvis)
site <- psite[pid]
participant <- ave(seq_len(np), psite, FUN = seq_along)[pid]
visit <- ave(pid, pid, FUN = seq_along) - 1
arm <- rbinom(np, 1, 0.5)[pid]
b0 <- rnorm(np, 0, 1)[pid]
b1 <- rnorm(np, 0, 0.3)[pid]
y <- 5 + rnorm(ns, 0, 0.6)[site] + b0 - 0.4 * arm + (-0.3 + b1) * visit + rnorm(length(pid), 0, 0.7)
unbal <- data.frame(site, participant, arm, visit, y = round(y, 4))
write.csv(unbal, file.path(out_dir, "lmm_nested_unbalanced.csv"), row.names = FALSE)
show_fit("unbalanced REML", lmer(y ~ arm + visit + (1 | site/participant), data = unbal, control = tight))
show_fit("unbalanced slope REML",
         lmer(y ~ arm + visit + (1 + visit | site:participant) + (1 | site), data = unbal, control = tight))

# 3. Crossed: 45 participants each rated by 4 of 7 raters.
set.seed(20261213)
np <- 45; nr <- 7
participant <- rep(1:np, each = 4)
rater <- as.vector(sapply(1:np, function(i) sort(sample(1:nr, 4))))
x <- round(rnorm(length(participant)), 3)
y <- 10 + rnorm(np, 0, 1.5)[participant] + rnorm(nr, 0, 0.8)[rater] +
  (0.5 + rnorm(nr, 0, 0.3)[rater]) * x + rnorm(length(participant), 0, 1)
crossed <- data.frame(participant, rater, x, y = round(y, 4))
write.csv(crossed, file.path(out_dir, "lmm_crossed.csv"), row.names = FALSE)
show_fit("crossed REML", lmer(y ~ x + (1 | participant) + (1 | rater), data = crossed, control = tight))
show_fit("crossed ML", lmer(y ~ x + (1 | participant) + (1 | rater), data = crossed, REML = FALSE,
                            control = tight))
show_fit("crossed slope REML", lmer(y ~ x + (1 | participant) + (1 + x | rater), data = crossed, control = tight))

# 4. A singular nested fit: no site-level variation (10 sites x 6 x 3 rows).
set.seed(20261210)  # the first seed from 20261210 on whose fit is singular
ns <- 10; npp <- 6
site <- rep(1:ns, each = npp * 3)
part <- rep(rep(1:npp, each = 3), times = ns)
x <- rnorm(length(site))
bp <- rnorm(ns * npp, 0, 0.8)[(site - 1) * npp + part]
y <- 1 + 0.4 * x + bp + rnorm(length(site))
sing <- data.frame(site, part, x, y = round(y, 4))
write.csv(sing, file.path(out_dir, "lmm_nested_singular.csv"), row.names = FALSE)
show_fit("singular REML", lmer(y ~ x + (1 | site/part), data = sing, control = tight))

cat("== default optimizer\n")
print(getME(lmer(f_nested, data = nested), "theta") - getME(lmer(f_nested, data = nested, control = tight), "theta"))
print(getME(lmer(y ~ x + (1 | participant) + (1 + x | rater), data = crossed), "theta") -
      getME(lmer(y ~ x + (1 | participant) + (1 + x | rater), data = crossed, control = tight), "theta"))

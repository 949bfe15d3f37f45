# Reference values for tests/recipes/test_recipe_cli.cpp ("the meta recipe
# equals metafor"): the demo meta recipe (examples/recipes/meta.toml)
# recomputed with metafor from examples/meta/trials_summary.csv.
#   Rscript tests/reference/recipes_meta.R
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
s <- read.csv(file.path(here, "..", "..", "examples", "meta", "trials_summary.csv"))
s <- s[s$outcome == "pain", ]
e <- s[s$arm == "exercise", ]
c <- s[s$arm == "control", ][match(e$trial, s[s$arm == "control", ]$trial), ]
es <- escalc(measure = "SMD", m1i = e$mean, sd1i = e$sd, n1i = e$n, m2i = c$mean, sd2i = c$sd, n2i = c$n)
options(digits = 15)
# metafor stops its REML iterations when tau^2 changes by less than 1e-5;
# the tight threshold gives the converged maximum, as in stats_meta.R.
tight <- list(threshold = 1e-12, maxiter = 1000)
reml <- rma(yi, vi, data = es, method = "REML", control = tight)
cat(sprintf("REML: estimate = %.15g, se = %.15g, tau2 = %.15g, I2 = %.15g\n", coef(reml), reml$se, reml$tau2, reml$I2))
fe <- rma(yi, vi, data = es, method = "FE")
cat(sprintf("FE: estimate = %.15g, se = %.15g\n", coef(fe), fe$se))
mr <- rma(yi, vi, mods = ~ e$weeks, data = es, method = "REML", control = tight)
cat(sprintf("meta-regression: intercept = %.15g, duration slope = %.15g, slope p = %.15g, tau2 = %.15g\n",
            coef(mr)[1], coef(mr)[2], mr$pval[2], mr$tau2))

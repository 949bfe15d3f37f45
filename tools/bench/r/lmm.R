# Part of tools/bench/lmm: times lme4::lmer (defaults, REML) with lmerTest's
# Satterthwaite summary on the visits CSV written by bench_lmm, and compares
# with cohortdb's estimates. Usage: Rscript lmm.R <visits.csv> <ours.txt>
suppressPackageStartupMessages(library(lmerTest))
args <- commandArgs(trailingOnly = TRUE)
t_read <- system.time(d <- read.csv(args[1]))
d$participant <- factor(d$participant)
lines <- strsplit(readLines(args[2]), " ")
key <- sapply(lines, `[`, 1)
kv <- function(k) as.numeric(lines[[which(key == k)]][-1])
terms <- lines[sapply(lines, length) == 3]
ours_est <- as.numeric(sapply(terms, `[`, 2))
ours_se <- as.numeric(sapply(terms, `[`, 3))
t_fit <- system.time({
  m <- lmer(y ~ arm * day + (1 + day | participant), data = d)
  s <- summary(m)$coefficients
})
r_est <- s[, "Estimate"]; r_se <- s[, "Std. Error"]
cat(sprintf(paste0("lmer n=%d (%d participants): R fit+Satterthwaite %.2f s wall (%.2f s CPU; read.csv %.2f s), ",
                   "cohortdb FitLmm %.3f s wall (%.3f s CPU), ratio %.0fx; max rel diff estimate %.2g, SE %.2g, ",
                   "REML criterion R %.10g cohortdb %.10g\n"),
            nrow(d), nlevels(d$participant), t_fit[["elapsed"]], t_fit[["user.self"]] + t_fit[["sys.self"]],
            t_read[["elapsed"]], kv("seconds"), kv("cpu_seconds"), t_fit[["elapsed"]] / kv("seconds"),
            max(abs(ours_est - r_est) / abs(r_est)), max(abs(ours_se - r_se) / r_se),
            getME(m, "devcomp")$cmp[["REML"]], kv("reml")))

# Part of tools/bench/models: times R's glm and lme4::glmer (defaults) on the
# cohort CSV written by bench_models and compares with cohortdb's estimates.
# Usage: Rscript models.R <cohort.csv> <ours_glm.txt> <ours_glmm.txt>
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = "numeric")
d$site <- factor(d$site)
fixed <- y ~ age + sex + diabetes + dyslipidemia + osteoporosis + osteoarthritis + act_low + act_high + lmm_z +
  intermat_z + bmi
read_ours <- function(path) {
  lines <- strsplit(readLines(path), " ")
  kv <- function(key) as.numeric(lines[[which(sapply(lines, `[`, 1) == key)]][2])
  terms <- lines[sapply(lines, length) == 3]
  list(seconds = kv("seconds"), cpu = kv("cpu_seconds"),
       est = setNames(as.numeric(sapply(terms, `[`, 2)), sapply(terms, `[`, 1)),
       se = setNames(as.numeric(sapply(terms, `[`, 3)), sapply(terms, `[`, 1)),
       sd = if (any(sapply(lines, `[`, 1) == "site_sd")) kv("site_sd") else NA)
}
compare <- function(label, r_time, r_est, r_se, ours, r_sd = NA) {
  r_seconds <- r_time[["elapsed"]]
  r_cpu <- r_time[["user.self"]] + r_time[["sys.self"]]
  rel_est <- max(abs(ours$est - r_est) / abs(r_est))
  in_se <- max(abs(ours$est - r_est) / r_se)
  rel_se <- max(abs(ours$se - r_se) / r_se)
  cat(sprintf(paste0("%s n=%d: wall R %.2f s, cohortdb %.3f s, ratio %.0fx; CPU R %.2f s, cohortdb %.3f s, ratio %.0fx;",
                     " max |diff|/SE %.2g, max rel diff estimate %.2g, SE %.2g"),
              label, nrow(d), r_seconds, ours$seconds, r_seconds / ours$seconds, r_cpu, ours$cpu, r_cpu / ours$cpu,
              in_se, rel_est, rel_se))
  if (!is.na(r_sd)) cat(sprintf(", site SD R %.6f cohortdb %.6f (rel diff %.2g)", r_sd, ours$sd, abs(ours$sd - r_sd) / r_sd))
  cat("\n")
}
ours_glm <- read_ours(args[2])
t_glm <- system.time(g <- glm(fixed, family = binomial, data = d))
compare("glm  ", t_glm, coef(g), sqrt(diag(vcov(g))), ours_glm)
ours_glmm <- read_ours(args[3])
t_glmer <- system.time(m <- glmer(update(fixed, . ~ . + (1 | site)), family = binomial, data = d))
compare("glmer", t_glmer, fixef(m), sqrt(diag(as.matrix(vcov(m)))), ours_glmm, getME(m, "theta"))
# Optional (COHORTDB_BENCH_TIGHT=1): glmer with a tight inner tolerance, to show
# how much of the difference above is glmer's default tolPwrss = 1e-7.
if (Sys.getenv("COHORTDB_BENCH_TIGHT") == "1") {
  t_tight <- system.time(mt <- glmer(update(fixed, . ~ . + (1 | site)), family = binomial, data = d,
                                     control = glmerControl(tolPwrss = 1e-13)))
  compare("glmer tolPwrss=1e-13", t_tight, fixef(mt), sqrt(diag(as.matrix(vcov(mt)))), ours_glmm, getME(mt, "theta"))
}

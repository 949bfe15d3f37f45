# Part of tools/bench/lmm_nested: times lme4::lmer (defaults, REML) with
# lmerTest's Satterthwaite summary for y ~ arm + visit + (1 | site/participant)
# on the CSV written by bench_lmm_nested, and compares with cohortdb's
# estimates. Usage: Rscript lmm_nested.R <nested.csv> <ours.txt>
suppressPackageStartupMessages(library(lmerTest))
args <- commandArgs(trailingOnly = TRUE)
t_read <- system.time(d <- read.csv(args[1]))
d$site <- factor(d$site)
d$participant <- factor(d$participant)
lines <- strsplit(readLines(args[2]), " ")
key <- sapply(lines, `[`, 1)
kv <- function(k) as.numeric(lines[[which(key == k)]][-1])
terms <- lines[sapply(lines, length) == 4]
ours_est <- as.numeric(sapply(terms, `[`, 2))
ours_se <- as.numeric(sapply(terms, `[`, 3))
ours_df <- as.numeric(sapply(terms, `[`, 4))
t_fit <- system.time({
  m <- lmer(y ~ arm + visit + (1 | site/participant), data = d)
  s <- summary(m)$coefficients
})
r_est <- s[, "Estimate"]; r_se <- s[, "Std. Error"]; r_df <- s[, "df"]
cat(sprintf(paste0("lmer n=%d (%d sites, %d site:participant): R fit+Satterthwaite %.2f s wall (%.2f s CPU; ",
                   "read.csv %.2f s), cohortdb FitLmmTerms %.3f s wall (%.3f s CPU), CPU ratio %.0fx; ",
                   "max rel diff estimate %.2g, SE %.2g, df %.2g; REML criterion R %.10g cohortdb %.10g\n"),
            nrow(d), nlevels(d$site), ngrps(m)[[1]], t_fit[["elapsed"]],
            t_fit[["user.self"]] + t_fit[["sys.self"]], t_read[["elapsed"]], kv("seconds"), kv("cpu_seconds"),
            (t_fit[["user.self"]] + t_fit[["sys.self"]]) / kv("cpu_seconds"),
            max(abs(ours_est - r_est) / abs(r_est)), max(abs(ours_se - r_se) / r_se),
            max(abs(ours_df - r_df) / r_df), getME(m, "devcomp")$cmp[["REML"]], kv("reml")))

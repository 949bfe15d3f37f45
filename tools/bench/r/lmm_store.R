# Part of tools/bench/lmm_store: read.csv of the rows cohortdb's frame holds,
# lme4::lmer (defaults, REML) and lmerTest's Satterthwaite summary(), then the
# comparison with cohortdb's JSON output. Timed as a whole by the script
# (/usr/bin/time -v); prints the largest differences.
# Usage: Rscript lmm_store.R <rows.csv> <cohortdb.json>
suppressPackageStartupMessages(library(lmerTest))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$participant <- factor(d$participant)
m <- lmer(y ~ arm * day + (1 + day | participant), data = d)
s <- summary(m)$coefficients
ours <- jsonlite::fromJSON(args[2])
res <- ours$results
if (is.null(res)) res <- ours$rows
coef <- res[res$section == "coefficients", ]
coef <- coef[match(rownames(s), coef$term), ]
df_ours <- if (!is.null(coef$extra$df)) coef$extra$df else coef$df
crit_ours <- ours$summary$reml_criterion
cat(sprintf("n=%d (%d participants); max rel diff vs lmerTest: estimate %.2g, SE %.2g, df %.2g; REML criterion R %.15g cohortdb %.15g\n",
            nrow(model.frame(m)), nlevels(d$participant),
            max(abs(coef$estimate - s[, "Estimate"]) / abs(s[, "Estimate"])),
            max(abs(coef$std_error - s[, "Std. Error"]) / s[, "Std. Error"]),
            max(abs(df_ours - s[, "df"]) / s[, "df"]),
            getME(m, "devcomp")$cmp[["REML"]], crit_ours))

# Picks the trial draw of tools/gen/gen_examples.cpp (kTrialDraw): the offset k
# (the trial is written from seed 20240613 + k) whose 41-participant sample
# comes closest to the paper's change-score correlations and standardised
# treatment betas, among draws with at least four TNF-alpha values below the
# detection limit.
#   c++ -std=c++20 -O2 -o /tmp/gen tools/gen/gen_examples.cpp
#   Rscript tools/gen/pick_trial_draw.R /tmp/gen
# Prints each draw that improves on the best so far; the last line is the
# choice (k = 1760 when kTrialDraw was set).
args <- commandArgs(trailingOnly = TRUE)
gen <- if (length(args) > 0) args[1] else "/tmp/gen"
# The generator adds kTrialDraw to --seed for the trial; undo it to try offset k.
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
source_text <- readLines(file.path(here, "gen_examples.cpp"))
current <- as.numeric(sub(".*kTrialDraw = ([0-9]+);.*", "\\1", grep("constexpr std::uint64_t kTrialDraw", source_text, value = TRUE)))
paper <- c(r_il6 = 0.434, r_crp = 0.444, beta_pain = -0.512, beta_pcs = 0.492)

source(file.path(here, "..", "..", "tests", "reference", "trial_change_scores.R"))

draw_stats <- function(dir) {
  d <- trial_change_scores(dir)
  censored <- startsWith(read.csv(file.path(dir, "trial_labs.csv"), colClasses = "character")$value, "<")
  beta <- function(y) {
    m <- lm(as.formula(paste(y, "~ treatment + tnf_change + il6_change + crp_change")), data = d)
    unname(coef(m)["treatment"] * sd(d$treatment) / sd(d[[y]]))
  }
  list(stats = c(r_il6 = cor(d$il6_change, d$pain_change), r_crp = cor(d$crp_change, d$pain_change),
                 beta_pain = beta("pain_change"), beta_pcs = beta("pcs_change")),
       censored = sum(censored))
}

best <- Inf
for (k in 0:4000) {
  dir <- tempfile()
  system2(gen, c("--out", dir, "--seed", format(20240613 + k - current, scientific = FALSE), "--only", "trial"))
  s <- draw_stats(file.path(dir, "trial"))
  unlink(dir, recursive = TRUE)
  if (s$censored < 4) next
  score <- sum((s$stats - paper)^2)
  if (score < best) {
    best <- score
    cat(sprintf("k = %d: %s (score %.5f)\n", k, paste(names(s$stats), round(s$stats, 3), sep = " = ", collapse = ", "), score))
  }
}

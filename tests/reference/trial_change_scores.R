# trial_change_scores(dir): one row per participant of the trial exports in
# dir (trial_redcap.csv, trial_labs.csv) with the treatment indicator and the
# change scores (week 12 minus baseline) of pain, SF-36 PCS, TNF-alpha, IL-6
# and hs-CRP. Values below the detection limit ("<0.15") count as
# limit/sqrt(2); hs-CRP in mg/dL is converted to mg/L (x 10). Sourced by
# recipes_trial.R and tools/gen/pick_trial_draw.R.
trial_change_scores <- function(dir) {
  redcap <- read.csv(file.path(dir, "trial_redcap.csv"), colClasses = "character")
  labs <- read.csv(file.path(dir, "trial_labs.csv"), colClasses = "character")
  base <- redcap[redcap$redcap_event_name == "baseline_arm_1", ]
  week <- redcap[redcap$redcap_event_name == "week_12_arm_1", ]
  d <- data.frame(id = base$record_id, treatment = ifelse(base$arm == "1", 1, 0))
  num <- function(x) as.numeric(x)
  d$pain_change <- num(week$pain_nrs[match(d$id, week$record_id)]) - num(base$pain_nrs)
  d$pcs_change <- num(week$sf36_pcs[match(d$id, week$record_id)]) - num(base$sf36_pcs)
  censored <- startsWith(labs$value, "<")
  v <- as.numeric(sub("^<", "", labs$value))
  v[censored] <- v[censored] / sqrt(2)
  v[labs$unit == "mg/dL"] <- v[labs$unit == "mg/dL"] * 10
  labs$v <- v
  biomarker <- function(analyte, visit) {
    l <- labs[labs$analyte == analyte & labs$visit == visit, ]
    l$v[match(d$id, l$subject)]
  }
  d$tnf_change <- biomarker("TNF-alpha", "V2") - biomarker("TNF-alpha", "V1")
  d$il6_change <- biomarker("IL-6", "V2") - biomarker("IL-6", "V1")
  d$crp_change <- biomarker("hs-CRP", "V2") - biomarker("hs-CRP", "V1")
  d
}

#pragma once
// Complete-case selection, --by strata and the shared parts of every
// analysis: the result set skeleton, the counts of rows used and excluded
// (and why, per variable), and the design matrix of regression models with
// categorical predictors expanded to treatment-coded dummies (first level is
// the reference; terms named as R names them: "sexmale", "pa_met_cat500-5000").

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "analysis/analysis.h"
#include "analysis/frame.h"
#include "common/result.h"

namespace cohortdb::analysis {

class Options;

// The rows of "frame" with no missing value in any of "variables" (names
// already checked), with z() columns standardised on those rows. "frame" is
// emptied: its rows live on in the sample only (one copy at biobank scale).
struct Sample {
  Frame frame;
  std::int64_t used = 0;
  std::int64_t excluded = 0;
  // variable -> rows missing it (a row missing two variables counts twice).
  nlohmann::ordered_json excluded_by = nlohmann::ordered_json::object();
  // variable -> censored values (below or above a detection limit): those
  // the --censored rule substituted in the rows used, or under "exclude"
  // those it left out as missing.
  nlohmann::ordered_json censored = nlohmann::ordered_json::object();
};
Sample CompleteCases(Frame& frame, const std::vector<std::string>& variables);

struct Stratum {
  std::string label;
  Frame frame;
};
// Most levels a --by variable may have.
inline constexpr std::size_t kMaxStrata = 200;
// The strata of a sample, to iterate once: the overall sample first (label
// ""), then one per level of "by" (label "by=level"), in level order; without
// "by" only the overall sample. The overall stratum is a copy of "sample"
// that shares its columns (no rows copied); each level is kept as the index
// set of its rows, and its frame is made when the loop reaches it and freed
// when the loop moves on, so at most one level's rows are held beside
// "sample". A stratum's frame may be changed (AsCategorical, Put, derived
// thresholds): the change goes to the stratum's own copy of that column, and
// "sample", which the later strata are cut from, never sees it. With
// "consume" and no "by", the overall stratum takes "sample" over (left
// empty), so its columns go when the loop ends. More than kMaxStrata levels:
// InputError.
class StrataRange {
 public:
  StrataRange(Frame& sample, const std::string& by, bool consume);

  class Iterator {
   public:
    Iterator(StrataRange* range, std::size_t k) : range_(range), k_(k) {}
    Stratum& operator*() const { return range_->Load(k_); }
    Iterator& operator++() {
      ++k_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return k_ != other.k_; }

   private:
    StrataRange* range_;
    std::size_t k_;
  };
  Iterator begin() { return {this, 0}; }
  Iterator end() { return {this, labels_.size()}; }

 private:
  Stratum& Load(std::size_t k);

  Frame& sample_;
  bool consume_;
  std::vector<std::string> labels_;
  std::vector<std::vector<std::size_t>> rows_;  // per label after the first
  Stratum current_;
  std::size_t loaded_ = static_cast<std::size_t>(-1);
};
StrataRange Strata(Frame& sample, const std::string& by, bool consume = false);

// For analyses that test one variable (or pair) at a time on the rows that
// hold it (compare, correlate): "sample" holds the rows with the variables
// every test needs (group, --by); "groups" lists, per test, the variables it
// needs. Rows used are those of "sample" that some test uses; the rest count
// as excluded, and each variable's missing rows are listed.
void RecordTestwiseSample(AnalysisResultSet& result, const Sample& sample,
                          const std::vector<std::vector<std::string>>& groups);

// A result set with command and parameters filled in.
AnalysisResultSet NewResultSet(const AnalysisRequest& request);
// Writes rows used/excluded and the exclusion reasons into "result".
void RecordSample(AnalysisResultSet& result, const Sample& sample);

// The design matrix of "predictors" over the frame's rows (no missing values
// expected: use a complete-case sample).
struct Design {
  Eigen::MatrixXd x;
  std::vector<std::string> names;      // "(Intercept)", "age_years", "sexmale", ...
  std::vector<std::string> variables;  // the frame variable behind each column ("" for the intercept)
};
// Levels a categorical predictor does not hold in these rows are dropped (as
// lm's model.frame drops unused levels); fewer than two levels left:
// InputError.
Design BuildDesign(Frame& frame, const std::vector<std::string>& predictors, bool intercept = true);
// The two models of the interaction test of --by, in one matrix: "base",
// then the dummies of "by" unless "by" is among base's variables, then the
// product of every other non-intercept column of base with every dummy of
// "by" (named "term:bylevel", as R). The first "main_effects" columns are the
// main-effects model nested in it.
struct InteractionDesign {
  Design design;
  Eigen::Index main_effects = 0;
};
// Takes "base" over and widens it in place (no second copy of its columns).
InteractionDesign WithInteractions(Design base, Frame& frame, const std::string& by);
// Drops the interaction columns in place: "d.design" becomes the
// main-effects model (fit the interaction model first).
void KeepMainEffects(InteractionDesign& d);

// A 0/1 outcome: a numeric column holding only 0 and 1, or a categorical one
// with exactly two levels (the second level is 1, as R's glm treats factors).
Eigen::VectorXd BinaryOutcome(Frame& frame, const std::string& name, std::string* event_label = nullptr);
Eigen::VectorXd NumericVector(Frame& frame, const std::string& name, const std::string& option);
std::vector<double> NumericValues(Frame& frame, const std::string& name, const std::string& option);

// Copies a stats::TermEstimate into a ResultRow.
template <typename Term>
ResultRow RowFromTerm(const std::string& section, const std::string& stratum, const Term& t) {
  ResultRow row;
  row.section = section;
  row.stratum = stratum;
  row.term = t.term;
  row.estimate = t.estimate;
  row.std_error = t.std_error;
  row.statistic = t.statistic;
  row.p_value = t.p_value;
  row.conf_low = t.conf_low;
  row.conf_high = t.conf_high;
  return row;
}

// The note of a chi-square test with an expected count below 5.
inline constexpr const char* kSmallExpectedNote =
    "an expected count is below 5: the chi-square approximation may be incorrect (R's chisq.test warns the same)";

// The predictor list without "by" (it is constant within a stratum).
std::vector<std::string> WithoutVariable(const std::vector<std::string>& names, const std::string& drop);

// Appends the names that are not yet in "into".
void AppendUnique(std::vector<std::string>& into, const std::vector<std::string>& names);

// The common options every analysis reads (besides its own): --by and
// --min-cell, validated.
std::string ByOption(const Options& options);
std::optional<std::int64_t> MinCellOption(const Options& options);

}  // namespace cohortdb::analysis

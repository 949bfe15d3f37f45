// mediate: treatment -> mediator -> outcome with linear paths (stats
// FitMediation): a, b, direct, total and indirect (a b, Sobel test) effects,
// proportion mediated and a percentile bootstrap CI of a b (--boot N draws,
// --seed S; identical results for identical seed). A categorical treatment
// with two levels is coded 0/1 (second level = 1).
#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/mediation.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

// Fewest bootstrap draws whose 95% percentile interval is not simply the
// smallest and largest draw: (R + 1) * 0.025 > 1.
constexpr std::size_t kMinPercentileDraws = 39;

std::vector<double> TreatmentValues(Frame& frame, const std::string& name, std::string* coding) {
  const Column& c = frame.Get(name, "treatment");
  if (c.numeric) return c.values;
  if (c.levels.size() != 2) {
    throw InputError(
        fmt::format("--treatment: '{}' must be numeric or have two levels, found {}", name, c.levels.size()));
  }
  if (coding) *coding = fmt::format("{} = 0, {} = 1", c.levels[0], c.levels[1]);
  std::vector<double> out;
  for (std::int32_t code : c.codes) out.push_back(code < 0 ? std::nan("") : (code == 1 ? 1.0 : 0.0));
  return out;
}

AnalysisResultSet RunMediate(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  Frame frame = LoadFrame(store, options);
  const std::string treatment = options.RequiredString("treatment");
  const std::string mediator = options.RequiredString("mediator");
  const std::string outcome = options.RequiredString("outcome");
  const auto covariates = options.List("covariates");
  const auto boot = options.Integer("boot").value_or(1000);
  const auto seed = options.Integer("seed").value_or(1);
  const std::string by = ByOption(options);
  std::vector<std::string> needed = {treatment, mediator, outcome};
  AppendUnique(needed, covariates);
  AppendUnique(needed, {by});
  for (const auto& v : needed) frame.Require(v, "variable");
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  for (Stratum& s : Strata(sample.frame, by)) {
    stats::MediationInput input;
    std::string coding;
    input.treatment = TreatmentValues(s.frame, treatment, &coding);
    input.mediator = NumericValues(s.frame, mediator, "mediator");
    input.outcome = NumericValues(s.frame, outcome, "outcome");
    const auto covs = s.label.empty() ? covariates : WithoutVariable(covariates, by);
    stats::MediationOptions mo;
    mo.bootstrap_draws = static_cast<std::size_t>(boot);
    mo.seed = static_cast<std::uint64_t>(seed);
    stats::MediationResult m;
    try {
      if (!covs.empty()) {
        const Design d = BuildDesign(s.frame, covs, false);
        input.covariates = d.x;
        input.covariate_names = d.names;
      } else {
        input.covariates.resize(static_cast<Eigen::Index>(s.frame.rows()), 0);
      }
      m = stats::FitMediation(input, mo);
    } catch (const Error& e) {  // a stratum that cannot be fitted, or holding one level of a covariate
      if (s.label.empty()) throw;
      result.summary["strata"][s.label] = {{"error", e.what()}};
      continue;
    }
    auto add = [&](const stats::TermEstimate& t, const std::string& term) {
      ResultRow row = RowFromTerm("mediation", s.label, t);
      row.term = term;
      row.n = static_cast<std::int64_t>(m.n);
      return row;
    };
    result.rows.push_back(add(m.a, fmt::format("a: {} -> {}", treatment, mediator)));
    result.rows.push_back(add(m.b, fmt::format("b: {} -> {}", mediator, outcome)));
    result.rows.push_back(add(m.direct, "direct effect"));
    result.rows.push_back(add(m.total, "total effect"));
    ResultRow indirect = add(m.indirect, "indirect effect (a*b)");
    indirect.extra["sobel_conf_low"] = m.indirect.conf_low;
    indirect.extra["sobel_conf_high"] = m.indirect.conf_high;
    if (boot > 0) {
      indirect.conf_low = m.boot_conf_low;
      indirect.conf_high = m.boot_conf_high;
      indirect.extra["ci"] = "percentile bootstrap";
      indirect.extra["boot_draws_used"] = m.boot_draws_used;
      // boot.ci's percentile interval needs (R + 1) * 0.025 > 1, i.e. 39 or
      // more draws; below that it warns that extreme order statistics are
      // the endpoints, and so do we.
      const auto skipped = static_cast<std::size_t>(boot) - m.boot_draws_used;
      std::string note;
      if (m.boot_draws_used == 0) {
        note = "no bootstrap draw could be fitted, so there is no bootstrap CI";
      } else if (m.boot_draws_used < kMinPercentileDraws) {
        note = fmt::format(
            "percentile CI from {} draws: its ends are the extreme draws (R's boot.ci warns the same); use 1000 or more",
            m.boot_draws_used);
      }
      if (skipped > 0) {
        if (!note.empty()) note += "; ";
        note += fmt::format("{} of {} draws could not be fitted and were skipped", skipped, boot);
      }
      if (!note.empty()) indirect.extra["note"] = note;
    } else {
      indirect.extra["ci"] = "Sobel (normal)";
    }
    result.rows.push_back(std::move(indirect));
    ResultRow proportion;
    proportion.section = "mediation";
    proportion.stratum = s.label;
    proportion.term = "proportion mediated";
    proportion.estimate = m.proportion_mediated;
    proportion.n = static_cast<std::int64_t>(m.n);
    result.rows.push_back(std::move(proportion));
    nlohmann::ordered_json summary = {{"nobs", m.n}, {"boot", boot}, {"seed", seed}};
    if (!coding.empty()) summary["treatment_coding"] = coding;
    if (s.label.empty()) {
      for (const auto& [k, v] : summary.items()) result.summary[k] = v;
    } else {
      result.summary["strata"][s.label] = summary;
    }
  }
  return result;
}

}  // namespace

AnalysisSpec MediateAnalysis() {
  return {"mediate",
          "Mediation with linear paths: indirect, direct and total effects, Sobel test, bootstrap CI",
          "cohortdb mediate demo-output/demo.cohortdb --study trial --derive \"il6_change=change(il6, baseline, week12)\" "
          "--derive \"pain_change=change(pain_nrs, baseline, week12)\" --treatment arm --mediator il6_change "
          "--outcome pain_change --boot 2000 --seed 42",
          {{"treatment", OptionType::kString, "Treatment (0/1 or two levels; second level = 1)", true},
           {"mediator", OptionType::kString, "Mediator (continuous)", true},
           {"outcome", OptionType::kString, "Outcome (continuous)", true},
           {"covariates", OptionType::kStringList, "Covariates in both paths"},
           {"boot", OptionType::kInteger,
            "Bootstrap draws for the CI of the indirect effect (default 1000; 0: none; at most 100000)", false, {},
            0, 100000},
           {"seed", OptionType::kInteger, "Seed of the bootstrap (default 1)"}},
          RunMediate,
          {"treatment", "mediator", "outcome", "covariates"}};
}

}  // namespace cohortdb::analysis

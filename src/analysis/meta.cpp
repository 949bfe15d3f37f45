// meta: meta-analysis of the trial summaries of --study (tables meta_trial and
// meta_arm_summary) for one --outcome: per-trial effect sizes as
// metafor::escalc (SMD = Hedges' g, MD, OR = log odds ratio; treatment minus
// control), pooled by rma (FE, DL or REML) with Q, I^2, tau^2 and the
// prediction interval; --mods adds a meta-regression on trial attributes
// (duration_weeks, year, or a numeric key of the trial's attributes). --by
// pools within the levels of a trial attribute (subgroups) and overall, and
// tests the difference between the subgroups.
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analysis/analyses.h"
#include "analysis/frame.h"
#include "analysis/model_plots.h"
#include "analysis/options.h"
#include "analysis/report.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/effect_size.h"
#include "stats/meta_analysis.h"
#include "stats/probability.h"
#include "store/frame_source.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

struct Trial {
  MetaTrialArms arms;
  nlohmann::json attributes;
  stats::EffectSize effect;
};

std::optional<double> Attribute(const Trial& t, const std::string& name) {
  if (name == "duration_weeks") return t.arms.duration_weeks;
  if (name == "year")
    return t.arms.year ? std::optional<double>(static_cast<double>(*t.arms.year)) : std::nullopt;
  if (!t.attributes.is_object() || !t.attributes.contains(name)) return std::nullopt;
  const auto& v = t.attributes[name];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    // Imports keep attribute cells as delivered text: a moderator is read
    // from the whole text as a number, or is missing for that trial.
    return ParseFiniteNumber(v.get_ref<const std::string&>());
  }
  return std::nullopt;
}

// A moderator that no trial holds as a number is a typo or the wrong
// attribute, not a reason to fit a meta-regression on no trial.
void CheckModerators(const std::vector<Trial>& trials, const std::vector<std::string>& mods) {
  for (const std::string& mod : mods) {
    bool held = false;
    bool as_text = false;
    for (const Trial& t : trials) {
      if (Attribute(t, mod)) {
        held = true;
        break;
      }
      if (t.attributes.is_object() && t.attributes.contains(mod)) as_text = true;
    }
    if (held) continue;
    if (as_text) {
      throw InputError(fmt::format("--mods: no trial holds a number in the attribute '{}'; a moderator must be numeric",
                                   mod));
    }
    std::set<std::string> names = {"duration_weeks", "year"};
    for (const Trial& t : trials) {
      if (!t.attributes.is_object()) continue;
      for (const auto& item : t.attributes.items()) names.insert(item.key());
    }
    throw InputError(fmt::format("--mods: no trial has the attribute '{}' (the trials have: {})", mod,
                                 fmt::join(names, ", ")));
  }
}

std::optional<std::string> AttributeText(const Trial& t, const std::string& name) {
  if (t.attributes.is_object() && t.attributes.contains(name)) {
    const auto& v = t.attributes[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return std::nullopt;
    return v.dump();
  }
  if (const auto v = Attribute(t, name)) return fmt::format("{}", *v);
  return std::nullopt;
}

stats::EffectSize Effect(const MetaTrialArms& t, const std::string& measure) {
  if (!t.treatment || !t.control) {
    throw InputError(fmt::format("meta: trial '{}' lacks a treatment or control arm summary", t.label));
  }
  const auto& a = *t.treatment;
  const auto& b = *t.control;
  if (measure == "OR") {
    if (!a.events || !b.events)
      throw InputError(fmt::format("meta: trial '{}' has no event counts for OR", t.label));
    return stats::LogOddsRatio(static_cast<double>(*a.events), static_cast<double>(a.n - *a.events),
                               static_cast<double>(*b.events), static_cast<double>(b.n - *b.events));
  }
  if (!a.mean || !a.sd || !b.mean || !b.sd) {
    throw InputError(fmt::format("meta: trial '{}' has no means and SDs for {}", t.label, measure));
  }
  const auto n1 = static_cast<double>(a.n), n2 = static_cast<double>(b.n);
  return measure == "SMD" ? stats::HedgesG(*a.mean, *a.sd, n1, *b.mean, *b.sd, n2)
                          : stats::MeanDifference(*a.mean, *a.sd, n1, *b.mean, *b.sd, n2);
}

// Pools "trials" into result (rows, summary) and returns the pooled
// estimate.
stats::TermEstimate Pool(const std::vector<const Trial*>& trials, const std::string& stratum,
                         const std::string& measure, const std::string& method_name, const stats::MetaOptions& mo,
                         const std::vector<std::string>& mods, AnalysisResultSet& result) {
  std::vector<double> yi, vi;
  for (const Trial* t : trials) {
    yi.push_back(t->effect.yi);
    vi.push_back(t->effect.vi);
  }
  const stats::MetaResult pooled = stats::PoolEffects(yi, vi, mo);
  const double z = stats::prob::NormalQuantile(0.975);
  double total_weight = 0;
  for (double v : vi) total_weight += 1 / (v + pooled.tau2);
  for (const Trial* t : trials) {
    ResultRow row;
    row.section = "studies";
    row.stratum = stratum;
    row.term = t->arms.label;
    row.estimate = t->effect.yi;
    row.std_error = std::sqrt(t->effect.vi);
    row.statistic = row.estimate / row.std_error;
    row.p_value = stats::prob::NormalTwoSided(row.statistic);
    row.conf_low = row.estimate - z * row.std_error;
    row.conf_high = row.estimate + z * row.std_error;
    row.n = t->arms.treatment->n + t->arms.control->n;
    row.extra["weight_percent"] = 100 / (t->effect.vi + pooled.tau2) / total_weight;
    row.extra["variance"] = t->effect.vi;
    if (measure == "OR") {
      row.extra["odds_ratio"] = std::exp(row.estimate);
      row.extra["or_conf_low"] = std::exp(row.conf_low);
      row.extra["or_conf_high"] = std::exp(row.conf_high);
    }
    if (t->effect.continuity_corrected) row.extra["note"] = "0.5 added to every cell (a zero cell)";
    if (t->arms.year) row.extra["year"] = *t->arms.year;
    result.rows.push_back(std::move(row));
  }
  const stats::TermEstimate& est = pooled.coefficients.front();
  ResultRow row = RowFromTerm("pooled", stratum, est);
  row.term = fmt::format("pooled ({})", method_name);
  row.n = static_cast<std::int64_t>(pooled.k);
  row.extra["k"] = pooled.k;
  row.extra["tau2"] = pooled.tau2;
  row.extra["tau"] = pooled.tau;
  row.extra["i2"] = pooled.i2;
  row.extra["h2"] = pooled.h2;
  row.extra["q"] = pooled.q;
  row.extra["q_df"] = pooled.q_df;
  row.extra["q_p_value"] = pooled.q_p_value;
  row.extra["pi_low"] = pooled.pi_low;
  row.extra["pi_high"] = pooled.pi_high;
  if (measure == "OR") {
    row.extra["odds_ratio"] = std::exp(est.estimate);
    row.extra["or_conf_low"] = std::exp(est.conf_low);
    row.extra["or_conf_high"] = std::exp(est.conf_high);
  }
  nlohmann::ordered_json summary = {{"k", pooled.k},
                                    {"tau2", pooled.tau2},
                                    {"i2", pooled.i2},
                                    {"h2", pooled.h2},
                                    {"q", pooled.q},
                                    {"q_df", pooled.q_df},
                                    {"q_p_value", pooled.q_p_value}};
  result.rows.push_back(std::move(row));
  if (!mods.empty()) {
    std::vector<double> myi, mvi;
    Eigen::MatrixXd m(static_cast<Eigen::Index>(trials.size()), static_cast<Eigen::Index>(mods.size()));
    Eigen::Index r = 0;
    std::size_t dropped = 0;
    for (const Trial* t : trials) {
      bool ok = true;
      for (std::size_t j = 0; j < mods.size(); ++j) {
        const auto v = Attribute(*t, mods[j]);
        if (!v) {
          ok = false;
          break;
        }
        m(r, static_cast<Eigen::Index>(j)) = *v;
      }
      if (!ok) {
        ++dropped;
        continue;
      }
      myi.push_back(t->effect.yi);
      mvi.push_back(t->effect.vi);
      ++r;
    }
    m.conservativeResize(r, Eigen::NoChange);
    const stats::MetaResult reg = stats::MetaRegression(myi, mvi, m, mods, mo);
    for (const auto& c : reg.coefficients) {
      ResultRow cr = RowFromTerm("meta_regression", stratum, c);
      cr.n = static_cast<std::int64_t>(reg.k);
      result.rows.push_back(std::move(cr));
    }
    summary["meta_regression"] = {{"k", reg.k},
                                  {"dropped_missing_moderator", dropped},
                                  {"tau2", reg.tau2},
                                  {"i2", reg.i2},
                                  {"qe", reg.q},
                                  {"qe_df", reg.q_df},
                                  {"qe_p_value", reg.q_p_value},
                                  {"qm", reg.qm},
                                  {"qm_df", reg.qm_df},
                                  {"qm_p_value", reg.qm_p_value}};
  }
  if (stratum.empty()) {
    for (const auto& [k, v] : summary.items()) result.summary[k] = v;
  } else {
    result.summary["strata"][stratum] = summary;
  }
  return est;
}

// The test for subgroup differences: Cochran's Q across the subgroups'
// pooled estimates, each weighted by 1 / SE^2 (each subgroup with its own
// tau^2), chi-square with (subgroups - 1) df; what metafor gives for
// rma(estimates, sei = se, method = "FE") and RevMan reports.
// Subgroups that could not be pooled (one trial) are left out and counted.
void SubgroupDifference(const std::string& by, const std::vector<stats::TermEstimate>& pooled, std::size_t left_out,
                        AnalysisResultSet& result) {
  ResultRow row;
  row.section = "subgroup_difference";
  row.term = fmt::format("{} (Q between subgroups)", by);
  row.n = static_cast<std::int64_t>(pooled.size());
  row.extra["test"] = "Q between subgroup estimates (fixed effect, separate tau^2)";
  row.extra["subgroups_left_out"] = left_out;
  if (pooled.size() < 2) {
    row.extra["note"] = "fewer than two subgroups could be pooled";
  } else {
    std::vector<double> yi, vi;
    for (const stats::TermEstimate& e : pooled) {
      yi.push_back(e.estimate);
      vi.push_back(e.std_error * e.std_error);
    }
    stats::MetaOptions fixed;
    fixed.method = stats::TauSquaredMethod::kFixedEffect;
    const stats::MetaResult q = stats::PoolEffects(yi, vi, fixed);
    row.statistic = q.q;
    row.p_value = q.q_p_value;
    row.extra["df"] = q.q_df;
    result.summary["subgroup_difference"] = {
        {"q", q.q}, {"df", q.q_df}, {"p_value", q.q_p_value}, {"subgroups_left_out", left_out}};
  }
  result.rows.push_back(std::move(row));
}

AnalysisResultSet RunMeta(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  const std::string study = options.RequiredString("study");
  const std::string outcome = options.RequiredString("outcome");
  const std::string measure = options.StringOr("measure", "SMD");  // values checked by ValidateRequest
  const std::string method = options.StringOr("method", "REML");
  stats::MetaOptions mo;
  if (method == "REML")
    mo.method = stats::TauSquaredMethod::kReml;
  else if (method == "DL")
    mo.method = stats::TauSquaredMethod::kDerSimonianLaird;
  else if (method == "FE")
    mo.method = stats::TauSquaredMethod::kFixedEffect;
  else
    throw InputError(fmt::format("--method: expected REML, DL or FE, found '{}'", method));
  const auto mods = options.List("mods");
  const std::string by = ByOption(options);
  std::vector<Trial> trials;
  for (MetaTrialArms& arms : LoadMetaTrials(store, study, outcome)) {
    Trial t;
    t.effect = Effect(arms, measure);
    if (!arms.attributes.empty()) t.attributes = nlohmann::json::parse(arms.attributes, nullptr, false);
    t.arms = std::move(arms);
    trials.push_back(std::move(t));
  }
  CheckModerators(trials, mods);
  AnalysisResultSet result = NewResultSet(request);
  result.rows_used = static_cast<std::int64_t>(trials.size());
  result.diagnostics["rows_used"] = trials.size();
  result.diagnostics["rows_excluded"] = 0;
  result.summary["outcome"] = outcome;
  result.summary["measure"] = measure;
  result.summary["method"] = method;
  std::vector<const Trial*> all;
  for (const Trial& t : trials) all.push_back(&t);
  Pool(all, "", measure, method, mo, mods, result);
  if (!by.empty()) {
    std::vector<std::string> levels;
    for (const Trial& t : trials) {
      const auto v = AttributeText(t, by);
      if (v && std::find(levels.begin(), levels.end(), *v) == levels.end()) levels.push_back(*v);
    }
    if (levels.empty()) throw InputError(fmt::format("--by: no trial has the attribute '{}'", by));
    std::vector<stats::TermEstimate> pooled;
    for (const std::string& level : levels) {
      std::vector<const Trial*> subset;
      for (const Trial& t : trials) {
        if (AttributeText(t, by) == level) subset.push_back(&t);
      }
      const std::string label = fmt::format("{}={}", by, level);
      try {
        pooled.push_back(Pool(subset, label, measure, method, mo, {}, result));
      } catch (const NumericalError& e) {
        result.summary["strata"][label] = {{"error", e.what()}};
      }
    }
    SubgroupDifference(by, pooled, levels.size() - pooled.size(), result);
  }
  return result;
}

}  // namespace

AnalysisSpec MetaAnalysis() {
  return {
      "meta",
      "Meta-analysis of trial summaries: SMD/MD/OR, FE/DL/REML pooling, meta-regression",
      "cohortdb meta demo-output/demo.cohortdb --study exercise_meta --outcome pain --measure SMD --method REML --mods "
      "duration_weeks "
      "--plot forest.svg",
      {{"outcome", OptionType::kString, "Outcome of the trial summaries (meta_arm_summary.outcome)", true},
       {"measure", OptionType::kString, "SMD (Hedges' g, default) | MD | OR", false, {"SMD", "MD", "OR"}},
       {"method", OptionType::kString, "REML (default) | DL | FE", false, {"REML", "DL", "FE"}},
       {"mods", OptionType::kStringList,
        "Moderators for meta-regression: duration_weeks, year or an attribute"},
       FavoursOption()},
      RunMeta,
      {},
      MetaPlotSvg};
}

}  // namespace cohortdb::analysis

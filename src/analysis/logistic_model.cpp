// logistic: logistic regression by IRLS as R's glm(family = binomial), or
// with --random SITE a mixed logistic regression with a random intercept per
// site as lme4::glmer (Laplace, or adaptive Gauss-Hermite with --agq N).
// Odds ratios with Wald CIs; --per-sd K reports the odds ratio per K SDs of
// the predictors in --per-sd-vars (default: every numeric predictor that is
// not 0/1). Under --by: per stratum and overall, plus the likelihood-ratio
// test of the predictor x by interaction.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/fit_timing.h"
#include "analysis/formula.h"
#include "analysis/formula_design.h"
#include "analysis/model_plots.h"
#include "analysis/options.h"
#include "analysis/report.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/logistic.h"
#include "stats/mixed_logistic.h"
#include "stats/probability.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

struct ModelSettings {
  std::string outcome;
  std::vector<std::string> predictors;
  std::string random;
  int agq = 1;
  std::optional<double> per_sd;
  std::vector<std::string> per_sd_vars;
  // Per --per-sd variable: the SD of the overall analysis sample, by which
  // every stratum's odds ratio is scaled too (one unit across the table).
  std::map<std::string, double> overall_sd;
};

// The fit of one model, whichever kind.
struct Fitted {
  std::vector<stats::TermEstimate> terms;
  std::vector<stats::OddsRatio> odds_ratios;
  double log_likelihood = std::nan("");
  std::size_t rank = 0;
  std::size_t n = 0;
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  std::vector<std::string> messages;
};

std::vector<int> GroupCodes(Frame& frame, const std::string& random) {
  const Column& c = frame.AsCategorical(random, "random");
  return std::vector<int>(c.codes.begin(), c.codes.end());
}

// Sample SD (n - 1) of the non-missing values; NaN for fewer than two.
double SampleSd(const std::vector<double>& values) {
  double n = 0, mean = 0, m2 = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    n += 1;
    const double delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }
  return n < 2 ? std::nan("") : std::sqrt(m2 / (n - 1));
}

// The catalog unit of each variable of --study named in "names" that has one.
std::map<std::string, std::string> CatalogUnits(Store& store, const Options& options,
                                                const std::vector<std::string>& names) {
  std::map<std::string, std::string> units;
  const auto study = options.String("study");
  if (!study) return units;
  for (const std::string& name : names) {
    const QueryResult found = store.Query(
        "SELECT v.unit FROM variable v JOIN study s ON s.study_id = v.study_id "
        "WHERE s.code = ?1 AND v.code = ?2 AND v.unit IS NOT NULL AND v.unit <> ''",
        {*study, name});
    if (!found.rows.empty()) units[name] = std::get<std::string>(found.rows[0][0]);
  }
  return units;
}

bool IsBinary(const Column& c) {
  if (!c.numeric) return true;
  for (double v : c.values) {
    if (!std::isnan(v) && v != 0 && v != 1) return false;
  }
  return true;
}

Fitted FitModel(Frame& frame, const Design& design, const ModelSettings& s, bool per_sd) {
  const Eigen::VectorXd y = BinaryOutcome(frame, s.outcome);
  Fitted out;
  auto per_sd_rows = [&](auto& fit) {
    if (!per_sd || !s.per_sd) return;
    for (std::size_t j = 0; j < design.names.size() && j < fit.terms.size(); ++j) {
      const auto sd = s.overall_sd.find(design.names[j]);
      if (sd == s.overall_sd.end()) continue;
      out.odds_ratios[j] = stats::ToOddsRatio(fit.terms[j], *s.per_sd * sd->second, out.odds_ratios[j].note);
    }
  };
  if (s.random.empty()) {
    const stats::LogisticFit fit = [&] {
      FitTimer timer("glm");
      return stats::FitLogistic(design.x, design.names, y);
    }();
    out.terms = fit.terms;
    out.odds_ratios = stats::OddsRatios(fit);
    per_sd_rows(fit);
    out.log_likelihood = fit.log_likelihood;
    out.rank = static_cast<std::size_t>(fit.rank);
    out.n = static_cast<std::size_t>(fit.n);
    out.messages = fit.messages;
    out.summary["model"] = "logistic (glm, binomial)";
    out.summary["nobs"] = fit.n;
    out.summary["log_likelihood"] = fit.log_likelihood;
    out.summary["deviance"] = fit.deviance;
    out.summary["null_deviance"] = fit.null_deviance;
    out.summary["aic"] = fit.aic;
    out.summary["df_residual"] = fit.df_residual;
    out.summary["iterations"] = fit.convergence.iterations;
    out.summary["converged"] = fit.convergence.converged;
    if (fit.separation.detected) out.summary["separation"] = fit.separation.message;
  } else {
    stats::MixedLogisticOptions options;
    options.quadrature_points = s.agq;
    const std::vector<int> groups = GroupCodes(frame, s.random);
    const stats::MixedLogisticFit fit = [&] {
      FitTimer timer("glmer");
      return stats::FitMixedLogistic(design.x, design.names, y, groups, options);
    }();
    out.terms = fit.terms;
    out.odds_ratios = stats::OddsRatios(fit);
    per_sd_rows(fit);
    out.log_likelihood = fit.log_likelihood;
    out.rank = design.names.size() - fit.aliased.size();
    out.n = static_cast<std::size_t>(fit.n);
    out.messages = fit.messages;
    out.summary["model"] = s.agq > 1
                               ? fmt::format("mixed logistic (adaptive Gauss-Hermite, {} points)", s.agq)
                               : "mixed logistic (Laplace)";
    out.summary["nobs"] = fit.n;
    out.summary["groups"] = fit.groups;
    out.summary["random"] = s.random;
    out.summary["random_intercept_sd"] = fit.site_sd;
    out.summary["log_likelihood"] = fit.log_likelihood;
    out.summary["deviance"] = fit.deviance;
    out.summary["aic"] = fit.aic;
    out.summary["bic"] = fit.bic;
    out.summary["iterations"] = fit.convergence.iterations;
    out.summary["converged"] = fit.convergence.converged;
    if (fit.singular) out.summary["singular"] = fit.singular_message;
    if (fit.separation.detected) out.summary["separation"] = fit.separation.message;
  }
  out.summary["events"] = static_cast<std::int64_t>(std::llround(y.sum()));  // the --by subgroup plot's column
  if (!out.messages.empty()) out.summary["messages"] = out.messages;
  return out;
}

// logistic --formula: glm(binomial) from the formula, or glmer with one random
// intercept term (1 | site). Interaction terms get a test row: the Wald z of
// a one-column term, else the likelihood-ratio test of dropping it.
AnalysisResultSet RunLogisticFormula(Store& store, const AnalysisRequest& request, const Options& options) {
  for (const char* other : {"outcome", "predictors", "by", "random", "per-sd", "per-sd-vars"}) {
    if (options.Has(other)) {
      throw InputError(fmt::format("logistic: --formula replaces --outcome/--predictors/--random and takes no "
                                   "--by or --per-sd (found --{}); write them into the formula",
                                   other));
    }
  }
  if (options.Flag("plot")) throw InputError("logistic: --plot is not available with --formula yet");
  if (options.Has("plot-exposure")) throw InputError("logistic: --plot-exposure is not available with --formula");
  const std::string text = options.RequiredString("formula");
  const Formula formula = ParseFormula(text);
  if (formula.offset) throw InputError(formula.PointAt(formula.offset->position, "logistic: offset() needs glm"));
  ModelSettings s;
  if (!formula.random.empty()) {
    const RandomTerm& r = formula.random.front();
    if (formula.random.size() > 1 || !r.slopes.empty() || !r.intercept || r.grouping.size() != 1) {
      throw InputError(formula.PointAt(r.position, "logistic: the mixed model takes one random intercept, (1 | site)"));
    }
    s.random = r.grouping.front();
  }
  s.agq = static_cast<int>(options.Integer("agq").value_or(1));
  if (s.agq > 1 && s.random.empty()) throw InputError("--agq needs a random intercept (1 | site) in the formula");
  Frame frame = LoadFrame(store, options);
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  formula.CheckVariables([&](const std::string& v) { return frame.Has(v) || ParseThreshold(v).has_value(); }, names);
  if (!formula.response.IsVariable()) {
    throw InputError(formula.PointAt(formula.response.position,
                                     "logistic: the outcome must be a variable (0/1 or two levels), not an expression"));
  }
  s.outcome = formula.response.name;
  Sample sample = CompleteCases(frame, formula.Variables());
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  std::string event;
  BinaryOutcome(sample.frame, s.outcome, &event);
  result.summary["outcome"] = s.outcome;
  result.summary["event"] = event;
  const FormulaDesign design = BuildFormulaDesign(sample.frame, formula, /*numeric_response=*/false);
  const Fitted fit = FitModel(sample.frame, design.fixed, s, false);
  for (const auto& t : fit.terms) {
    ResultRow row = RowFromTerm("coefficients", "", t);
    row.n = static_cast<std::int64_t>(fit.n);
    result.rows.push_back(std::move(row));
  }
  for (const stats::OddsRatio& o : fit.odds_ratios) {
    if (o.term == "(Intercept)") continue;
    ResultRow row;
    row.section = "odds_ratios";
    row.term = o.term;
    row.estimate = o.odds_ratio;
    row.conf_low = o.conf_low;
    row.conf_high = o.conf_high;
    row.p_value = o.p_value;
    row.n = static_cast<std::int64_t>(fit.n);
    row.extra["odds_ratio"] = o.odds_ratio;
    if (!o.note.empty()) row.extra["note"] = o.note;
    result.rows.push_back(std::move(row));
  }
  for (std::size_t t = 0; t < formula.terms.size(); ++t) {
    if (formula.terms[t].factors.size() < 2) continue;
    const auto& columns = design.term_columns[t];
    ResultRow row;
    row.section = "interaction";
    row.term = formula.terms[t].Label();
    row.n = static_cast<std::int64_t>(fit.n);
    if (columns.size() == 1) {
      const auto& c = fit.terms[static_cast<std::size_t>(columns.front())];
      row.estimate = c.estimate;
      row.std_error = c.std_error;
      row.statistic = c.statistic;
      row.p_value = c.p_value;
      row.extra["test"] = "Wald z (1 df)";
    } else {
      try {
        const Fitted small = FitModel(sample.frame, WithoutTerm(design, t), s, false);
        const double lr = 2 * (fit.log_likelihood - small.log_likelihood);
        const double df = static_cast<double>(fit.rank) - static_cast<double>(small.rank);
        row.statistic = lr;
        row.p_value = stats::prob::ChiSquaredUpper(std::max(lr, 0.0), df);
        row.extra["test"] = "likelihood ratio";
        row.extra["df"] = df;
      } catch (const Error& e) {
        row.extra["note"] = e.what();
      }
    }
    result.rows.push_back(std::move(row));
  }
  for (const auto& [k, v] : fit.summary.items()) result.summary[k] = v;
  result.summary["formula"] = text;
  return result;
}

AnalysisResultSet RunLogistic(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  if (options.Has("formula")) return RunLogisticFormula(store, request, options);
  if (!options.Has("outcome") || !options.Has("predictors")) {
    throw InputError("logistic: give --outcome and --predictors, or --formula \"y ~ a * b + c\"");
  }
  Frame frame = LoadFrame(store, options);
  ModelSettings s;
  s.outcome = options.RequiredString("outcome");
  s.predictors = options.List("predictors");
  s.random = options.StringOr("random", "");
  s.agq = static_cast<int>(options.Integer("agq").value_or(1));  // 1 to 25, checked by ValidateRequest
  if (s.agq > 1 && s.random.empty())
    throw InputError("--agq needs --random (adaptive quadrature is for mixed models)");
  s.per_sd = options.Number("per-sd");
  if (s.per_sd && !(*s.per_sd > 0))
    throw InputError(fmt::format("--per-sd: expected a positive number, found {}", *s.per_sd));
  const std::string by = ByOption(options);
  std::vector<std::string> needed = {s.outcome};
  AppendUnique(needed, s.predictors);
  AppendUnique(needed, {s.random, by});
  for (const auto& v : needed) frame.Require(v, v == s.outcome ? "outcome" : "predictors");
  s.per_sd_vars = options.List("per-sd-vars");
  for (const auto& v : s.per_sd_vars) {
    if (std::find(s.predictors.begin(), s.predictors.end(), v) == s.predictors.end()) {
      throw InputError(fmt::format("--per-sd-vars: '{}' is not among the predictors", v));
    }
    if (!frame.Get(v).numeric) {
      throw InputError(fmt::format("--per-sd-vars: '{}' is categorical; odds ratios per SD need a numeric predictor",
                                   v));
    }
  }
  if (!s.per_sd_vars.empty() && !s.per_sd) throw InputError("--per-sd-vars needs --per-sd K");
  if (s.per_sd && s.per_sd_vars.empty()) {
    for (const auto& p : s.predictors) {
      if (!IsBinary(frame.Get(p))) s.per_sd_vars.push_back(p);
    }
  }
  Sample sample = CompleteCases(frame, needed);
  for (const auto& v : s.per_sd_vars) s.overall_sd[v] = SampleSd(sample.frame.Get(v).values);
  const std::map<std::string, std::string> units = s.per_sd ? CatalogUnits(store, options, s.per_sd_vars)
                                                            : std::map<std::string, std::string>{};
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  std::string event;
  BinaryOutcome(sample.frame, s.outcome, &event);
  result.summary["outcome"] = s.outcome;
  result.summary["event"] = event;
  for (Stratum& st : Strata(sample.frame, by, /*consume=*/true)) {  // sample.frame is used below only with --by
    ModelSettings local = s;
    if (!st.label.empty()) local.predictors = WithoutVariable(s.predictors, by);
    Fitted fit;
    try {
      const Design design = BuildDesign(st.frame, local.predictors);
      fit = FitModel(st.frame, design, local, true);
    } catch (const Error& e) {  // a stratum that cannot be fitted, or holding one level of a predictor
      if (st.label.empty()) throw;
      result.summary["strata"][st.label] = {{"error", e.what()}};
      continue;
    }
    for (std::size_t j = 0; j < fit.terms.size(); ++j) {
      ResultRow row = RowFromTerm("coefficients", st.label, fit.terms[j]);
      row.n = static_cast<std::int64_t>(fit.n);
      result.rows.push_back(std::move(row));
    }
    for (const stats::OddsRatio& o : fit.odds_ratios) {
      if (o.term == "(Intercept)") continue;
      ResultRow row;
      row.section = "odds_ratios";
      row.stratum = st.label;
      row.term = o.term;
      row.estimate = o.odds_ratio;
      row.conf_low = o.conf_low;
      row.conf_high = o.conf_high;
      row.p_value = o.p_value;
      row.n = static_cast<std::int64_t>(fit.n);
      row.extra["odds_ratio"] = o.odds_ratio;
      if (s.overall_sd.count(o.term)) {
        row.extra["per_sd"] = *s.per_sd;
        row.extra["units"] = o.units;
        row.extra["sd"] = s.overall_sd.at(o.term);
        row.extra["sd_of"] = "overall analysis sample";
        if (units.count(o.term)) row.extra["unit"] = units.at(o.term);
      }
      if (!o.note.empty()) row.extra["note"] = o.note;
      result.rows.push_back(std::move(row));
    }
    if (st.label.empty()) {
      for (const auto& [k, v] : fit.summary.items()) result.summary[k] = v;
    } else {
      result.summary["strata"][st.label] = fit.summary;
    }
  }
  if (!by.empty()) {
    Frame& all = sample.frame;
    ResultRow row;
    row.section = "interaction";
    row.term = fmt::format("predictors x {}", by);
    try {
      // One design matrix at a time: the interaction model's, then its
      // main-effects columns in the same block.
      InteractionDesign models = WithInteractions(BuildDesign(all, s.predictors), all, by);
      const Fitted large = FitModel(all, models.design, s, false);
      KeepMainEffects(models);
      const Fitted small = FitModel(all, models.design, s, false);
      const double lr = 2 * (large.log_likelihood - small.log_likelihood);
      const double df = static_cast<double>(large.rank) - static_cast<double>(small.rank);
      row.statistic = lr;
      row.p_value = stats::prob::ChiSquaredUpper(std::max(lr, 0.0), df);
      row.n = static_cast<std::int64_t>(large.n);
      row.extra["test"] = "likelihood ratio";
      row.extra["df"] = df;
      row.extra["loglik_main"] = small.log_likelihood;
      row.extra["loglik_interaction"] = large.log_likelihood;
    } catch (const Error& e) {  // e.g. one level of "by" in the rows used
      row.extra["note"] = e.what();
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

// The forest plot of the odds ratios (a subgroup plot under --by), from the
// recorded parameters. --formula takes no --plot.
std::string LogisticPlot(const AnalysisResultSet& result) {
  const AnalysisRequest recorded{result.command, result.parameters};
  const Options options(recorded);
  const std::string random = options.StringOr("random", "");
  const std::string title =
      "Odds ratios for {}" + (random.empty() ? std::string() : " (random intercept: " + random + ")");
  ModelPlotSpec plot{"odds_ratios", title, "Odds ratio (95% CI)", "OR (95% CI)", /*log_scale=*/true};
  plot.events = true;
  return OutcomeModelPlotSvg(result, std::move(plot), options.StringOr("outcome", ""));
}

}  // namespace

AnalysisSpec LogisticAnalysis() {
  return {
      "logistic",
      "Logistic regression (glm) or mixed logistic with a random intercept (glmer), odds ratios",
      "cohortdb logistic demo-output/demo.cohortdb --study cohort --outcome cbp --predictors lmm,intermat,age,sex "
      "--per-sd 2 --per-sd-vars lmm,intermat --random site --plot or.svg",
      {{"outcome", OptionType::kString, "Binary outcome (0/1 or two levels; a threshold like pain_nrs>=4)",
        true, {}, {}, {}, "formula"},
       {"predictors", OptionType::kStringList,
        "Predictors; categorical ones become dummies (first level = reference)", true, {}, {}, {}, "formula"},
       {"formula", OptionType::kString,
        "R formula instead of --outcome/--predictors/--random, e.g. cbp ~ lmm * sex + age + (1 | site)"},
       {"per-sd", OptionType::kNumber,
        "Report odds ratios per K standard deviations (K = 2: per 2-unit z-score)"},
       {"per-sd-vars", OptionType::kStringList,
        "Predictors --per-sd applies to (default: numeric, non-0/1 ones)"},
       {"random", OptionType::kString, "Grouping variable of a random intercept (mixed logistic model)"},
       {"agq", OptionType::kInteger, "Adaptive Gauss-Hermite points for the mixed model (1 = Laplace, default)",
        false, {}, 1, 25},
       PlotExposureOption()},
      RunLogistic,
      {"outcome", "predictors", "random"},
      LogisticPlot};
}

}  // namespace cohortdb::analysis

// regress: linear regression by OLS as R's lm(), with standardised betas
// (--standardize: beta * sd(x) / sd(y) over the rows used, as lm.beta). Under
// --by: the model per stratum (without the by variable) and overall, plus the
// interaction test: the model with every predictor x by product against the
// model with by as a main effect, by the nested F test (R: anova(main, full)).
#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/formula.h"
#include "analysis/formula_design.h"
#include "analysis/model_plots.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/ols.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

nlohmann::ordered_json FitSummary(const stats::OlsFit& fit) {
  nlohmann::ordered_json s;
  s["nobs"] = fit.n;
  s["r_squared"] = fit.r_squared;
  s["adj_r_squared"] = fit.adj_r_squared;
  s["sigma"] = fit.sigma;
  s["f_statistic"] = fit.f_statistic;
  s["f_df1"] = fit.f_df1;
  s["f_df2"] = fit.f_df2;
  s["f_p_value"] = fit.f_p_value;
  s["df_residual"] = fit.df_residual;
  if (!fit.aliased_terms.empty()) s["aliased"] = fit.aliased_terms;
  if (fit.essentially_perfect_fit) {
    s["warning"] = "essentially perfect fit (residual variance near 0, as for a constant outcome): "
                   "the SEs, tests and CIs are unreliable (R's summary.lm warns the same)";
  }
  return s;
}

// regress --formula: lm(formula) with R's term names; every interaction term
// gets the nested F test of dropping it (anova(without, with)).
AnalysisResultSet RunRegressFormula(Store& store, const AnalysisRequest& request, const Options& options) {
  for (const char* other : {"outcome", "predictors", "by"}) {
    if (options.Has(other)) {
      throw InputError(fmt::format("regress: --formula replaces --outcome/--predictors and takes no --by (found --{}); "
                                   "write interactions into the formula",
                                   other));
    }
  }
  if (options.Flag("plot")) throw InputError("regress: --plot is not available with --formula yet");
  if (options.Has("plot-exposure")) throw InputError("regress: --plot-exposure is not available with --formula");
  const std::string text = options.RequiredString("formula");
  const Formula formula = ParseFormula(text);
  if (!formula.random.empty()) {
    throw InputError(formula.PointAt(formula.random.front().position,
                                     "regress: random-effect terms need a mixed model: use lmm"));
  }
  if (formula.offset) throw InputError(formula.PointAt(formula.offset->position, "regress: offset() needs glm"));
  Frame frame = LoadFrame(store, options);
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  formula.CheckVariables([&](const std::string& v) { return frame.Has(v) || ParseThreshold(v).has_value(); }, names);
  Sample sample = CompleteCases(frame, formula.Variables());
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  if (sample.used < 2) throw NumericalError(fmt::format("regress: {} complete rows, at least 2 needed", sample.used));
  const FormulaDesign design = BuildFormulaDesign(sample.frame, formula);
  const stats::OlsFit fit = stats::FitOls(design.fixed.x, design.response, design.fixed.names);
  const bool standardize = options.Flag("standardize");
  for (std::size_t j = 0; j < fit.terms.size(); ++j) {
    ResultRow row = RowFromTerm("coefficients", "", fit.terms[j]);
    row.n = static_cast<std::int64_t>(fit.n);
    if (standardize) row.extra["std_beta"] = fit.standardised_beta[j];
    if (fit.aliased[j]) row.extra["note"] = "aliased (a linear combination of earlier terms)";
    result.rows.push_back(std::move(row));
  }
  for (std::size_t t = 0; t < formula.terms.size(); ++t) {
    if (formula.terms[t].factors.size() < 2) continue;
    ResultRow row;
    row.section = "interaction";
    row.term = formula.terms[t].Label();
    try {
      const Design small = WithoutTerm(design, t);
      const auto f = stats::CompareNestedOls(stats::FitOls(small.x, design.response, small.names), fit);
      row.statistic = f.statistic;
      row.p_value = f.p_value;
      row.n = static_cast<std::int64_t>(fit.n);
      row.extra["test"] = "nested F";
      row.extra["df"] = f.df;
      row.extra["df_residual"] = f.df_residual;
    } catch (const Error& e) {  // e.g. an aliased interaction: nothing to drop
      row.extra["note"] = e.what();
    }
    result.rows.push_back(std::move(row));
  }
  const auto fit_summary = FitSummary(fit);
  for (const auto& [k, v] : fit_summary.items()) result.summary[k] = v;
  result.summary["formula"] = text;
  return result;
}

AnalysisResultSet RunRegress(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  if (options.Has("formula")) return RunRegressFormula(store, request, options);
  if (!options.Has("outcome") || !options.Has("predictors")) {
    throw InputError("regress: give --outcome and --predictors, or --formula \"y ~ a * b + c\"");
  }
  Frame frame = LoadFrame(store, options);
  const std::string outcome = options.RequiredString("outcome");
  const auto predictors = options.List("predictors");
  const bool standardize = options.Flag("standardize");
  const std::string by = ByOption(options);
  std::vector<std::string> needed = {outcome};
  AppendUnique(needed, predictors);
  AppendUnique(needed, {by});
  for (const auto& v : needed) frame.Require(v, v == outcome ? "outcome" : "predictors");
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  if (sample.used < 2)
    throw NumericalError(fmt::format("regress: {} complete rows, at least 2 needed", sample.used));
  for (Stratum& s : Strata(sample.frame, by, /*consume=*/true)) {  // sample.frame is used below only with --by
    const auto preds = s.label.empty() ? predictors : WithoutVariable(predictors, by);
    const Eigen::VectorXd y = NumericVector(s.frame, outcome, "outcome");
    stats::OlsFit fit;
    try {
      const Design design = BuildDesign(s.frame, preds);
      fit = stats::FitOls(design.x, y, design.names);
    } catch (const Error& e) {
      if (s.label.empty()) throw;
      // a stratum too small to fit, or holding one level of a predictor
      result.summary["strata"][s.label] = {{"error", e.what()}};
      continue;
    }
    for (std::size_t j = 0; j < fit.terms.size(); ++j) {
      ResultRow row = RowFromTerm("coefficients", s.label, fit.terms[j]);
      row.n = static_cast<std::int64_t>(fit.n);
      if (standardize) row.extra["std_beta"] = fit.standardised_beta[j];
      if (fit.aliased[j]) row.extra["note"] = "aliased (a linear combination of earlier terms)";
      result.rows.push_back(std::move(row));
    }
    if (s.label.empty()) {
      const auto fit_summary = FitSummary(fit);  // a named value: items() of a temporary dangles
      for (const auto& [k, v] : fit_summary.items()) result.summary[k] = v;
    } else {
      result.summary["strata"][s.label] = FitSummary(fit);
    }
  }
  if (!by.empty()) {
    Frame& all = sample.frame;
    const Eigen::VectorXd y = NumericVector(all, outcome, "outcome");
    ResultRow row;
    row.section = "interaction";
    row.term = fmt::format("predictors x {}", by);
    try {
      // One design matrix at a time: the interaction model's, then its
      // main-effects columns in the same block.
      InteractionDesign models = WithInteractions(BuildDesign(all, predictors), all, by);
      const auto large = stats::FitOls(models.design.x, y, models.design.names);
      KeepMainEffects(models);
      const auto small = stats::FitOls(models.design.x, y, models.design.names);
      const auto f = stats::CompareNestedOls(small, large);
      row.statistic = f.statistic;
      row.p_value = f.p_value;
      row.n = static_cast<std::int64_t>(large.n);
      row.extra["test"] = "nested F";
      row.extra["df"] = f.df;
      row.extra["df_residual"] = f.df_residual;
      row.extra["rss_main"] = f.rss_small;
      row.extra["rss_interaction"] = f.rss_large;
    } catch (const Error& e) {  // e.g. one level of "by" in the rows used
      row.extra["note"] = e.what();
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

// The forest plot of the coefficients (standardised betas under
// --standardize), from the recorded parameters.
std::string RegressPlot(const AnalysisResultSet& result) {
  const AnalysisRequest recorded{result.command, result.parameters};
  const Options options(recorded);
  const bool standardize = options.Flag("standardize");
  ModelPlotSpec plot{"coefficients", "Linear regression of {}",
                     standardize ? "Standardised beta (95% CI)" : "Coefficient (95% CI)",
                     standardize ? "Std. beta (95% CI)" : "Beta (95% CI)"};
  plot.standardized = standardize;
  return OutcomeModelPlotSvg(result, std::move(plot), options.StringOr("outcome", ""));
}

}  // namespace

AnalysisSpec RegressAnalysis() {
  return {"regress",
          "Linear regression (OLS) with optional standardised betas",
          "cohortdb regress demo-output/demo.cohortdb --study trial --derive \"pain_change=change(pain_nrs, baseline, week12)\" "
          "--derive \"il6_change=change(il6, baseline, week12)\" --outcome pain_change --predictors arm,il6_change "
          "--standardize",
          {{"outcome", OptionType::kString, "Continuous outcome", true, {}, {}, {}, "formula"},
           {"predictors", OptionType::kStringList,
            "Predictors; categorical ones become dummies (first level = reference)", true, {}, {}, {}, "formula"},
           {"formula", OptionType::kString,
            "R formula instead of --outcome/--predictors, e.g. pain_change ~ arm * il6_change + age"},
           {"standardize", OptionType::kFlag, "Add standardised betas (beta * sd(x) / sd(y))"},
           PlotExposureOption()},
          RunRegress,
          {"outcome", "predictors"},
          RegressPlot};
}

}  // namespace cohortdb::analysis

// glm --family poisson: Poisson regression with a log link as R's
// glm(family = poisson): rate ratios (an offset(log(person_years)) in the
// formula) or, for a 0/1 outcome with --se robust, risk (prevalence) ratios
// by the "modified Poisson" approach. --se model | robust (sandwich HC0) |
// cluster (sandwich::vcovCL by --cluster VAR). Model from --formula or from
// --outcome/--predictors.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/formula.h"
#include "analysis/formula_design.h"
#include "analysis/model_plots.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/poisson.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

std::vector<int> ClusterCodes(const Column& c) {
  std::unordered_map<std::string, int> codes;
  std::vector<int> out;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const std::string key = c.numeric ? fmt::format("{}", c.values[i]) : (c.Label(i) ? *c.Label(i) : std::string());
    out.push_back(codes.emplace(key, static_cast<int>(codes.size())).first->second);
  }
  return out;
}

AnalysisResultSet RunGlm(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  if (options.Has("by")) {
    throw InputError("glm: --by is not supported; put the interaction with the variable into the formula");
  }
  const std::string family = options.StringOr("family", "poisson");
  const std::string se = options.StringOr("se", "model");
  const std::string cluster = options.StringOr("cluster", "");
  if (se == "cluster" && cluster.empty()) throw InputError("glm: --se cluster needs --cluster VAR");
  if (!cluster.empty() && se != "cluster") {
    throw InputError(fmt::format("glm: --cluster {} is only used with --se cluster (found --se {})", cluster, se));
  }
  // The model: --formula, or --outcome with --predictors (main effects).
  std::string text;
  if (const auto f = options.String("formula")) {
    if (options.Has("outcome") || options.Has("predictors")) {
      throw InputError("glm: give either --formula or --outcome/--predictors, not both");
    }
    text = *f;
  } else {
    if (!options.Has("outcome") || !options.Has("predictors")) {
      throw InputError("glm: give --formula \"y ~ x1 + x2\" or --outcome and --predictors");
    }
    text = "`" + options.RequiredString("outcome") + "` ~ ";
    const auto predictors = options.List("predictors");
    for (std::size_t i = 0; i < predictors.size(); ++i) text += (i > 0 ? " + `" : "`") + predictors[i] + "`";
  }
  const Formula formula = ParseFormula(text);
  if (!formula.random.empty()) {
    throw InputError(formula.PointAt(formula.random.front().position,
                                     "glm: random-effect terms are not supported; for clustered data use "
                                     "--se cluster --cluster VAR"));
  }
  Frame frame = LoadFrame(store, options);
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  formula.CheckVariables([&](const std::string& v) { return frame.Has(v) || ParseThreshold(v).has_value(); },
                         names);
  std::vector<std::string> needed = formula.Variables();
  if (!cluster.empty()) {
    frame.Require(cluster, "cluster");
    AppendUnique(needed, {cluster});
  }
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  if (sample.used < 2) throw NumericalError(fmt::format("glm: {} complete rows, at least 2 needed", sample.used));
  const FormulaDesign design = BuildFormulaDesign(sample.frame, formula);
  stats::PoissonOptions o;
  o.covariance = se == "robust"    ? stats::PoissonCovariance::kRobust
                 : se == "cluster" ? stats::PoissonCovariance::kCluster
                                   : stats::PoissonCovariance::kModel;
  const std::vector<int> codes = cluster.empty() ? std::vector<int>{} : ClusterCodes(sample.frame.Get(cluster));
  const stats::PoissonFit fit =
      stats::FitPoisson(design.fixed.x, design.fixed.names, design.response, design.offset, codes, o);
  for (const auto& t : fit.terms) {
    ResultRow row = RowFromTerm("coefficients", "", t);
    row.n = fit.n;
    result.rows.push_back(std::move(row));
  }
  const bool risk = fit.binary_outcome && !formula.offset;
  const std::string ratio = risk ? "risk_ratio" : "rate_ratio";
  for (const stats::OddsRatio& r : stats::RateRatios(fit)) {
    if (r.term == "(Intercept)") continue;
    ResultRow row;
    row.section = risk ? "risk_ratios" : "rate_ratios";
    row.term = r.term;
    row.estimate = r.odds_ratio;
    row.conf_low = r.conf_low;
    row.conf_high = r.conf_high;
    row.p_value = r.p_value;
    row.n = fit.n;
    row.extra[ratio] = r.odds_ratio;
    if (!r.note.empty()) row.extra["note"] = r.note;
    result.rows.push_back(std::move(row));
  }
  for (std::size_t t = 0; t < formula.terms.size(); ++t) {
    if (formula.terms[t].factors.size() < 2 || design.term_columns[t].size() != 1) continue;
    const auto& c = fit.terms[static_cast<std::size_t>(design.term_columns[t].front())];
    ResultRow row = RowFromTerm("interaction", "", c);
    row.term = formula.terms[t].Label();
    row.n = fit.n;
    row.extra["test"] = "Wald z (1 df)";
    result.rows.push_back(std::move(row));
  }
  result.summary["model"] = fmt::format("Poisson regression, log link (glm, {})", family);
  result.summary["formula"] = text;
  result.summary["standard_errors"] =
      se == "robust"    ? "robust sandwich HC0 (sandwich::vcovHC type HC0)"
      : se == "cluster" ? fmt::format("cluster-robust by {} (sandwich::vcovCL, HC0, G/(G-1))", cluster)
                        : "model-based";
  if (se == "cluster") result.summary["clusters"] = fit.clusters;
  result.summary["nobs"] = fit.n;
  result.summary["log_likelihood"] = fit.log_likelihood;
  result.summary["deviance"] = fit.deviance;
  result.summary["null_deviance"] = fit.null_deviance;
  result.summary["aic"] = fit.aic;
  result.summary["df_residual"] = fit.df_residual;
  result.summary["iterations"] = fit.convergence.iterations;
  result.summary["converged"] = fit.convergence.converged;
  if (fit.binary_outcome && se == "model") {
    result.summary["note"] = "a 0/1 outcome with model-based Poisson SEs overstates their size; use --se robust "
                             "(modified Poisson) for risk ratios";
  }
  if (!fit.messages.empty()) result.summary["messages"] = fit.messages;
  return result;
}

// The forest plot of the risk ratios (rows of section risk_ratios: a 0/1
// outcome without offset) or else the rate ratios, titled by the response of
// the model's formula (summary "formula", also for --outcome/--predictors).
std::string GlmPlot(const AnalysisResultSet& result) {
  const bool risk = std::any_of(result.rows.begin(), result.rows.end(),
                                [](const ResultRow& row) { return row.section == "risk_ratios"; });
  const auto text = result.summary.find("formula");
  if (text == result.summary.end() || !text->is_string()) {
    throw InputError("glm: the result holds no model formula (summary \"formula\") to title the plot with");
  }
  const Formula formula = ParseFormula(text->get<std::string>());
  ModelPlotSpec plot{risk ? "risk_ratios" : "rate_ratios",
                     std::string(risk ? "Risk ratios" : "Rate ratios") + " for {}",
                     risk ? "Risk ratio (95% CI)" : "Rate ratio (95% CI)", risk ? "RR (95% CI)" : "IRR (95% CI)",
                     /*log_scale=*/true};
  return OutcomeModelPlotSvg(result, std::move(plot), formula.response.Label());
}

}  // namespace

AnalysisSpec GlmAnalysis() {
  return {"glm",
          "Poisson regression (glm, log link): rate ratios, or risk ratios with robust SEs",
          "cohortdb glm demo-output/demo.cohortdb --study cohort --formula \"cbp ~ sex + age\" --se robust",
          {{"formula", OptionType::kString, "R formula, e.g. events ~ smoker + age + offset(log(person_years))"},
           {"outcome", OptionType::kString, "Count or 0/1 outcome (instead of --formula)"},
           {"predictors", OptionType::kStringList, "Predictors (with --outcome)"},
           {"family", OptionType::kString, "Error distribution: poisson (binomial models: use logistic)", false,
            {"poisson"}},
           {"se", OptionType::kString, "Standard errors: model | robust (HC0) | cluster (with --cluster)", false,
            {"model", "robust", "cluster"}},
           {"cluster", OptionType::kString, "Cluster variable for --se cluster (sandwich::vcovCL)"}},
          RunGlm,
          {"outcome", "predictors"},
          GlmPlot};
}

}  // namespace cohortdb::analysis

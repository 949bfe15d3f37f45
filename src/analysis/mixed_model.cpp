// lmm: linear mixed model as lme4::lmer with lmerTest's Satterthwaite df, from
// an R-style formula: random intercepts and correlated random slopes of one
// grouping factor (stats::FitLmm), or of several random-effect terms, nested
// (1 | site/participant) or crossed (1 | participant) + (1 | rater)
// (stats::FitLmmTerms); REML (default) or ML (--ml). --compare FORMULA
// adds the likelihood-ratio test of a nested model (both refitted by ML, as
// anova()). Interaction terms of the formula get their own test row.
#include <cmath>

#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/formula.h"
#include "analysis/formula_design.h"
#include "analysis/model_plots.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/lmm.h"
#include "stats/lmm_sparse.h"
#include "stats/probability.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

struct MixedModel {
  Formula formula;
  FormulaDesign design;
  stats::LmmFit fit;
  std::vector<stats::GroupingLevels> groupings;  // lme4's order, as ngrps()
};

// One random-effect term: the existing one-factor FitLmm; several (nested or
// crossed groupings): the sparse FitLmmTerms.
stats::LmmFit FitDesign(const Eigen::MatrixXd& x, const std::vector<std::string>& names, const Eigen::VectorXd& y,
                        const std::vector<RandomDesign>& random, const stats::LmmOptions& options,
                        std::vector<stats::GroupingLevels>* groupings = nullptr) {
  if (random.size() == 1) {
    const RandomDesign& r = random.front();
    stats::LmmFit fit = stats::FitLmm(x, names, y, r.z, r.names, r.group, r.group_label, options);
    if (groupings != nullptr) *groupings = {{r.group_label, fit.groups}};
    return fit;
  }
  std::vector<stats::RandomEffectTerm> terms;
  for (const RandomDesign& r : random) terms.push_back({r.z, r.names, r.group, r.group_label});
  stats::MultiLmmFit fit = stats::FitLmmTerms(x, names, y, terms, options);
  if (groupings != nullptr) *groupings = fit.groupings;
  return fit;
}

// Fits `text` on `frame`; with `release_frame` the frame is emptied once the
// design is built (it holds as much again as the design).
MixedModel FitFormula(Frame& frame, const std::string& text, const std::string& option, bool reml,
                      bool satterthwaite, bool release_frame = false) {
  MixedModel m{ParseFormula(text), {}, {}, {}};
  if (m.formula.random.empty()) {
    throw InputError(m.formula.PointAt(m.formula.text.size(),
                                       fmt::format("--{}: a linear mixed model needs a random-effect term such as "
                                                   "(1 | participant); for a model without one use regress",
                                                   option)));
  }
  if (m.formula.offset) {
    throw InputError(m.formula.PointAt(m.formula.offset->position, "lmm: offset() does not apply to a linear model"));
  }
  m.design = BuildFormulaDesign(frame, m.formula);
  if (release_frame) frame = Frame();
  for (std::size_t t = 0; t < m.design.random.size(); ++t) {
    const RandomDesign& r = m.design.random[t];
    if (r.groups < 2) {
      throw InputError(m.formula.PointAt(
          m.formula.random[t].position,
          fmt::format("the grouping factor '{}' of the random-effect term ({}) has {} level in the rows "
                      "used; a random effect needs at least 2 groups (lme4: grouping factors must have > 1 "
                      "sampled level)",
                      r.group_label, m.formula.random[t].Label(), r.groups)));
    }
  }
  stats::LmmOptions o;
  o.reml = reml;
  o.satterthwaite = satterthwaite;
  m.fit = FitDesign(m.design.fixed.x, m.design.fixed.names, m.design.response, m.design.random, o, &m.groupings);
  return m;
}

AnalysisResultSet RunLmm(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  if (options.Has("by")) {
    throw InputError("lmm: --by is not supported; put the interaction with the variable into the formula "
                     "(e.g. arm * sex) and read its test row");
  }
  Frame frame = LoadFrame(store, options);
  const std::string text = options.RequiredString("formula");
  const bool ml = options.Flag("ml");
  const Formula parsed = ParseFormula(text);
  const auto is_known = [&](const std::string& v) { return frame.Has(v); };
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  parsed.CheckVariables(is_known, names);
  std::vector<std::string> needed = parsed.Variables();
  std::optional<Formula> compare;
  if (const auto other = options.String("compare")) {
    compare = ParseFormula(*other);
    compare->CheckVariables(is_known, names);
    AppendUnique(needed, compare->Variables());
  }
  Sample sample = CompleteCases(frame, needed);
  frame = Frame();  // the complete cases are a copy: free the frame before the design is built
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  if (sample.used < 3) throw NumericalError(fmt::format("lmm: {} complete rows, at least 3 needed", sample.used));

  // Without --compare the rows are not read again after the design is built.
  const MixedModel model = FitFormula(sample.frame, text, "formula", !ml, true, !compare.has_value());
  const stats::LmmFit& fit = model.fit;
  for (std::size_t j = 0; j < fit.terms.size(); ++j) {
    ResultRow row = RowFromTerm("coefficients", "", fit.terms[j]);
    row.n = fit.n;
    row.extra["df"] = fit.df[j];
    result.rows.push_back(std::move(row));
  }
  for (const stats::VarianceComponent& c : fit.components) {
    ResultRow row;
    row.section = "random";
    row.term = c.group == "Residual" ? "Residual"
               : c.var2.empty()      ? fmt::format("sd({}) | {}", c.var1, c.group)
                                     : fmt::format("cor({}, {}) | {}", c.var1, c.var2, c.group);
    row.estimate = c.sdcor;
    row.extra["group"] = c.group;
    if (c.group != "Residual") row.extra["effect"] = c.var1;
    if (!c.var2.empty()) row.extra["effect2"] = c.var2;
    row.extra["variance"] = c.variance;
    result.rows.push_back(std::move(row));
  }
  // The test of each interaction term: its t test when it has one column
  // (1 df), else the likelihood-ratio test of dropping it (ML refits).
  for (std::size_t t = 0; t < model.formula.terms.size(); ++t) {
    if (model.formula.terms[t].factors.size() < 2) continue;
    const auto& columns = model.design.term_columns[t];
    ResultRow row;
    row.section = "interaction";
    row.term = model.formula.terms[t].Label();
    row.n = fit.n;
    if (columns.size() == 1) {
      const auto j = static_cast<std::size_t>(columns.front());
      row.estimate = fit.terms[j].estimate;
      row.std_error = fit.terms[j].std_error;
      row.statistic = fit.terms[j].statistic;
      row.p_value = fit.terms[j].p_value;
      row.extra["test"] = "t (Satterthwaite)";
      row.extra["df"] = fit.df[j];
    } else {
      const Design small = WithoutTerm(model.design, t);
      stats::LmmOptions o;
      o.reml = false;
      o.satterthwaite = false;
      const auto large_fit =
          FitDesign(model.design.fixed.x, model.design.fixed.names, model.design.response, model.design.random, o);
      const auto small_fit = FitDesign(small.x, small.names, model.design.response, model.design.random, o);
      const auto lrt = stats::CompareNestedLmm(small_fit, large_fit);
      row.statistic = lrt.statistic;
      row.p_value = lrt.p_value;
      row.extra["test"] = "likelihood ratio (ML)";
      row.extra["df"] = lrt.df;
    }
    result.rows.push_back(std::move(row));
  }
  if (compare) {
    const MixedModel small = FitFormula(sample.frame, *options.String("compare"), "compare", false, false);
    const MixedModel large = ml ? model : FitFormula(sample.frame, text, "formula", false, false);
    const bool small_first = small.fit.parameters < large.fit.parameters;
    const auto lrt = stats::CompareNestedLmm(small_first ? small.fit : large.fit, small_first ? large.fit : small.fit);
    ResultRow row;
    row.section = "model_comparison";
    row.term = fmt::format("{} vs {}", small_first ? small.formula.text : text, small_first ? text : small.formula.text);
    row.statistic = lrt.statistic;
    row.p_value = lrt.p_value;
    row.n = fit.n;
    row.extra["test"] = "likelihood ratio (both models refitted by ML, as anova())";
    row.extra["df"] = lrt.df;
    row.extra["loglik_small"] = lrt.log_likelihood_small;
    row.extra["loglik_large"] = lrt.log_likelihood_large;
    result.rows.push_back(std::move(row));
  }
  result.summary["model"] = fmt::format("linear mixed model ({}; lme4::lmer, lmerTest Satterthwaite df)",
                                        fit.reml ? "REML" : "ML");
  result.summary["formula"] = text;
  result.summary["nobs"] = fit.n;
  for (const stats::GroupingLevels& g : model.groupings) result.summary["groups"][g.group] = g.levels;
  result.summary[fit.reml ? "reml_criterion" : "deviance"] = fit.criterion;
  result.summary["log_likelihood"] = fit.log_likelihood;
  result.summary["aic"] = fit.aic;
  result.summary["bic"] = fit.bic;
  result.summary["sigma"] = fit.sigma;
  result.summary["theta"] = fit.theta;
  result.summary["iterations"] = fit.convergence.iterations;
  result.summary["converged"] = fit.convergence.converged;
  result.summary["singular"] = fit.singular;
  if (!fit.messages.empty()) result.summary["messages"] = fit.messages;
  return result;
}

// The forest plot of the fixed effects, titled by the formula's response.
std::string LmmPlot(const AnalysisResultSet& result) {
  const AnalysisRequest recorded{result.command, result.parameters};
  const Formula formula = ParseFormula(Options(recorded).RequiredString("formula"));
  return OutcomeModelPlotSvg(
      result, {"coefficients", "Linear mixed model of {}", "Coefficient (95% CI)", "Beta (95% CI)"},
      formula.response.Label());
}

}  // namespace

AnalysisSpec LmmAnalysis() {
  return {"lmm",
          "Linear mixed model (lmer) with Satterthwaite df (lmerTest), from a formula",
          "cohortdb lmm demo-output/demo.cohortdb --study trial --frame wide_trial_visit "
          "--formula \"pain_nrs ~ arm * visit + (1 | participant_id)\"",
          {{"formula", OptionType::kString,
            "R formula with random-effect terms, e.g. y ~ arm * visit + (1 + day | participant) or "
            "y ~ arm + (1 | site/participant)", true},
           {"ml", OptionType::kFlag, "Fit by maximum likelihood instead of REML (lmer REML = FALSE)"},
           {"compare", OptionType::kString,
            "A nested formula: likelihood-ratio test against it (both refitted by ML, as anova())"}},
          RunLmm,
          {},
          LmmPlot};
}

}  // namespace cohortdb::analysis

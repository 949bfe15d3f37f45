#pragma once
// The forest plots of the analyses, built from their finished result sets:
// the model analyses (regress, logistic, glm, lmm) and meta. Each analysis
// only calls these; what a row shows comes from the result rows and their
// label contract (src/common/result.h): "label" (empty: the term), and in
// extra "variable", "var_label", "var_type", "reference_row". A result
// without those keys gets one row per term.

#include <functional>
#include <string>

#include "analysis/analysis.h"
#include "analysis/forest_plot.h"
#include "common/result.h"

namespace cohortdb::analysis {

// What a model analysis plots.
struct ModelPlotSpec {
  std::string section;          // rows plotted: "odds_ratios", "coefficients", "risk_ratios", ...
  std::string title;            // "Odds ratios for cbp"
  std::string x_label;          // "Odds ratio (95% CI)"
  std::string estimate_header;  // "OR (95% CI)"
  bool log_scale = false;       // ratios: log axis, reference 1; else reference 0
  bool standardized = false;    // regress --standardize: the rows' extra std_beta, CI scaled alike
  bool events = false;          // --by: an events column from summary "events" (logistic)
};

// The plot of a model result. Rows of spec.section in the overall stratum
// (intercepts left out), grouped by variable: a categorical variable is a
// bold heading (its var_label) with its levels beneath, the reference level
// reading "Reference"; any other variable one row (its label, with the
// per-SD unit when it has per_sd). Rows that are not estimable or are
// suppressed show why. Under --by (parameters "by"): the subgroup plot
// instead -- the exposure's rows (parameters "plot-exposure", else the first
// of "predictors") overall and per stratum, with n, events (spec.events) and
// the interaction test's p (section "interaction"). Throws InputError when
// the exposure is the --by variable or not a predictor.
ForestPlot ModelForestPlot(const AnalysisResultSet& result, const ModelPlotSpec& spec);

// The SVG of ModelForestPlot when the request asked for a plot
// (parameters "plot" true), else "". Throws InputError for --plot-exposure
// without --plot and --by.
std::string ModelPlotSvg(const AnalysisResultSet& result, const ModelPlotSpec& spec);

// ModelPlotSvg of the labelled result (an AnalysisSpec::plot). spec.title
// holds "{}" where the outcome goes: its label (diagnostics "outcome_label")
// when the result has one, else "outcome".
std::string OutcomeModelPlotSvg(const AnalysisResultSet& result, ModelPlotSpec spec,
                                const std::string& outcome);

// The plot of a meta result (summary "measure", "method"): one row per
// study ("Smith 2019": its label and year) with its weight (%), the pooled
// diamond, the prediction interval, the heterogeneity and overall-effect
// lines and "favours" labels under the axis (parameters "favours": two
// items, left and right of the line of no effect; default treatment,
// control). Under --by: the studies of each subgroup under its heading with
// a subtotal diamond (weights within the subgroup), then the overall
// diamond and the test for subgroup differences.
ForestPlot MetaForestPlot(const AnalysisResultSet& result);

// The SVG of MetaForestPlot when the request asked for a plot, else "".
// Throws InputError for --favours without --plot, or not two labels.
std::string MetaPlotSvg(const AnalysisResultSet& result);

// The options these plots add: --plot-exposure (regress, logistic) and
// --favours (meta).
OptionSpec PlotExposureOption();
OptionSpec FavoursOption();

}  // namespace cohortdb::analysis

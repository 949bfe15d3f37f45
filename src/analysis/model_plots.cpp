#include "analysis/model_plots.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analysis/report.h"
#include "common/error.h"

namespace cohortdb::analysis {
namespace {

std::string ExtraString(const ResultRow& row, const char* key) {
  if (!row.extra.is_object() || !row.extra.contains(key) || !row.extra[key].is_string()) return {};
  return row.extra[key].get<std::string>();
}

bool ExtraTrue(const ResultRow& row, const char* key) {
  return row.extra.is_object() && row.extra.contains(key) && row.extra[key].is_boolean() &&
         row.extra[key].get<bool>();
}

std::string Parameter(const nlohmann::ordered_json& parameters, const char* key) {
  if (!parameters.is_object() || !parameters.contains(key) || !parameters[key].is_string()) return {};
  return parameters[key].get<std::string>();
}

// A list parameter: a JSON array, or one comma-separated text.
std::vector<std::string> ParameterList(const nlohmann::ordered_json& parameters, const char* key) {
  std::vector<std::string> out;
  if (!parameters.is_object() || !parameters.contains(key)) return out;
  const auto& v = parameters[key];
  auto add = [&](const std::string& text) {
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string item = text.substr(start, comma - start);
      const auto first = item.find_first_not_of(' ');
      const auto last = item.find_last_not_of(' ');
      out.push_back(first == std::string::npos ? std::string() : item.substr(first, last - first + 1));
      start = comma + 1;
    }
  };
  if (v.is_string()) add(v.get<std::string>());
  if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_string()) add(item.get<std::string>());
    }
  }
  return out;
}

bool PlotAsked(const AnalysisResultSet& result) {
  return result.parameters.is_object() && result.parameters.contains("plot") && result.parameters["plot"] == true;
}

bool IsIntercept(const ResultRow& row) {
  return row.term == "(Intercept)" || ExtraString(row, "var_type") == "intercept";
}

// What a person reads for a row: its label, else its term.
std::string RowText(const ResultRow& row) { return row.label.empty() ? row.term : row.label; }

// "p = 0.12", "p < 0.001".
std::string PEquals(double p) {
  const std::string s = FormatPValue(p);
  return s[0] == '<' ? "p < " + s.substr(1) : "p = " + s;
}

// The numbers of a model row; standardised betas scale the CI of beta.
ForestRow NumbersOf(const ResultRow& r, const ModelPlotSpec& spec) {
  ForestRow f;
  f.estimate = r.estimate;
  f.low = r.conf_low;
  f.high = r.conf_high;
  f.p_value = r.p_value;
  if (spec.standardized && r.extra.contains("std_beta") && r.extra["std_beta"].is_number()) {
    const double beta = r.extra["std_beta"].get<double>();
    const double factor = beta / r.estimate;
    f.estimate = beta;
    f.low = r.conf_low * factor;
    f.high = r.conf_high * factor;
    if (f.low > f.high) std::swap(f.low, f.high);
  }
  if (ExtraTrue(r, "reference_row")) {
    f.reference = true;
    f.p_value = std::nan("");
  } else if (ExtraTrue(r, "suppressed")) {
    f.estimate = std::nan("");
    f.note = "suppressed (--min-cell)";
  } else if (!ExtraString(r, "note").empty()) {
    f.note = "not estimable: " + ExtraString(r, "note");
    if (!std::isfinite(f.estimate)) f.p_value = std::nan("");
  }
  if (!f.reference && !std::isfinite(f.estimate) && f.note.empty()) f.note = "not estimable";
  return f;
}

// The label of a variable shown as one row: the row's label (the level's
// after the variable's for a one-row categorical variable), with the per-SD
// unit when the estimate is per K SD.
std::string SingleRowLabel(const ResultRow& r) {
  std::string text = RowText(r);
  const std::string type = ExtraString(r, "var_type");
  const std::string var_label = ExtraString(r, "var_label");
  if ((type == "categorical" || type == "dichotomous") && !var_label.empty() && var_label != text) {
    text = var_label + ": " + text;
  }
  const std::string per_sd = PerSdLabel(r);
  if (!per_sd.empty() && text.find(per_sd.substr(1)) == std::string::npos) text += per_sd;
  return text;
}

// The rows of "rows" as plot rows, grouped by variable.
void AddGrouped(const std::vector<const ResultRow*>& rows, const ModelPlotSpec& spec, int indent, ForestPlot& plot) {
  for (std::size_t i = 0; i < rows.size();) {
    const std::string variable = ExtraString(*rows[i], "variable");
    std::size_t j = i + 1;
    if (!variable.empty()) {
      while (j < rows.size() && ExtraString(*rows[j], "variable") == variable) ++j;
    }
    const std::string type = ExtraString(*rows[i], "var_type");
    bool has_reference = false;
    for (std::size_t k = i; k < j; ++k) has_reference = has_reference || ExtraTrue(*rows[k], "reference_row");
    const bool heading =
        !variable.empty() && type != "continuous" && type != "interaction" && (j - i > 1 || has_reference);
    if (heading) {
      ForestRow h;
      h.header = true;
      h.indent = indent;
      const std::string var_label = ExtraString(*rows[i], "var_label");
      h.label = var_label.empty() ? variable : var_label;
      plot.rows.push_back(std::move(h));
    }
    for (std::size_t k = i; k < j; ++k) {
      ForestRow f = NumbersOf(*rows[k], spec);
      f.label = heading ? RowText(*rows[k]) : SingleRowLabel(*rows[k]);
      f.indent = indent + (heading ? 1 : 0);
      plot.rows.push_back(std::move(f));
    }
    i = j;
  }
}

// The row belongs to the predictor "exposure": by its "variable", else by
// its term (the exposure's name, or its name followed by a level unless a
// longer predictor's name matches the term too).
bool BelongsTo(const ResultRow& row, const std::string& exposure, const std::vector<std::string>& predictors) {
  const std::string variable = ExtraString(row, "variable");
  if (!variable.empty()) return variable == exposure;
  if (row.term == exposure) return true;
  if (row.term.rfind(exposure, 0) != 0) return false;
  for (const std::string& p : predictors) {
    if (p.size() > exposure.size() && row.term.rfind(p, 0) == 0) return false;
  }
  return true;
}

std::string CountCell(std::optional<std::int64_t> count, const AnalysisResultSet& result) {
  if (!count) return {};
  if (result.min_cell && *count > 0 && *count < *result.min_cell) return fmt::format("<{}", *result.min_cell);
  return fmt::format("{}", *count);
}

std::optional<std::int64_t> SummaryCount(const nlohmann::ordered_json& summary, const char* key) {
  if (!summary.is_object() || !summary.contains(key) || !summary[key].is_number()) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(summary[key].get<double>()));
}

void SubgroupPlot(const AnalysisResultSet& result, const ModelPlotSpec& spec, const std::string& by,
                  ForestPlot& plot) {
  const std::vector<std::string> predictors = ParameterList(result.parameters, "predictors");
  std::string exposure = Parameter(result.parameters, "plot-exposure");
  if (exposure.empty() && !predictors.empty()) exposure = predictors.front();
  if (exposure == by) {
    throw InputError(fmt::format("--plot-exposure: '{}' is the --by variable; the subgroup plot shows another "
                                 "predictor's estimate in each level of it",
                                 by));
  }
  if (std::find(predictors.begin(), predictors.end(), exposure) == predictors.end()) {
    throw InputError(fmt::format("--plot-exposure: '{}' is not among the predictors ({})", exposure,
                                 fmt::join(predictors, ", ")));
  }
  // strata in the order the analysis ran them: overall, then each level
  std::vector<std::string> strata = {""};
  if (result.summary.contains("strata") && result.summary["strata"].is_object()) {
    for (const auto& item : result.summary["strata"].items()) strata.push_back(item.key());
  }
  for (const ResultRow& r : result.rows) {
    if (r.section == spec.section && std::find(strata.begin(), strata.end(), r.stratum) == strata.end())
      strata.push_back(r.stratum);
  }
  plot.columns = {"n"};
  if (spec.events) plot.columns.push_back("Events");
  plot.label_header = "Subgroup";
  std::string exposure_label = exposure;
  const ResultRow* interaction = nullptr;
  for (const ResultRow& r : result.rows) {
    if (r.section == "interaction" && r.stratum.empty() && !interaction) interaction = &r;
    if (r.section == spec.section && r.stratum.empty() && BelongsTo(r, exposure, predictors)) {
      if (!ExtraString(r, "var_label").empty()) exposure_label = ExtraString(r, "var_label");
      const std::string per_sd = PerSdLabel(r);
      if (!per_sd.empty() && exposure_label.find(per_sd.substr(1)) == std::string::npos) exposure_label += per_sd;
    }
  }
  const std::string prefix = by + "=";
  std::string by_heading = by;
  for (const std::string& stratum : strata) {
    std::vector<const ResultRow*> rows;
    for (const ResultRow& r : result.rows) {
      if (r.section == spec.section && r.stratum == stratum && !IsIntercept(r) && BelongsTo(r, exposure, predictors))
        rows.push_back(&r);
    }
    const nlohmann::ordered_json& summary =
        stratum.empty() ? result.summary
                        : (result.summary.contains("strata") && result.summary["strata"].contains(stratum)
                               ? result.summary["strata"][stratum]
                               : nlohmann::ordered_json::object());
    std::string name = stratum.empty() ? "Overall" : stratum;
    if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
    std::string by_label = by;  // "Osteoarthritis = Yes" (ApplyLabels): heading and level by their labels
    for (const ResultRow* r : rows) {
      const std::string label = ExtraString(*r, "stratum_label");
      if (const std::size_t at = label.find(" = "); !stratum.empty() && at != std::string::npos) {
        by_label = label.substr(0, at);
        name = label.substr(at + 3);
        break;
      }
    }
    if (stratum.size() > 0 && strata.size() > 1 && &stratum == &strata[1]) {
      ForestRow h;
      h.header = true;
      h.label = by_label;
      by_heading = by_label;
      plot.rows.push_back(std::move(h));
    }
    const int indent = stratum.empty() ? 0 : 1;
    std::vector<std::string> cells;
    std::optional<std::int64_t> n;
    for (const ResultRow* r : rows) n = n ? n : r->n;
    if (!n) n = SummaryCount(summary, "nobs");
    cells.push_back(CountCell(n, result));
    if (spec.events) cells.push_back(CountCell(SummaryCount(summary, "events"), result));
    const bool single = rows.size() == 1 && !ExtraTrue(*rows.front(), "reference_row");
    if (rows.empty() || single) {
      ForestRow f;
      if (single) f = NumbersOf(*rows.front(), spec);
      if (rows.empty()) {
        f.note = summary.contains("error") && summary["error"].is_string()
                     ? "not fitted: " + summary["error"].get<std::string>()
                     : "not estimable";
      }
      f.label = name;
      f.indent = indent;
      f.cells = cells;
      plot.rows.push_back(std::move(f));
      continue;
    }
    ForestRow h;  // a categorical exposure: the stratum's heading, its levels beneath
    h.header = true;
    h.label = name;
    h.indent = indent;
    h.cells = cells;
    plot.rows.push_back(std::move(h));
    for (const ResultRow* r : rows) {
      ForestRow f = NumbersOf(*r, spec);
      f.label = RowText(*r);
      f.indent = 1;
      plot.rows.push_back(std::move(f));
    }
  }
  plot.notes.push_back(fmt::format("Estimates of {} in each subgroup of {}, from the model fitted within it.",
                                   exposure_label, by_heading));
  if (interaction) {
    const std::string test = ExtraString(*interaction, "test");
    if (std::isfinite(interaction->p_value)) {
      plot.notes.push_back(fmt::format("p for interaction: {} ({}{})", FormatPValue(interaction->p_value),
                                       interaction->term, test.empty() ? "" : ", " + test + " test"));
    } else {
      plot.notes.push_back(fmt::format("p for interaction: not computed ({})", ExtraString(*interaction, "note")));
    }
  }
}

std::string CountsNote(const AnalysisResultSet& result) {
  return fmt::format("n = {} complete cases; {} excluded", FormatCount(result.rows_used), FormatCount(result.rows_excluded));
}

// The study's label with its year when the label does not hold it already.
std::string StudyLabel(const ResultRow& r) {
  std::string text = RowText(r);
  if (r.extra.contains("year") && r.extra["year"].is_number()) {
    const std::string year = fmt::format("{}", r.extra["year"].get<std::int64_t>());
    if (text.find(year) == std::string::npos) text += " " + year;
  }
  return text;
}

double ExtraNumberOr(const ResultRow& r, const char* key) {
  if (!r.extra.contains(key) || !r.extra[key].is_number()) return std::nan("");
  return r.extra[key].get<double>();
}

std::string Favoured(const std::string& text) {
  std::string lower = text.substr(0, 7);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "favours" || lower.substr(0, 6) == "favors" ? text : "Favours " + text;
}

}  // namespace

ForestPlot ModelForestPlot(const AnalysisResultSet& result, const ModelPlotSpec& spec) {
  ForestPlot plot;
  plot.title = spec.title;
  plot.x_label = spec.x_label;
  plot.estimate_header = spec.estimate_header;
  plot.log_scale = spec.log_scale;
  plot.reference = spec.log_scale ? 1 : 0;
  plot.label_header = "Variable";
  const std::string by = Parameter(result.parameters, "by");
  if (!by.empty()) {
    SubgroupPlot(result, spec, by, plot);
  } else {
    std::vector<const ResultRow*> rows;
    for (const ResultRow& r : result.rows) {
      if (r.section == spec.section && r.stratum.empty() && !IsIntercept(r)) rows.push_back(&r);
    }
    AddGrouped(rows, spec, 0, plot);
  }
  plot.notes.push_back(CountsNote(result));
  return plot;
}

std::string ModelPlotSvg(const AnalysisResultSet& result, const ModelPlotSpec& spec) {
  const bool exposure = !Parameter(result.parameters, "plot-exposure").empty();
  if (!PlotAsked(result)) {
    if (exposure) throw InputError("--plot-exposure chooses the predictor of the --by subgroup plot; add --plot");
    return {};
  }
  if (exposure && Parameter(result.parameters, "by").empty()) {
    throw InputError("--plot-exposure chooses the predictor of the --by subgroup plot; add --by VAR");
  }
  return RenderForestPlotSvg(ModelForestPlot(result, spec));
}

std::string OutcomeModelPlotSvg(const AnalysisResultSet& result, ModelPlotSpec spec,
                                const std::string& outcome) {
  std::string name = outcome;
  const auto label = result.diagnostics.find("outcome_label");
  if (label != result.diagnostics.end() && label->is_string() && !label->get<std::string>().empty()) {
    name = label->get<std::string>();
  }
  if (const std::size_t at = spec.title.find("{}"); at != std::string::npos) spec.title.replace(at, 2, name);
  return ModelPlotSvg(result, spec);
}

ForestPlot MetaForestPlot(const AnalysisResultSet& result) {
  const std::string measure = result.summary.value("measure", "SMD");
  const std::string method = result.summary.value("method", "REML");
  const bool ratio = measure == "OR";
  ForestPlot plot;
  plot.title = Parameter(result.parameters, "study") + ": " + result.summary.value("outcome", "") + " (" + measure +
               ", " + method + ")";
  plot.label_header = "Study";
  plot.estimate_header = measure + " (95% CI)";
  plot.columns = {"Weight"};
  plot.show_p = false;
  plot.log_scale = ratio;
  plot.reference = ratio ? 1 : 0;
  plot.x_label = measure == "SMD"  ? "Standardised mean difference (Hedges' g, 95% CI)"
                 : measure == "MD" ? "Mean difference (95% CI)"
                                   : "Odds ratio (95% CI)";
  auto scale = [&](double v) { return ratio ? std::exp(v) : v; };
  auto numbers = [&](const ResultRow& r) {
    ForestRow f;
    f.estimate = scale(r.estimate);
    f.low = scale(r.conf_low);
    f.high = scale(r.conf_high);
    return f;
  };
  const std::string by = Parameter(result.parameters, "by");
  auto add_studies = [&](const std::string& stratum, int indent) {
    for (const ResultRow& r : result.rows) {
      if (r.section != "studies" || r.stratum != stratum) continue;
      ForestRow f = numbers(r);
      f.label = StudyLabel(r);
      f.indent = indent;
      f.weight = ExtraNumberOr(r, "weight_percent");
      f.cells = {std::isfinite(f.weight) ? fmt::format("{:.1f}%", f.weight) : std::string()};
      plot.rows.push_back(std::move(f));
    }
  };
  const ResultRow* overall = nullptr;
  for (const ResultRow& r : result.rows) {
    if (r.section == "pooled" && r.stratum.empty()) overall = &r;
  }
  if (by.empty()) {
    add_studies("", 0);
  } else {
    std::vector<std::string> strata;
    for (const ResultRow& r : result.rows) {
      if (r.section == "studies" && !r.stratum.empty() &&
          std::find(strata.begin(), strata.end(), r.stratum) == strata.end())
        strata.push_back(r.stratum);
    }
    for (const std::string& stratum : strata) {
      ForestRow h;
      h.header = true;
      h.label = stratum.rfind(by + "=", 0) == 0 ? by + ": " + stratum.substr(by.size() + 1) : stratum;
      plot.rows.push_back(std::move(h));
      add_studies(stratum, 1);
      const ResultRow* pooled = nullptr;
      for (const ResultRow& r : result.rows) {
        if (r.section == "pooled" && r.stratum == stratum) pooled = &r;
      }
      ForestRow f;
      if (pooled) {
        f = numbers(*pooled);
        f.summary = true;
        f.label = fmt::format("Subtotal (I\u00b2 = {:.0f}%)", ExtraNumberOr(*pooled, "i2"));
        f.cells = {"100%"};
      } else {
        const auto& strata_summary = result.summary.contains("strata") ? result.summary["strata"]
                                                                       : nlohmann::ordered_json::object();
        f.label = "Subtotal";
        f.note = strata_summary.contains(stratum) && strata_summary[stratum].contains("error")
                     ? "not pooled: " + strata_summary[stratum]["error"].get<std::string>()
                     : "not pooled";
      }
      f.indent = 1;
      plot.rows.push_back(std::move(f));
    }
  }
  if (overall) {
    ForestRow f = numbers(*overall);
    f.summary = true;
    f.label = by.empty() ? fmt::format("Pooled ({})", method) : fmt::format("Overall ({})", method);
    f.cells = {by.empty() ? "100%" : ""};
    plot.rows.push_back(std::move(f));
    const double pi_low = ExtraNumberOr(*overall, "pi_low"), pi_high = ExtraNumberOr(*overall, "pi_high");
    if (method != "FE" && std::isfinite(pi_low) && std::isfinite(pi_high))
      plot.prediction = std::make_pair(scale(pi_low), scale(pi_high));
    plot.notes.push_back(fmt::format("Heterogeneity: \u03c4\u00b2 = {}; I\u00b2 = {:.1f}%; Q = {:.2f}, df = {}, {}",
                                     FormatNumber(ExtraNumberOr(*overall, "tau2"), 4),
                                     ExtraNumberOr(*overall, "i2"), ExtraNumberOr(*overall, "q"),
                                     ExtraNumberOr(*overall, "q_df"), PEquals(ExtraNumberOr(*overall, "q_p_value"))));
    if (std::isfinite(overall->statistic)) {
      plot.notes.push_back(fmt::format("Test for overall effect: z = {:.2f}, {}", overall->statistic,
                                       PEquals(overall->p_value)));
    }
  }
  for (const ResultRow& r : result.rows) {
    if (r.section != "subgroup_difference") continue;
    if (std::isfinite(r.p_value)) {
      plot.notes.push_back(fmt::format("Test for subgroup differences: Q = {:.2f}, df = {}, {}", r.statistic,
                                       ExtraNumberOr(r, "df"), PEquals(r.p_value)));
    } else {
      plot.notes.push_back("Test for subgroup differences: " + ExtraString(r, "note"));
    }
  }
  if (plot.prediction) plot.notes.push_back("Prediction interval: where the effect of a new study is expected (95%).");
  std::vector<std::string> favours = ParameterList(result.parameters, "favours");
  if (favours.empty()) favours = {"treatment", "control"};
  if (favours.size() != 2 || favours[0].empty() || favours[1].empty()) {
    throw InputError(fmt::format("--favours: expected two labels, left and right of the line of no effect, as "
                                 "\"treatment,control\"; found {} ({})",
                                 favours.size(), fmt::join(favours, ",")));
  }
  plot.favours = std::make_pair(Favoured(favours[0]), Favoured(favours[1]));
  return plot;
}

std::string MetaPlotSvg(const AnalysisResultSet& result) {
  if (!PlotAsked(result)) {
    if (result.parameters.is_object() && result.parameters.contains("favours"))
      throw InputError("--favours labels the forest plot; add --plot");
    return {};
  }
  return RenderForestPlotSvg(MetaForestPlot(result));
}

OptionSpec PlotExposureOption() {
  return {"plot-exposure", OptionType::kString,
          "With --by and --plot: the predictor whose estimate the subgroup plot shows per stratum (default: the "
          "first predictor)"};
}

OptionSpec FavoursOption() {
  return {"favours", OptionType::kStringList,
          "With --plot: the labels under the axis, left and right of the line of no effect (default: "
          "treatment,control, read as \"Favours treatment\" and \"Favours control\")"};
}

}  // namespace cohortdb::analysis

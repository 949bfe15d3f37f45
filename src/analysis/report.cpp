#include "analysis/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace cohortdb::analysis {
namespace {

bool IsSuppressed(const ResultRow& r) {
  return r.extra.contains("suppressed") && r.extra["suppressed"] == true;
}

double ExtraNumber(const ResultRow& r, const char* key) {
  if (r.extra.contains(key) && r.extra[key].is_number()) return r.extra[key].get<double>();
  return std::nan("");
}

std::string ExtraText(const ResultRow& r, const char* key) {
  if (!r.extra.contains(key)) return {};
  const auto& v = r.extra[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// A CI column: "0.75 to 0.86", the one CI style of every table (BMJ's and
// the Lancet's "to", which reads unambiguously with negative bounds).
std::string Ci(double low, double high, int digits) {
  if (std::isnan(low) || std::isnan(high)) return "";
  return fmt::format("{} to {}", FormatNumber(low, digits), FormatNumber(high, digits));
}

std::string EstimateCi(double est, double low, double high, int digits) {
  return FormatEstimateCi(est, low, high, digits);
}

bool IsReferenceRow(const ResultRow& r) {
  return r.extra.contains("reference_row") && r.extra["reference_row"] == true;
}

// What a table prints for a row's term: its label, or the code under
// --codes or when the row has no label.
std::string RowName(const ResultRow& r, const ReportStyle& style) {
  return style.codes || r.label.empty() ? r.term : r.label;
}

std::string StratumName(const ResultRow& r, const ReportStyle& style) {
  if (r.stratum.empty()) return "overall";
  if (!style.codes) {
    const std::string label = ExtraText(r, "stratum_label");
    if (!label.empty()) return label;
  }
  return r.stratum;
}

// The label of a role's variable ("outcome"): the catalog's label, or the
// code under --codes or for a run recorded before labels.
std::string RoleName(const AnalysisResultSet& result, const char* role, const ReportStyle& style) {
  const std::string label_key = std::string(role) + "_label";
  if (!style.codes && result.diagnostics.contains(label_key) && result.diagnostics[label_key].is_string())
    return result.diagnostics[label_key].get<std::string>();
  for (const auto* j : {&result.parameters, &result.summary}) {
    if (j->is_object() && j->contains(role) && (*j)[role].is_string()) return (*j)[role].get<std::string>();
  }
  return {};
}

std::string TitleFor(const std::string& base, const std::string& name) {
  return name.empty() ? base : fmt::format("{} for {}", base, name);
}

// A p-value cell: empty when there is no test.
std::string P(double p) { return std::isnan(p) ? std::string() : FormatPValue(p); }

// A degrees-of-freedom cell: integers without decimals, empty when absent.
std::string Df(double df) {
  if (std::isnan(df)) return {};
  return std::floor(df) == df ? fmt::format("{}", static_cast<long long>(df)) : FormatNumber(df, 1);
}

// What a table prints for a value --min-cell hides. "<N" only where the
// value is itself a count below N (a Table 1 cell suppressed for its own
// size); anything else hidden (a complementary cell, the n of a row whose
// cases are few, a percentage) is "suppressed", which claims nothing.
std::string SuppressedText(const AnalysisResultSet& result, const ResultRow& r, bool own_count) {
  const bool complementary = r.extra.contains("complementary") && r.extra["complementary"] == true;
  if (own_count && !complementary && result.min_cell) return fmt::format("<{}", *result.min_cell);
  return "suppressed";
}

std::vector<std::string> Strata(const AnalysisResultSet& result, const std::string& section) {
  std::vector<std::string> out;
  for (const ResultRow& r : result.rows) {
    if (r.section == section && std::find(out.begin(), out.end(), r.stratum) == out.end())
      out.push_back(r.stratum);
  }
  return out;
}

using Row = std::vector<SqlValue>;

void AddTable(std::vector<ReportTable>& out, std::string title, std::vector<std::string> columns,
              std::vector<Row> rows) {
  ReportTable t;
  t.title = std::move(title);
  t.table.columns = std::move(columns);
  t.table.rows = std::move(rows);
  out.push_back(std::move(t));
}

std::string Title(const std::string& base, const std::string& stratum) {
  return stratum.empty() ? base : fmt::format("{} [{}]", base, stratum);
}

// A row of Table 1 that a dichotomous variable does not show: with labels,
// a No/Yes (Unchecked/Checked) variable is one row, its second level's, as
// gtsummary's dichotomous type prints it.
bool HiddenDichotomousRow(const ResultRow& r, const ReportStyle& style) {
  if (style.codes || ExtraText(r, "var_type") != "dichotomous" || !r.extra.contains("dichotomous_level")) return false;
  return ExtraText(r, "level") != ExtraText(r, "dichotomous_level");
}

void Table1(const AnalysisResultSet& result, const ReportStyle& style, std::vector<ReportTable>& out) {
  for (const std::string& stratum : Strata(result, "table1")) {
    std::vector<std::string> groups, group_names;
    for (const ResultRow& r : result.rows) {
      if (r.section != "table1" || r.stratum != stratum) continue;
      const std::string g = ExtraText(r, "group");
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) {
        groups.push_back(g);
        const std::string label = ExtraText(r, "group_label");
        group_names.push_back(style.codes || label.empty() ? g : label);
      }
    }
    std::map<std::string, const ResultRow*> tests;
    for (const ResultRow& r : result.rows) {
      if (r.section == "tests" && r.stratum == stratum) tests[r.term] = &r;
    }
    std::vector<std::string> columns = {"Variable"};
    for (const auto& g : group_names) columns.push_back(g);
    if (!tests.empty()) {
      columns.push_back("p");
      columns.push_back("test");
      columns.push_back("SMD");
    }
    std::vector<Row> rows;
    std::map<std::string, std::size_t> row_of;  // term -> row index
    std::set<std::string> headed;
    for (const ResultRow& r : result.rows) {
      if (r.section != "table1" || r.stratum != stratum) continue;
      const std::string summary = ExtraText(r, "summary");
      const std::string variable = r.extra.contains("variable") ? ExtraText(r, "variable") : r.term;
      const std::string var_label = ExtraText(r, "var_label");
      const std::string variable_name = style.codes || var_label.empty() ? variable : var_label;
      if (HiddenDichotomousRow(r, style)) continue;
      const bool single_row = summary == "n (%)" && !style.codes && r.extra.contains("dichotomous_level");
      if (summary == "n (%)" && !single_row && !headed.count(variable)) {
        headed.insert(variable);
        Row head(columns.size(), std::string());
        head[0] = variable_name + ", n (%)";
        if (tests.count(variable)) {
          const ResultRow& t = *tests[variable];
          head[groups.size() + 1] = FormatPValue(t.p_value);
          head[groups.size() + 2] = ExtraText(t, "test");
          head[groups.size() + 3] =
              std::isnan(ExtraNumber(t, "smd")) ? "" : FormatNumber(ExtraNumber(t, "smd"), 3);
        }
        rows.push_back(head);
      }
      std::string key = r.term;
      if (!row_of.count(key)) {
        Row row(columns.size(), std::string());
        if (single_row) {
          row[0] = variable_name + ", n (%)";
          if (tests.count(variable)) {
            const ResultRow& t = *tests[variable];
            row[groups.size() + 1] = FormatPValue(t.p_value);
            row[groups.size() + 2] = ExtraText(t, "test");
            row[groups.size() + 3] =
                std::isnan(ExtraNumber(t, "smd")) ? "" : FormatNumber(ExtraNumber(t, "smd"), 3);
          }
        } else if (summary == "n (%)") {
          row[0] = "  " + (style.codes || r.label.empty() ? ExtraText(r, "level") : r.label);
        } else if (summary == "n") {
          row[0] = "n";
        } else {
          row[0] = fmt::format("{}, {}", RowName(r, style), summary);
          if (tests.count(r.term)) {
            const ResultRow& t = *tests[r.term];
            row[groups.size() + 1] = FormatPValue(t.p_value);
            row[groups.size() + 2] = ExtraText(t, "test");
            row[groups.size() + 3] =
                std::isnan(ExtraNumber(t, "smd")) ? "" : FormatNumber(ExtraNumber(t, "smd"), 3);
          }
        }
        row_of[key] = rows.size();
        rows.push_back(row);
      }
      const std::size_t g = static_cast<std::size_t>(
          std::find(groups.begin(), groups.end(), ExtraText(r, "group")) - groups.begin());
      std::string cell;
      if (IsSuppressed(r)) {
        cell = SuppressedText(result, r, true);
      } else if (summary == "n") {
        cell = fmt::format("{}", r.n.value_or(0));
      } else if (summary == "n (%)") {
        cell = fmt::format("{} ({})", r.n.value_or(0), FormatNumber(r.estimate, 1));
      } else if (summary == "median [IQR]") {
        cell = fmt::format("{} [{}, {}]", FormatNumber(ExtraNumber(r, "median"), 2),
                           FormatNumber(ExtraNumber(r, "q1"), 2), FormatNumber(ExtraNumber(r, "q3"), 2));
      } else {
        cell = fmt::format("{} ({})", FormatNumber(ExtraNumber(r, "mean"), 2),
                           FormatNumber(ExtraNumber(r, "sd"), 2));
      }
      const double missing = ExtraNumber(r, "missing");
      if (summary != "n (%)" && missing > 0) cell += fmt::format("; {} missing", missing);
      rows[row_of[key]][g + 1] = cell;
    }
    AddTable(out, Title("Table 1", stratum), columns, rows);
  }
}

bool HasStratum(const AnalysisResultSet& result, const std::string& section) {
  for (const ResultRow& r : result.rows) {
    if (r.section == section && !r.stratum.empty()) return true;
  }
  return false;
}

// One table per section, with a Stratum column when --by was used.
// The first cell of "cells" names the row. A categorical variable's level
// rows (var_type categorical or dichotomous) get a heading row with the
// variable's label and are indented under it, as gtsummary prints them; its
// reference row reads "reference" in the first number column.
template <typename F>
void SectionTable(const AnalysisResultSet& result, const ReportStyle& style, const std::string& section,
                  const std::string& title, std::vector<std::string> columns, std::vector<ReportTable>& out,
                  F&& cells) {
  const bool strata = HasStratum(result, section);
  if (strata) columns.insert(columns.begin(), "Stratum");
  // Why a row has no estimate ("'x' is constant ...") goes into a Note
  // column; odds ratios say it in their own cell.
  const bool notes = section != "odds_ratios";
  if (notes) columns.push_back("Note");
  const std::size_t name_at = strata ? 1 : 0;
  std::vector<Row> rows;
  std::string heading;  // stratum \x1f variable of the last heading
  for (const ResultRow& r : result.rows) {
    if (r.section != section) continue;
    Row row = cells(r);
    if (IsReferenceRow(r)) {
      for (std::size_t c = 1; c < row.size(); ++c) row[c] = std::string(c == 1 ? "reference" : "");
    }
    if (strata) row.insert(row.begin(), StratumName(r, style));
    if (notes) row.push_back(r.extra.contains("note") ? ExtraText(r, "note") : std::string());
    const std::string type = ExtraText(r, "var_type");
    // A level row: its term is more than its variable (a 0/1 variable's term is the variable itself).
    if (!style.codes && (type == "categorical" || type == "dichotomous") && r.extra.contains("variable") &&
        r.term != ExtraText(r, "variable")) {
      const std::string key = r.stratum + '\x1f' + ExtraText(r, "variable");
      if (key != heading) {
        heading = key;
        Row head(row.size(), std::string());
        if (strata) head[0] = row[0];
        const std::string var_label = ExtraText(r, "var_label");
        head[name_at] = var_label.empty() ? ExtraText(r, "variable") : var_label;
        rows.push_back(std::move(head));
      }
      if (const auto* name = std::get_if<std::string>(&row[name_at])) row[name_at] = "  " + *name;
    } else {
      heading.clear();
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return;
  // drop columns with nothing to show (e.g. "Difference" for chi-square tests)
  for (std::size_t c = columns.size(); c-- > 1;) {
    const bool empty = std::all_of(rows.begin(), rows.end(), [&](const Row& row) {
      const auto* text = std::get_if<std::string>(&row[c]);
      return text && (text->empty() || *text == "NA");
    });
    if (!empty) continue;
    columns.erase(columns.begin() + static_cast<std::ptrdiff_t>(c));
    for (Row& row : rows) row.erase(row.begin() + static_cast<std::ptrdiff_t>(c));
  }
  AddTable(out, title, columns, rows);
}

// A summary value for people: numbers rounded, objects as "key value, ...".
std::string SummaryText(const nlohmann::ordered_json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) return FormatNumber(d, 4);  // NA, Inf or -Inf, as in the tables
    if (std::floor(d) == d && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
    return std::fabs(d) >= 1e-3 ? FormatNumber(d, 4) : fmt::format("{:.3g}", d);
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    std::vector<std::string> parts;
    for (const auto& [k, item] : v.items()) parts.push_back(k + " " + SummaryText(item));
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  return v.dump();
}

std::string N(const ResultRow& r) { return r.n ? std::to_string(*r.n) : std::string(); }

}  // namespace

std::string FormatPValue(double p) {
  if (std::isnan(p)) return "NA";
  if (p < 0.001) return "<0.001";
  if (p < 0.1) return fmt::format("{:.3f}", p);
  return fmt::format("{:.2f}", p);
}

std::string PerSdLabel(const ResultRow& row) {
  if (!row.extra.is_object() || !row.extra.contains("per_sd")) return "";
  const double k = ExtraNumber(row, "per_sd");
  const std::string per = fmt::format("per {:g} SD", k);
  if (!row.extra.contains("units") || !row.extra["units"].is_number()) return " (" + per + ")";
  const double units = row.extra["units"].get<double>();
  // Three significant digits in fixed notation: 7.54, 75.4, 754, 0.0754.
  const int magnitude = units == 0 || !std::isfinite(units)
                            ? 0
                            : static_cast<int>(std::floor(std::log10(std::fabs(units))));
  std::string text = fmt::format("{:.{}f}", units, std::max(0, 2 - magnitude));
  if (row.extra.contains("unit") && row.extra["unit"].is_string()) {
    text += " " + row.extra["unit"].get<std::string>();
  }
  return fmt::format(" ({} = {})", per, text);
}

std::string FormatNumber(double value, int digits) {
  if (std::isnan(value)) return "NA";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  if (std::fabs(value) >= 1e6) return fmt::format("{:.{}e}", value, std::max(digits, 1));
  std::string s = fmt::format("{:.{}f}", value, digits);
  if (s == fmt::format("-{:.{}f}", 0.0, digits)) s = s.substr(1);
  return s;
}

std::string FormatEstimateCi(double estimate, double low, double high, int digits) {
  if (std::isnan(estimate)) return "NA";
  if (std::isnan(low) || std::isnan(high)) return FormatNumber(estimate, digits);
  return fmt::format("{} ({} to {})", FormatNumber(estimate, digits), FormatNumber(low, digits),
                     FormatNumber(high, digits));
}

std::string FormatCount(std::int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::vector<ReportTable> PaperTables(const AnalysisResultSet& result, const ReportStyle& style) {
  std::vector<ReportTable> out;
  bool has_or = false;
  for (const ResultRow& r : result.rows) has_or = has_or || r.section == "odds_ratios";
  const std::string outcome = RoleName(result, "outcome", style);
  auto name = [&](const ResultRow& r) { return RowName(r, style); };
  Table1(result, style, out);
  SectionTable(
      result, style, "correlations", "Correlations", {"x", "y", "n", "r (95% CI)", "p", "p adjusted"}, out,
      [&](const ResultRow& r) -> Row {
        const std::string x_label = ExtraText(r, "x_label"), y_label = ExtraText(r, "y_label");
        return {style.codes || x_label.empty() ? ExtraText(r, "x") : x_label,
                style.codes || y_label.empty() ? ExtraText(r, "y") : y_label,
                N(r),
                EstimateCi(r.estimate, r.conf_low, r.conf_high, 3),
                FormatPValue(r.p_value),
                r.extra.contains("p_adjusted") ? FormatPValue(ExtraNumber(r, "p_adjusted")) : std::string()};
      });
  if (!has_or) {
    bool std_beta = false;
    for (const ResultRow& r : result.rows) std_beta = std_beta || r.extra.contains("std_beta");
    std::vector<std::string> cols = {"Term", "Estimate", "95% CI", "SE", "t", "p"};
    if (std_beta) cols.push_back("Std. beta");
    SectionTable(result, style, "coefficients", TitleFor("Coefficients", outcome), cols, out,
                 [&](const ResultRow& r) -> Row {
                   Row row = {name(r) + PerSdLabel(r),
                              FormatNumber(r.estimate, 3),
                              Ci(r.conf_low, r.conf_high, 3),
                              FormatNumber(r.std_error, 3),
                              FormatNumber(r.statistic, 2),
                              FormatPValue(r.p_value)};
                   if (std_beta) {
                     std::string beta;
                     if (r.term != "(Intercept)") beta = FormatNumber(ExtraNumber(r, "std_beta"), 3);
                     row.emplace_back(std::move(beta));
                   }
                   return row;
                 });
  }
  // lme4's "Random effects:" block: variance and SD per grouping and effect,
  // correlations between effects of one grouping.
  SectionTable(result, style, "random", "Random effects", {"Group", "Effect", "Variance", "SD", "Correlation"}, out,
               [&](const ResultRow& r) -> Row {
                 const auto sig = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.4g}", v); };
                 const std::string group = ExtraText(r, "group");
                 const std::string effect = ExtraText(r, "effect");
                 const std::string effect2 = ExtraText(r, "effect2");
                 if (!effect2.empty()) {
                   return {group, effect + " with " + effect2, "", "", FormatNumber(r.estimate, 2)};
                 }
                 return {group, effect, sig(ExtraNumber(r, "variance")), sig(r.estimate), ""};
               });
  SectionTable(result, style, "odds_ratios", TitleFor("Odds ratios", outcome), {"Term", "OR (95% CI)", "p"}, out,
               [&](const ResultRow& r) -> Row {
                 std::string or_text = EstimateCi(r.estimate, r.conf_low, r.conf_high, 2);
                 if (r.extra.contains("note")) or_text = "not estimable: " + ExtraText(r, "note");
                 return {name(r) + PerSdLabel(r), or_text, FormatPValue(r.p_value)};
               });
  for (const auto& [section, title, column] :
       {std::tuple<const char*, const char*, const char*>{"risk_ratios", "Risk ratios", "RR (95% CI)"},
        {"rate_ratios", "Rate ratios", "RR (95% CI)"}}) {
    SectionTable(result, style, section, TitleFor(title, outcome), {"Term", column, "p"}, out,
                 [&](const ResultRow& r) -> Row {
                   return {name(r) + PerSdLabel(r), EstimateCi(r.estimate, r.conf_low, r.conf_high, 2),
                           FormatPValue(r.p_value)};
                 });
  }
  if (result.command != "describe") {
    SectionTable(
        result, style, "tests", "Tests",
        {"Variable", "Test", "Difference (95% CI)", "Statistic", "df", "n", "p"}, out, [&](const ResultRow& r) -> Row {
          std::string n = N(r);
          if (IsSuppressed(r)) n = SuppressedText(result, r, false);
          return {name(r),
                  ExtraText(r, "test"),
                  std::isnan(r.estimate) ? std::string() : EstimateCi(r.estimate, r.conf_low, r.conf_high, 2),
                  FormatNumber(r.statistic, 2),
                  Df(ExtraNumber(r, "df")),
                  n,
                  P(r.p_value)};
        });
  }
  std::string category;
  for (const ResultRow& r : result.rows) {
    if (r.section == "prevalence" && !style.codes && !ExtraText(r, "var_label").empty()) {
      category = ExtraText(r, "var_label");
      break;
    }
  }
  if (category.empty() && result.parameters.contains("category") && result.parameters["category"].is_string())
    category = result.parameters["category"].get<std::string>();
  SectionTable(result, style, "prevalence", TitleFor("Prevalence", outcome),
               {category.empty() ? std::string("Category") : category, "n", "Cases", "%"}, out,
               [&](const ResultRow& r) -> Row {
                 const std::string level =
                     style.codes || r.label.empty() ? ExtraText(r, "level") : r.label;
                 if (IsSuppressed(r)) {
                   const std::string s = SuppressedText(result, r, false);
                   return {level, s, s, s};
                 }
                 return {level, N(r), ExtraText(r, "cases"), FormatNumber(r.estimate, 1)};
               });
  SectionTable(result, style, "mediation", "Mediation", {"Effect", "Estimate", "95% CI", "p"}, out,
               [&](const ResultRow& r) -> Row {
                 return {name(r), FormatNumber(r.estimate, 3), Ci(r.conf_low, r.conf_high, 3), P(r.p_value)};
               });
  const bool ratio = result.parameters.contains("measure") && result.parameters["measure"] == "OR";
  auto effect = [&](const ResultRow& r) {
    return ratio ? EstimateCi(std::exp(r.estimate), std::exp(r.conf_low), std::exp(r.conf_high), 2)
                 : EstimateCi(r.estimate, r.conf_low, r.conf_high, 2);
  };
  SectionTable(result, style, "studies", "Studies",
               {"Study", "n", ratio ? "OR (95% CI)" : "Effect (95% CI)", "Weight %"}, out,
               [&](const ResultRow& r) -> Row {
                 return {name(r), N(r), effect(r), FormatNumber(ExtraNumber(r, "weight_percent"), 1)};
               });
  SectionTable(result, style, "pooled", "Pooled",
               {"Model", "k", ratio ? "OR (95% CI)" : "Effect (95% CI)", "p", "tau^2", "I^2 %", "Q p",
                "Prediction interval"},
               out, [&](const ResultRow& r) -> Row {
                 const double lo = ExtraNumber(r, "pi_low"), hi = ExtraNumber(r, "pi_high");
                 return {name(r),
                         N(r),
                         effect(r),
                         FormatPValue(r.p_value),
                         FormatNumber(ExtraNumber(r, "tau2"), 4),
                         FormatNumber(ExtraNumber(r, "i2"), 1),
                         FormatPValue(ExtraNumber(r, "q_p_value")),
                         ratio ? Ci(std::exp(lo), std::exp(hi), 2) : Ci(lo, hi, 2)};
               });
  SectionTable(result, style, "meta_regression", "Meta-regression", {"Term", "Estimate", "95% CI", "SE", "z", "p"},
               out, [&](const ResultRow& r) -> Row {
                 return {name(r),
                         FormatNumber(r.estimate, 4),
                         Ci(r.conf_low, r.conf_high, 4),
                         FormatNumber(r.std_error, 4),
                         FormatNumber(r.statistic, 2),
                         FormatPValue(r.p_value)};
               });
  SectionTable(result, style, "interaction", "Interaction test", {"Test", "Kind", "Statistic", "df", "p"}, out,
               [&](const ResultRow& r) -> Row {
                 return {name(r), ExtraText(r, "test"), FormatNumber(r.statistic, 2), Df(ExtraNumber(r, "df")),
                         P(r.p_value)};
               });
  return out;
}

QueryResult TidyTable(const AnalysisResultSet& result) {
  QueryResult t;
  t.columns = {"section",   "stratum",   "term",    "label",    "estimate", "std_error",
               "statistic", "p_value", "conf_low", "conf_high", "n"};
  std::vector<std::string> extra_keys;
  for (const ResultRow& r : result.rows) {
    for (const auto& [k, v] : r.extra.items()) {
      if (std::find(extra_keys.begin(), extra_keys.end(), k) == extra_keys.end()) extra_keys.push_back(k);
    }
  }
  for (const auto& k : extra_keys) t.columns.push_back(k);
  auto real = [](double v) -> SqlValue {
    if (std::isnan(v)) return std::monostate{};
    return v;
  };
  for (const ResultRow& r : result.rows) {
    Row row = {r.section,         r.stratum,       r.term,           r.label.empty() ? r.term : r.label,
               real(r.estimate),  real(r.std_error), real(r.statistic), real(r.p_value),
               real(r.conf_low),  real(r.conf_high)};
    row.push_back(r.n ? SqlValue(*r.n) : SqlValue(std::monostate{}));
    for (const auto& k : extra_keys) {
      if (!r.extra.contains(k) || r.extra[k].is_null()) {
        row.emplace_back(std::monostate{});
        continue;
      }
      const auto& v = r.extra[k];
      if (v.is_number_integer())
        row.emplace_back(v.get<std::int64_t>());
      else if (v.is_number())
        row.push_back(real(v.get<double>()));
      else if (v.is_string())
        row.emplace_back(v.get<std::string>());
      else
        row.emplace_back(v.dump());
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

nlohmann::ordered_json ResultJson(const AnalysisResultSet& result) {
  auto num = [](double v) -> nlohmann::ordered_json {
    if (std::isnan(v) || std::isinf(v)) return nullptr;
    return v;
  };
  nlohmann::ordered_json j;
  j["command"] = result.command;
  j["parameters"] = result.parameters;
  j["rows_used"] = result.rows_used;
  j["rows_excluded"] = result.rows_excluded;
  j["min_cell"] =
      result.min_cell ? nlohmann::ordered_json(*result.min_cell) : nlohmann::ordered_json(nullptr);
  j["summary"] = result.summary;
  j["diagnostics"] = result.diagnostics;
  j["rows"] = nlohmann::ordered_json::array();
  for (const ResultRow& r : result.rows) {
    nlohmann::ordered_json row;
    row["section"] = r.section;
    row["stratum"] = r.stratum;
    row["term"] = r.term;
    row["label"] = r.label.empty() ? r.term : r.label;
    row["estimate"] = num(r.estimate);
    row["std_error"] = num(r.std_error);
    row["statistic"] = num(r.statistic);
    row["p_value"] = num(r.p_value);
    row["conf_low"] = num(r.conf_low);
    row["conf_high"] = num(r.conf_high);
    row["n"] = r.n ? nlohmann::ordered_json(*r.n) : nlohmann::ordered_json(nullptr);
    for (const auto& [k, v] : r.extra.items()) {
      row[k] = v.is_number_float() ? num(v.get<double>()) : v;
    }
    j["rows"].push_back(std::move(row));
  }
  return j;
}

namespace {

// A summary number for a footer: integers as counts, others to 1 decimal
// (log-likelihood, AIC) or 3 significant digits when small.
std::string FooterNumber(const nlohmann::ordered_json& v, int digits = 1) {
  if (v.is_number_integer()) return FormatCount(v.get<std::int64_t>());
  if (!v.is_number()) return SummaryText(v);
  const double d = v.get<double>();
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15) return FormatCount(static_cast<std::int64_t>(d));
  if (std::isfinite(d) && d != 0 && std::fabs(d) < 0.01) return fmt::format("{:.3g}", d);
  return FormatNumber(d, digits);
}

// The model's line: its fit statistics in words, in a fixed order.
std::string ModelLine(const nlohmann::ordered_json& s, std::set<std::string>& used,
                      std::optional<std::int64_t> rows_used = std::nullopt) {
  std::vector<std::string> parts;
  auto take = [&](const char* key) -> const nlohmann::ordered_json* {
    if (!s.is_object() || !s.contains(key) || s[key].is_null()) return nullptr;
    used.insert(key);
    return &s[key];
  };
  if (const auto* v = take("model")) parts.push_back(SummaryText(*v));
  if (const auto* v = take("method")) parts.push_back("method " + SummaryText(*v));
  if (const auto* v = take("k")) parts.push_back(fmt::format("k = {} studies", FooterNumber(*v)));
  if (const auto* v = take("tau2")) parts.push_back("tau\u00b2 " + FooterNumber(*v, 4));
  if (const auto* v = take("i2")) parts.push_back(fmt::format("I\u00b2 {}%", FooterNumber(*v, 1)));
  if (const auto* v = take("h2")) parts.push_back("H\u00b2 " + FooterNumber(*v, 2));
  if (const auto* q = take("q")) {
    std::string text = "Q " + FooterNumber(*q, 2);
    if (const auto* df = take("q_df")) text += fmt::format(" on {} df", FooterNumber(*df));
    if (const auto* p = take("q_p_value"); p && p->is_number()) text += ", p " + FormatPValue(p->get<double>());
    parts.push_back(text);
  }
  if (const auto* v = take("nobs")) {
    // the n of the rows-used line says it already
    if (!(v->is_number() && rows_used && v->get<double>() == static_cast<double>(*rows_used)))
      parts.push_back("n = " + FooterNumber(*v));
  }
  if (const auto* v = take("events")) parts.push_back("events " + FooterNumber(*v));
  if (const auto* v = take("groups")) {
    if (v->is_object()) {
      std::vector<std::string> groups;  // lme4's "groups: site, 6; sex, 2" as one part
      for (const auto& [k, g] : v->items()) groups.push_back(fmt::format("{} {}", k, FooterNumber(g)));
      if (!groups.empty()) parts.push_back(fmt::format("groups: {}", fmt::join(groups, ", ")));
    } else {
      std::string unit = "groups";
      if (s.contains("random") && s["random"].is_string()) unit = "groups of " + s["random"].get<std::string>();
      used.insert("random");
      parts.push_back(fmt::format("{} {}", FooterNumber(*v), unit));
    }
  }
  if (const auto* v = take("clusters")) parts.push_back(FooterNumber(*v) + " clusters");
  if (const auto* v = take("random_intercept_sd")) parts.push_back("random intercept SD " + FooterNumber(*v, 3));
  if (const auto* v = take("r_squared")) parts.push_back("R\u00b2 " + FooterNumber(*v, 3));
  if (const auto* v = take("adj_r_squared")) parts.push_back("adjusted R\u00b2 " + FooterNumber(*v, 3));
  if (const auto* v = take("sigma")) parts.push_back("residual SD " + FooterNumber(*v, 3));
  if (const auto* f = take("f_statistic")) {
    std::string text = "F " + FooterNumber(*f, 2);
    const auto* d1 = take("f_df1");
    const auto* d2 = take("f_df2");
    if (d1 && d2) text += fmt::format(" on {} and {} df", FooterNumber(*d1), FooterNumber(*d2));
    if (const auto* p = take("f_p_value"); p && p->is_number()) text += ", p " + FormatPValue(p->get<double>());
    parts.push_back(text);
  }
  if (const auto* v = take("log_likelihood")) parts.push_back("log-likelihood " + FooterNumber(*v));
  if (const auto* v = take("deviance")) parts.push_back("deviance " + FooterNumber(*v));
  if (const auto* v = take("null_deviance")) parts.push_back("null deviance " + FooterNumber(*v));
  if (const auto* v = take("aic")) parts.push_back("AIC " + FooterNumber(*v));
  if (const auto* v = take("bic")) parts.push_back("BIC " + FooterNumber(*v));
  if (const auto* v = take("df_residual")) parts.push_back("residual df " + FooterNumber(*v));
  const auto* iterations = take("iterations");
  if (const auto* v = take("converged"); v && v->is_boolean()) {
    std::string text = v->get<bool>() ? "converged" : "did NOT converge";
    if (iterations) text += fmt::format(" in {} iterations", FooterNumber(*iterations));
    parts.push_back(text);
  }
  if (const auto* v = take("singular"); v && v->is_boolean()) {
    if (v->get<bool>()) parts.push_back("singular fit");
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace

std::vector<std::string> SummaryFooter(const AnalysisResultSet& result, const ReportStyle& style) {
  std::vector<std::string> lines;
  std::string used = fmt::format("n = {} rows used", FormatCount(result.rows_used));
  std::vector<std::string> reasons;
  if (result.diagnostics.contains("excluded_because") && result.diagnostics["excluded_because"].is_object()) {
    for (const auto& [k, v] : result.diagnostics["excluded_because"].items())
      reasons.push_back(fmt::format("{} {}", k, FooterNumber(v)));
  }
  used += fmt::format(" ({} excluded{})", FormatCount(result.rows_excluded),
                      reasons.empty() ? "" : fmt::format(": {}", fmt::join(reasons, ", ")));
  if (result.min_cell) used += fmt::format("; counts below {} suppressed", *result.min_cell);
  lines.push_back(used);
  if (result.diagnostics.contains("censored") && result.diagnostics["censored"].is_object()) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : result.diagnostics["censored"].items())
      parts.push_back(fmt::format("{}: {}", k, SummaryText(v)));
    lines.push_back("censored values: " + fmt::format("{}", fmt::join(parts, "; ")));
  }
  std::set<std::string> taken = {"strata"};
  const std::string model = ModelLine(result.summary, taken, result.rows_used);
  if (!model.empty()) lines.push_back(model);
  // What is left: the request's context and warnings, one line each.
  for (const auto& [k, v] : result.summary.items()) {
    if (taken.count(k)) continue;
    std::string key = k;
    std::replace(key.begin(), key.end(), '_', ' ');
    const bool numbers = v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_number(); });
    if (numbers) {  // theta, a vector: one line
      std::vector<std::string> items;
      for (const auto& item : v) items.push_back(SummaryText(item));
      lines.push_back(fmt::format("{}: {}", key, fmt::join(items, ", ")));
    } else if (v.is_array()) {
      for (const auto& item : v) lines.push_back(fmt::format("{}: {}", key, SummaryText(item)));
    } else {
      lines.push_back(fmt::format("{}: {}", key, SummaryText(v)));
    }
  }
  if (result.summary.contains("strata") && result.summary["strata"].is_object()) {
    for (const auto& [label, s] : result.summary["strata"].items()) {
      std::set<std::string> stratum_taken;
      std::string line = ModelLine(s, stratum_taken);
      for (const auto& [k, v] : s.items()) {
        if (stratum_taken.count(k)) continue;
        line += fmt::format("{}{}: {}", line.empty() ? "" : "; ", k, SummaryText(v));
      }
      std::string name = label;
      for (const ResultRow& r : result.rows) {
        if (r.stratum == label) {
          name = StratumName(r, style);
          break;
        }
      }
      lines.push_back(fmt::format("[{}] {}", name, line));
    }
  }
  return lines;
}

void WriteReport(std::ostream& out, const AnalysisResultSet& result, OutputFormat format, const ReportStyle& style) {
  if (format == OutputFormat::kCsv) {
    WriteTable(out, TidyTable(result), format);
    return;
  }
  if (format == OutputFormat::kJson) {
    out << ResultJson(result).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    return;
  }
  const bool markdown = format == OutputFormat::kMarkdown;
  for (const ReportTable& t : PaperTables(result, style)) {
    out << (markdown ? "### " : "") << t.title << "\n" << (markdown ? "\n" : "");
    WriteTable(out, t.table, format);
    out << '\n';
  }
  for (const std::string& line : SummaryFooter(result, style)) out << (markdown ? "- " : "") << line << '\n';
}

}  // namespace cohortdb::analysis

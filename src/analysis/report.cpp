#include "analysis/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

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

std::string Ci(double low, double high, int digits) {
  if (std::isnan(low) || std::isnan(high)) return "";
  return fmt::format("{} to {}", FormatNumber(low, digits), FormatNumber(high, digits));
}

// "0.87 (0.79-0.95)" for ratios (always positive), "-0.48 (-0.71 to -0.26)"
// for differences and correlations.
std::string EstimateCi(double est, double low, double high, int digits, bool ratio = false) {
  if (std::isnan(est)) return "NA";
  if (std::isnan(low)) return FormatNumber(est, digits);
  return fmt::format("{} ({}{}{})", FormatNumber(est, digits), FormatNumber(low, digits),
                     ratio ? "-" : " to ", FormatNumber(high, digits));
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

void Table1(const AnalysisResultSet& result, std::vector<ReportTable>& out) {
  for (const std::string& stratum : Strata(result, "table1")) {
    std::vector<std::string> groups;
    for (const ResultRow& r : result.rows) {
      if (r.section != "table1" || r.stratum != stratum) continue;
      const std::string g = ExtraText(r, "group");
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    std::map<std::string, const ResultRow*> tests;
    for (const ResultRow& r : result.rows) {
      if (r.section == "tests" && r.stratum == stratum) tests[r.term] = &r;
    }
    std::vector<std::string> columns = {"Variable"};
    for (const auto& g : groups) columns.push_back(g);
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
      if (summary == "n (%)" && !headed.count(variable)) {
        headed.insert(variable);
        Row head(columns.size(), std::string());
        head[0] = variable + ", n (%)";
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
        if (summary == "n (%)") {
          row[0] = "  " + ExtraText(r, "level");
        } else if (summary == "n") {
          row[0] = "n";
        } else {
          row[0] = fmt::format("{}, {}", r.term, summary);
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
template <typename F>
void SectionTable(const AnalysisResultSet& result, const std::string& section, const std::string& title,
                  std::vector<std::string> columns, std::vector<ReportTable>& out, F&& cells) {
  const bool strata = HasStratum(result, section);
  if (strata) columns.insert(columns.begin(), "Stratum");
  // Why a row has no estimate ("'x' is constant ...") goes into a Note
  // column; odds ratios say it in their own cell.
  const bool notes = section != "odds_ratios";
  if (notes) columns.push_back("Note");
  std::vector<Row> rows;
  for (const ResultRow& r : result.rows) {
    if (r.section != section) continue;
    Row row = cells(r);
    if (strata) row.insert(row.begin(), r.stratum.empty() ? std::string("overall") : r.stratum);
    if (notes) row.push_back(r.extra.contains("note") ? ExtraText(r, "note") : std::string());
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
  std::string s = fmt::format("{:.{}f}", value, digits);
  if (s == fmt::format("-{:.{}f}", 0.0, digits)) s = s.substr(1);
  return s;
}

std::vector<ReportTable> PaperTables(const AnalysisResultSet& result) {
  std::vector<ReportTable> out;
  bool has_or = false;
  for (const ResultRow& r : result.rows) has_or = has_or || r.section == "odds_ratios";
  Table1(result, out);
  SectionTable(
      result, "correlations", "Correlations", {"x", "y", "n", "r (95% CI)", "p", "p adjusted"}, out,
      [&](const ResultRow& r) -> Row {
        return {ExtraText(r, "x"),
                ExtraText(r, "y"),
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
    SectionTable(result, "coefficients", "Coefficients", cols, out, [&](const ResultRow& r) -> Row {
      Row row = {r.term,
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
  SectionTable(result, "odds_ratios", "Odds ratios", {"Term", "OR (95% CI)", "p"}, out,
               [&](const ResultRow& r) -> Row {
                 std::string term = r.term;
                 term += PerSdLabel(r);
                 std::string or_text = EstimateCi(r.estimate, r.conf_low, r.conf_high, 2, true);
                 if (r.extra.contains("note")) or_text = "not estimable: " + ExtraText(r, "note");
                 return {term, or_text, FormatPValue(r.p_value)};
               });
  if (result.command != "describe") {
    SectionTable(
        result, "tests", "Tests", {"Variable", "Test", "Difference (95% CI)", "Statistic", "df", "n", "p"},
        out, [&](const ResultRow& r) -> Row {
          std::string n = N(r);
          if (IsSuppressed(r)) n = SuppressedText(result, r, false);
          return {r.term,
                  ExtraText(r, "test"),
                  std::isnan(r.estimate) ? std::string() : EstimateCi(r.estimate, r.conf_low, r.conf_high, 2),
                  FormatNumber(r.statistic, 2),
                  Df(ExtraNumber(r, "df")),
                  n,
                  P(r.p_value)};
        });
  }
  SectionTable(result, "prevalence", "Prevalence", {"Category", "n", "Cases", "%"}, out,
               [&](const ResultRow& r) -> Row {
                 if (IsSuppressed(r)) {
                   const std::string s = SuppressedText(result, r, false);
                   return {ExtraText(r, "level"), s, s, s};
                 }
                 return {ExtraText(r, "level"), N(r), ExtraText(r, "cases"), FormatNumber(r.estimate, 1)};
               });
  SectionTable(result, "mediation", "Mediation", {"Effect", "Estimate", "95% CI", "p"}, out,
               [&](const ResultRow& r) -> Row {
                 return {r.term, FormatNumber(r.estimate, 3), Ci(r.conf_low, r.conf_high, 3), P(r.p_value)};
               });
  const bool ratio = result.parameters.contains("measure") && result.parameters["measure"] == "OR";
  auto effect = [&](const ResultRow& r) {
    return ratio ? EstimateCi(std::exp(r.estimate), std::exp(r.conf_low), std::exp(r.conf_high), 2, true)
                 : EstimateCi(r.estimate, r.conf_low, r.conf_high, 2);
  };
  SectionTable(result, "studies", "Studies",
               {"Study", "n", ratio ? "OR (95% CI)" : "Effect (95% CI)", "Weight %"}, out,
               [&](const ResultRow& r) -> Row {
                 return {r.term, N(r), effect(r), FormatNumber(ExtraNumber(r, "weight_percent"), 1)};
               });
  SectionTable(result, "pooled", "Pooled",
               {"Model", "k", ratio ? "OR (95% CI)" : "Effect (95% CI)", "p", "tau^2", "I^2 %", "Q p",
                "Prediction interval"},
               out, [&](const ResultRow& r) -> Row {
                 const double lo = ExtraNumber(r, "pi_low"), hi = ExtraNumber(r, "pi_high");
                 return {r.term,
                         N(r),
                         effect(r),
                         FormatPValue(r.p_value),
                         FormatNumber(ExtraNumber(r, "tau2"), 4),
                         FormatNumber(ExtraNumber(r, "i2"), 1),
                         FormatPValue(ExtraNumber(r, "q_p_value")),
                         ratio ? Ci(std::exp(lo), std::exp(hi), 2) : Ci(lo, hi, 2)};
               });
  SectionTable(result, "meta_regression", "Meta-regression", {"Term", "Estimate", "95% CI", "SE", "z", "p"},
               out, [&](const ResultRow& r) -> Row {
                 return {r.term,
                         FormatNumber(r.estimate, 4),
                         Ci(r.conf_low, r.conf_high, 4),
                         FormatNumber(r.std_error, 4),
                         FormatNumber(r.statistic, 2),
                         FormatPValue(r.p_value)};
               });
  SectionTable(result, "interaction", "Interaction test", {"Test", "Kind", "Statistic", "df", "p"}, out,
               [&](const ResultRow& r) -> Row {
                 return {r.term, ExtraText(r, "test"), FormatNumber(r.statistic, 2), Df(ExtraNumber(r, "df")),
                         P(r.p_value)};
               });
  return out;
}

QueryResult TidyTable(const AnalysisResultSet& result) {
  QueryResult t;
  t.columns = {"section",   "stratum", "term",     "estimate",  "std_error",
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
    Row row = {r.section,         r.stratum,       r.term,           real(r.estimate), real(r.std_error),
               real(r.statistic), real(r.p_value), real(r.conf_low), real(r.conf_high)};
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

void WriteReport(std::ostream& out, const AnalysisResultSet& result, OutputFormat format) {
  if (format == OutputFormat::kCsv) {
    WriteTable(out, TidyTable(result), format);
    return;
  }
  if (format == OutputFormat::kJson) {
    out << ResultJson(result).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    return;
  }
  const bool markdown = format == OutputFormat::kMarkdown;
  for (const ReportTable& t : PaperTables(result)) {
    out << (markdown ? "### " : "") << t.title << "\n" << (markdown ? "\n" : "");
    WriteTable(out, t.table, format);
    out << '\n';
  }
  std::string used = fmt::format("{} rows used, {} excluded", result.rows_used, result.rows_excluded);
  if (result.diagnostics.contains("excluded_because") && !result.diagnostics["excluded_because"].empty()) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : result.diagnostics["excluded_because"].items())
      parts.push_back(fmt::format("{}: {}", k, v.dump()));
    used += fmt::format(" ({})", fmt::join(parts, ", "));
  }
  if (result.min_cell) used += fmt::format("; counts below {} suppressed", *result.min_cell);
  out << (markdown ? "- " : "") << used << '\n';
  if (result.diagnostics.contains("censored")) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : result.diagnostics["censored"].items())
      parts.push_back(fmt::format("{}: {}", k, v.get<std::string>()));
    out << (markdown ? "- " : "") << "censored values: " << fmt::format("{}", fmt::join(parts, "; ")) << '\n';
  }
  for (const auto& [k, v] : result.summary.items()) {
    if (k == "strata") {
      for (const auto& [label, s] : v.items())
        out << (markdown ? "- " : "") << label << ": " << SummaryText(s) << '\n';
      continue;
    }
    out << (markdown ? "- " : "") << k << ": " << SummaryText(v) << '\n';
  }
}

}  // namespace cohortdb::analysis

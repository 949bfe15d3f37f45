#include "recipes/result_output.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "analysis/report.h"
#include "common/error.h"
#include "common/output_file.h"
#include "common/table_writer.h"

namespace cohortdb::recipes {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kTidyColumns[] = {"section",  "stratum",   "term",      "label",   "estimate", "std_error",
                                        "statistic", "p_value", "conf_low", "conf_high", "n"};

SqlValue Real(double value) {
  if (std::isnan(value)) return std::monostate{};
  return value;
}

SqlValue FromJson(const Json& value) {
  if (value.is_null()) return std::monostate{};
  if (value.is_boolean()) return static_cast<std::int64_t>(value.get<bool>() ? 1 : 0);
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number()) return Real(value.get<double>());
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::vector<std::string> ExtraKeys(const std::vector<ResultRow>& rows) {
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const ResultRow& row : rows) {
    if (!row.extra.is_object()) continue;
    for (const auto& [key, value] : row.extra.items()) {
      if (seen.insert(key).second) keys.push_back(key);
    }
  }
  return keys;
}

// Rounds for reading: 3 decimals, or 3 significant digits below 0.01.
double Rounded(double value) {
  if (value == 0 || !std::isfinite(value)) return value;
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e6) return std::round(value);
  if (magnitude >= 0.01) return std::round(value * 1000) / 1000;
  const double scale = std::pow(10.0, 2 - std::floor(std::log10(magnitude)));
  return std::round(value * scale) / scale;
}

void WriteText(const std::filesystem::path& path, const std::string& text) {
  WriteOutputFile(path.string(), text, "--out", "the step's run was recorded before its files");
}

}  // namespace

QueryResult TidyTable(const std::vector<ResultRow>& rows) {
  QueryResult table;
  for (const char* column : kTidyColumns) table.columns.emplace_back(column);
  const std::vector<std::string> extras = ExtraKeys(rows);
  for (const std::string& key : extras) table.columns.push_back(key);
  for (const ResultRow& row : rows) {
    std::vector<SqlValue> values = {row.section,
                                    row.stratum.empty() ? SqlValue(std::monostate{}) : SqlValue(row.stratum),
                                    row.term,
                                    row.label.empty() ? row.term : row.label,
                                    Real(row.estimate),
                                    Real(row.std_error),
                                    Real(row.statistic),
                                    Real(row.p_value),
                                    Real(row.conf_low),
                                    Real(row.conf_high),
                                    row.n ? SqlValue(*row.n) : SqlValue(std::monostate{})};
    for (const std::string& key : extras) {
      values.push_back(row.extra.is_object() && row.extra.contains(key) ? FromJson(row.extra.at(key))
                                                                        : SqlValue(std::monostate{}));
    }
    table.rows.push_back(std::move(values));
  }
  return table;
}

QueryResult ReadableTable(const std::vector<ResultRow>& rows) {
  const QueryResult tidy = TidyTable(rows);
  std::vector<std::size_t> keep;
  for (std::size_t c = 0; c < tidy.columns.size(); ++c) {
    bool any = false;
    bool varies = false;
    for (const auto& row : tidy.rows) {
      any = any || !std::holds_alternative<std::monostate>(row[c]);
      varies = varies || row[c] != tidy.rows.front()[c];
    }
    if (!any) continue;
    if (tidy.columns[c] == "section" && !varies) continue;
    keep.push_back(c);
  }
  QueryResult table;
  for (std::size_t c : keep) table.columns.push_back(tidy.columns[c]);
  for (const auto& row : tidy.rows) {
    std::vector<SqlValue> values;
    for (std::size_t c : keep) {
      const SqlValue& v = row[c];
      if (std::holds_alternative<std::monostate>(v)) {
        values.emplace_back(std::string());
      } else if (const auto* d = std::get_if<double>(&v)) {
        if (tidy.columns[c] == "p_value" && *d < 0.001) {
          values.emplace_back(std::string("<0.001"));
        } else {
          values.emplace_back(Rounded(*d));
        }
      } else {
        values.push_back(v);
      }
    }
    table.rows.push_back(std::move(values));
  }
  return table;
}

Json ResultJson(const AnalysisResultSet& result) { return analysis::ResultJson(result); }

AnalysisResultSet ResultOf(const StoredRun& run) {
  AnalysisResultSet result;
  result.command = run.info.command;
  result.parameters = run.info.parameters;
  result.rows = run.rows;
  result.summary = run.info.summary;
  result.diagnostics = run.info.diagnostics;
  result.rows_used = run.info.rows_used;
  result.rows_excluded = run.info.rows_excluded;
  result.min_cell = run.info.min_cell;
  return result;
}

Json RunJson(const StoredRun& run) {
  const AnalysisRunInfo& i = run.info;
  Json provenance = Json::object();
  provenance["run_id"] = i.run_id;
  provenance["recipe"] = i.recipe_name.empty() ? Json() : Json(i.recipe_name);
  provenance["recipe_version"] = i.recipe_version ? Json(*i.recipe_version) : Json();
  provenance["recipe_step"] = i.recipe_step.empty() ? Json() : Json(i.recipe_step);
  provenance["data_fingerprint"] = i.data_fingerprint;
  provenance["tool_version"] = i.tool_version;
  provenance["started_at"] = i.started_at;
  provenance["elapsed_ms"] = i.elapsed_ms;
  Json out = Json::object();
  out["provenance"] = std::move(provenance);
  const Json result = ResultJson(ResultOf(run));
  for (const auto& [key, value] : result.items()) out[key] = value;
  return out;
}

void PrepareOutputFolder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create output folder: {}", dir.string(), ec.message()));
  const std::filesystem::path probe = dir / ".cohortdb-write-check";
  {
    std::ofstream out(probe, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw InputError(fmt::format("{}: cannot write files in the output folder: {}", dir.string(),
                                   std::strerror(errno)));
    }
  }
  std::filesystem::remove(probe, ec);
}

std::vector<std::filesystem::path> WriteStepFiles(const std::filesystem::path& dir, const std::string& step,
                                                  const AnalysisResultSet& result, std::int64_t run_id) {
  PrepareOutputFolder(dir);
  std::vector<std::filesystem::path> written;
  // The same CSV and JSON the analysis commands write with --format.
  std::ostringstream csv;
  analysis::WriteReport(csv, result, OutputFormat::kCsv);
  written.push_back(dir / (step + ".csv"));
  WriteText(written.back(), csv.str());
  Json json = Json::object();
  json["run_id"] = run_id;
  const Json body = analysis::ResultJson(result);
  for (const auto& [key, value] : body.items()) json[key] = value;
  written.push_back(dir / (step + ".json"));
  WriteText(written.back(), json.dump(2) + "\n");
  if (!result.plot_svg.empty()) {
    written.push_back(dir / (step + ".svg"));
    WriteText(written.back(), result.plot_svg);
  }
  return written;
}

}  // namespace cohortdb::recipes

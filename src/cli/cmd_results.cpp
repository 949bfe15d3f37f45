// results: the analysis runs recorded in a store, one run with its provenance
// and rows, an HTML report of recorded runs, and the differences between two
// runs of the same analysis.
#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/result_printing.h"
#include "common/error.h"
#include "common/output_file.h"
#include "common/table_writer.h"
#include "recipes/html_report.h"
#include "recipes/result_output.h"
#include "recipes/run_report.h"
#include "store/provenance.h"
#include "store/store.h"

namespace cohortdb::cli {
namespace {

using Json = nlohmann::ordered_json;

struct ResultsOptions {
  std::string store;
  std::vector<std::int64_t> runs;
  std::vector<std::int64_t> diff;
  std::string report;
  std::string format = "table";
  double tolerance = kDefaultDiffTolerance;
  bool codes = false;
};

SqlValue Text(const std::string& text) {
  if (text.empty()) return std::monostate{};
  return text;
}

std::string RecipeLabel(const AnalysisRunInfo& run) {
  if (run.recipe_name.empty()) return "";
  return fmt::format("{} v{} / {}", run.recipe_name, run.recipe_version.value_or(0), run.recipe_step);
}

QueryResult RunList(const std::vector<AnalysisRunInfo>& runs) {
  QueryResult table;
  table.columns = {"run",        "command",   "recipe / step", "started_at",
                   "elapsed_ms", "rows_used", "rows_excluded", "fingerprint"};
  for (const AnalysisRunInfo& r : runs) {
    table.rows.push_back({r.run_id, r.command, Text(RecipeLabel(r)), r.started_at,
                          std::round(r.elapsed_ms * 10) / 10, r.rows_used, r.rows_excluded,
                          r.data_fingerprint.substr(0, 12)});
  }
  return table;
}

// The provenance of a run as lines a person reads top to bottom.
void PrintProvenance(std::ostream& out, const AnalysisRunInfo& r) {
  out << fmt::format("run {}: {}", r.run_id, r.command);
  if (!r.recipe_name.empty()) {
    out << fmt::format(" (recipe {} version {}, step {})", r.recipe_name, r.recipe_version.value_or(0),
                       r.recipe_step);
  }
  out << fmt::format("\nstarted {}, took {:.1f} ms, cohortdb {}\n", r.started_at, r.elapsed_ms,
                     r.tool_version);
  out << fmt::format("data fingerprint {}\n", r.data_fingerprint);
  out << fmt::format("rows used {}, excluded {}; min cell {}\n", r.rows_used, r.rows_excluded,
                     r.min_cell ? std::to_string(*r.min_cell) : std::string("none"));
  out << "parameters:\n";
  for (const auto& [key, value] : r.parameters.items()) out << fmt::format("  {} = {}\n", key, value.dump());
  out << '\n';
}

// A value of a diff: exact for csv/json, 6 significant digits for reading.
SqlValue Number(const std::optional<double>& value, bool readable) {
  if (!value) return std::monostate{};
  if (!readable || *value == 0 || !std::isfinite(*value)) return *value;
  return std::stod(fmt::format("{:.6g}", *value));
}

const char* ChangeName(RowChange change) {
  switch (change) {
    case RowChange::kChanged:
      return "changed";
    case RowChange::kAdded:
      return "added";
    case RowChange::kRemoved:
      return "removed";
  }
  return "";
}

QueryResult ParameterTable(const RunDiff& diff) {
  QueryResult table;
  table.columns = {"parameter", "run_a", "run_b"};
  for (const ParameterChange& p : diff.parameters) {
    table.rows.push_back({p.name,
                          p.old_value.is_null() ? SqlValue(std::monostate{}) : SqlValue(p.old_value.dump()),
                          p.new_value.is_null() ? SqlValue(std::monostate{}) : SqlValue(p.new_value.dump())});
  }
  return table;
}

QueryResult EditTable(const RunDiff& diff) {
  QueryResult table;
  table.columns = {"edit", "edited_at", "rows_changed", "objects", "statement"};
  for (const DataEdit& e : diff.edits) {
    std::string objects;
    for (const std::string& o : e.objects) objects += (objects.empty() ? "" : ", ") + o;
    table.rows.push_back({e.edit_id, e.edited_at, e.rows_changed, objects, e.statement});
  }
  return table;
}

QueryResult RowTable(const RunDiff& diff, bool readable) {
  QueryResult table;
  table.columns = {"change", "section", "stratum", "term", "field", "run_a", "run_b", "delta"};
  for (const RowDiff& row : diff.rows) {
    const SqlValue stratum = readable ? SqlValue(row.stratum) : Text(row.stratum);
    const std::string term = row.term_a.empty() ? row.term : row.term_a + " -> " + row.term;
    if (row.values.empty()) {
      table.rows.push_back({ChangeName(row.change), row.section, stratum, term, std::monostate{},
                            std::monostate{}, std::monostate{}, std::monostate{}});
    }
    for (const ValueChange& v : row.values) {
      table.rows.push_back({ChangeName(row.change), row.section, stratum, term, v.field,
                            Number(v.old_value, readable), Number(v.new_value, readable),
                            Number(v.delta(), readable)});
    }
  }
  return table;
}

Json DiffJson(const RunDiff& diff) {
  Json out = Json::object();
  out["run_a"] = diff.run_a.run_id;
  out["run_b"] = diff.run_b.run_id;
  out["command"] = diff.run_a.command;
  out["fingerprint_changed"] = diff.fingerprint_changed;
  out["fingerprint_a"] = diff.run_a.data_fingerprint;
  out["fingerprint_b"] = diff.run_b.data_fingerprint;
  Json edits = Json::array();
  for (const DataEdit& e : diff.edits) {
    edits.push_back({{"edit", e.edit_id},
                     {"edited_at", e.edited_at},
                     {"rows_changed", e.rows_changed},
                     {"objects", e.objects},
                     {"statement", e.statement}});
  }
  out["edits"] = std::move(edits);
  out["tool_version_a"] = diff.run_a.tool_version;
  out["tool_version_b"] = diff.run_b.tool_version;
  Json parameters = Json::array();
  for (const ParameterChange& p : diff.parameters) {
    parameters.push_back({{"parameter", p.name}, {"run_a", p.old_value}, {"run_b", p.new_value}});
  }
  out["parameters"] = std::move(parameters);
  Json rows = Json::array();
  for (const RowDiff& row : diff.rows) {
    Json values = Json::array();
    for (const ValueChange& v : row.values) {
      auto number = [](const std::optional<double>& x) { return x ? Json(*x) : Json(); };
      values.push_back({{"field", v.field},
                        {"run_a", number(v.old_value)},
                        {"run_b", number(v.new_value)},
                        {"delta", number(v.delta())}});
    }
    rows.push_back({{"change", ChangeName(row.change)},
                    {"section", row.section},
                    {"stratum", row.stratum},
                    {"term", row.term},
                    {"term_a", row.term_a.empty() ? Json() : Json(row.term_a)},
                    {"values", std::move(values)}});
  }
  out["rows"] = std::move(rows);
  out["identical"] = diff.Identical();
  return out;
}

void PrintDiff(const RunDiff& diff, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::cout << DiffJson(diff).dump(2) << '\n';
    return;
  }
  if (format == OutputFormat::kCsv) {
    WriteTable(std::cout, RowTable(diff, false), format);
    return;
  }
  const AnalysisRunInfo& a = diff.run_a;
  const AnalysisRunInfo& b = diff.run_b;
  std::cout << fmt::format("{}: run {} ({}) -> run {} ({})\n", a.command, a.run_id, a.started_at, b.run_id,
                           b.started_at);
  std::cout << (diff.fingerprint_changed
                    ? fmt::format("data: changed (fingerprint {} -> {})\n", a.data_fingerprint.substr(0, 12),
                                  b.data_fingerprint.substr(0, 12))
                    : fmt::format("data: unchanged (fingerprint {})\n", a.data_fingerprint.substr(0, 12)));
  if (!diff.edits.empty()) {
    std::cout << fmt::format("data edits between the two runs (sql --write):\n");
    WriteTable(std::cout, EditTable(diff), format);
  }
  if (diff.tool_version_changed) {
    std::cout << fmt::format("tool version: {} -> {}\n", a.tool_version, b.tool_version);
  }
  if (diff.parameters.empty()) {
    std::cout << "parameters: unchanged\n";
  } else {
    std::cout << "\nparameters changed:\n";
    WriteTable(std::cout, ParameterTable(diff), format);
  }
  if (diff.rows.empty()) {
    std::cout << "results: unchanged\n";
  } else {
    std::cout << "\nresults changed:\n";
    WriteTable(std::cout, RowTable(diff, true), format);
  }
}

void PrintRun(const StoredRun& run, OutputFormat format, bool codes) {
  if (format == OutputFormat::kJson) {
    std::cout << recipes::RunJson(run).dump(2) << '\n';
    return;
  }
  if (format == OutputFormat::kCsv) {
    WriteTable(std::cout, recipes::TidyTable(run.rows), format);
    return;
  }
  PrintProvenance(std::cout, run.info);
  PrintResult(std::cout, recipes::ResultOf(run), format, codes);
}

// The usage errors of RUN, --diff and --report, before the store is opened.
void CheckRunArguments(const ResultsOptions& o, bool format_given) {
  if (!o.report.empty()) {
    if (!o.diff.empty())
      throw UsageError("results: --report writes the runs given as RUN; it does not take --diff");
    if (o.runs.empty()) {
      throw UsageError(
          fmt::format("results: --report needs one or more RUN (`cohortdb results {}` lists them)", o.store));
    }
    if (format_given) throw UsageError("results: --report writes HTML; it does not take --format");
    std::set<std::int64_t> seen;
    for (const std::int64_t run : o.runs) {
      if (!seen.insert(run).second) throw UsageError(fmt::format("results: run {} is given twice", run));
    }
    return;
  }
  if (o.runs.size() > 1) {
    throw UsageError(
        fmt::format("results: give one RUN, or several with --report FILE.html (found {})", o.runs.size()));
  }
  if (!o.diff.empty() && !o.runs.empty())
    throw UsageError("results: give either RUN or --diff RUN_A RUN_B, not both");
}

// Writes the report of the runs given (the store is only read).
int WriteRunReport(Store& store, const ResultsOptions& o) {
  CheckOutputFileWritable(o.report, "--report", "no report was written");
  recipes::RunReport report = recipes::RecordedRunsReport(store, o.store, o.runs);
  report.generated_at = NowUtc();
  report.codes = o.codes;
  WriteOutputFile(o.report, recipes::RunReportHtml(report), "--report", "the store is unchanged");
  std::string ids;
  for (const std::int64_t run : o.runs) ids += fmt::format("{}{}", ids.empty() ? "" : ", ", run);
  if (report.recipe) {
    std::cout << fmt::format("report of recipe {} version {} (runs {}) written to {}\n", report.recipe->name,
                             report.recipe->version, ids, o.report);
  } else {
    std::cout << fmt::format("report of runs {} written to {}\n", ids, o.report);
  }
  CheckWritten(std::cout, "standard output", "the report was written; the store is unchanged");
  return 0;
}

}  // namespace

std::function<int()> SetupResults(CLI::App& app) {
  auto o = std::make_shared<ResultsOptions>();
  app.add_option("STORE", o->store, "Path of the store")->required();
  app.add_option(
      "RUN", o->runs,
      "Show this run's provenance and rows (default: list every run); with --report, one or more runs");
  app.add_option("--diff", o->diff, "Compare two runs of the same analysis: --diff RUN_A RUN_B")->expected(2);
  CLI::Option* format_option =
      app.add_option("--format", o->format, "Output format: table|box|csv|json|markdown")
          ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown"}));
  app.add_option(
      "--report", o->report,
      "Write one self-contained HTML report of the runs given as RUN (tables, plots, provenance) to this "
      "file, in the order given");
  app.add_option("--tolerance", o->tolerance,
                 "With --diff: values count as equal within this relative difference (absolute near 0), as R's "
                 "all.equal; default 1.5e-8, 0 compares exactly")
      ->check(CLI::NonNegativeNumber);
  app.add_flag(
      "--codes", o->codes,
      "Name variables and levels by their codes instead of their catalog labels (terminal formats and "
      "--report)");
  return [o, format_option] {
    CheckRunArguments(*o, format_option->count() > 0);
    Store store = Store::Open(o->store, OpenMode::kReadOnly);
    const OutputFormat format = *ParseOutputFormat(o->format);
    // A run id given as 0 (or less) names no run; --tolerance NaN compares nothing.
    for (const std::int64_t run : o->runs) {
      if (run < 1) {
        throw InputError(
            fmt::format("no analysis run {} in {}: run ids start at 1 (`cohortdb results {}` lists them)",
                        run, o->store, o->store));
      }
    }
    if (!(o->tolerance >= 0)) {  // CLI11's check lets NaN through
      throw UsageError(fmt::format("results: --tolerance: expected a number of 0 or more, found {}", o->tolerance));
    }
    if (!o->report.empty()) return WriteRunReport(store, *o);
    if (!o->diff.empty()) {
      PrintDiff(DiffAnalysisRuns(store, o->diff[0], o->diff[1], o->tolerance), format);
      return 0;
    }
    if (!o->runs.empty()) {
      const std::int64_t id = o->runs.front();
      const auto run = LoadAnalysisRun(store, id);
      if (!run)
        throw InputError(fmt::format("no analysis run {} in {} (`cohortdb results {}` lists them)", id,
                                     o->store, o->store));
      PrintRun(*run, format, o->codes);
      return 0;
    }
    const auto runs = ListAnalysisRuns(store);
    if (runs.empty() && format != OutputFormat::kJson && format != OutputFormat::kCsv) {
      std::cout << "no analysis runs recorded yet\n";
      return 0;
    }
    WriteTable(std::cout, RunList(runs), format);
    return 0;
  };
}

}  // namespace cohortdb::cli

// The analysis commands (describe, correlate, compare, regress, logistic,
// prevalence, mediate, meta, lmm, glm), generated from the analysis registry: each
// OptionSpec becomes a --option, plus --format, --out, --plot FILE.svg and
// --no-record. Every run is recorded as an analysis_run (src/store/provenance.h)
// unless --no-record; the frame is read under the read-only guard.
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "analysis/analysis.h"
#include "analysis/labels.h"
#include "analysis/report.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/output_file.h"
#include "common/table_writer.h"
#include "store/provenance.h"
#include "store/store.h"

namespace cohortdb::cli {
namespace {

struct AnalysisOptions {
  std::string store;
  std::string format = "table";
  std::string out;
  std::string plot;
  bool no_record = false;
  bool codes = false;
  std::map<std::string, std::string> strings;
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, std::int64_t> integers;
  std::map<std::string, double> numbers;
  std::map<std::string, bool> flags;
  std::map<std::string, CLI::Option*> given;
};

}  // namespace

std::function<int()> SetupAnalysis(CLI::App& app) {
  const analysis::AnalysisSpec* spec = analysis::FindAnalysis(app.get_name());
  if (!spec) throw std::logic_error("SetupAnalysis: no analysis named " + app.get_name());
  auto o = std::make_shared<AnalysisOptions>();
  app.add_option("STORE", o->store, "Path of the store")->required();
  for (const analysis::OptionSpec& option : spec->options) {
    const std::string name = option.name;
    const std::string flag = "--" + name;
    CLI::Option* added = nullptr;
    if (name == "plot") {
      added = app.add_option("--plot", o->plot, "Write a forest plot (SVG) to this file");
    } else {
      switch (option.type) {
        case analysis::OptionType::kString:
          added = app.add_option(flag, o->strings[name], option.help);
          break;
        case analysis::OptionType::kStringList:
          // Each --derive, --cut and --ref holds commas of its own, so only
          // those three are not comma-separated lists.
          added = app.add_option(flag, o->lists[name],
                                 std::string(option.help) + (name == "derive" || name == "cut" || name == "ref"
                                                                 ? " (repeatable)"
                                                                 : " (repeatable or comma-separated)"));
          break;
        case analysis::OptionType::kInteger:
          added = app.add_option(flag, o->integers[name], option.help);
          break;
        case analysis::OptionType::kNumber:
          added = app.add_option(flag, o->numbers[name], option.help);
          break;
        case analysis::OptionType::kFlag:
          added = app.add_flag(flag, o->flags[name], option.help);
          break;
      }
    }
    if (option.required && option.required_unless == nullptr) added->required();  // else checked by ValidateRequest
    o->given[name] = added;
  }
  app.add_option("--format", o->format, "Output format: table|box|csv|json|markdown")
      ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown"}));
  app.add_option("--out", o->out, "Write the output to this file instead of standard output");
  app.add_flag("--no-record", o->no_record, "Do not record the run in the store (analysis_run)");
  app.add_flag("--codes", o->codes,
               "Name variables and levels by their codes instead of their catalog labels (terminal formats and --plot; "
               "csv and json always hold both)");
  return [o, spec] {
    analysis::AnalysisRequest request;
    request.command = spec->name;
    request.command_line = true;
    for (const analysis::OptionSpec& option : spec->options) {
      const std::string name = option.name;
      if (o->given[name]->count() == 0) continue;
      if (name == "plot") {
        request.options["plot"] = true;
        continue;
      }
      switch (option.type) {
        case analysis::OptionType::kString:
          request.options[name] = o->strings[name];
          break;
        case analysis::OptionType::kStringList:
          request.options[name] = o->lists[name];
          break;
        case analysis::OptionType::kInteger:
          request.options[name] = o->integers[name];
          break;
        case analysis::OptionType::kNumber:
          request.options[name] = o->numbers[name];
          break;
        case analysis::OptionType::kFlag:
          request.options[name] = o->flags[name];
          break;
      }
    }
    Store store = Store::Open(o->store, o->no_record ? OpenMode::kReadOnly : OpenMode::kReadWrite);
    const auto start = std::chrono::steady_clock::now();
    AnalysisResultSet result = analysis::RunAnalysis(store, request);
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const OutputFormat format = *ParseOutputFormat(o->format);
    analysis::ReportStyle style;
    style.codes = o->codes;
    // Every output is checked before the run is recorded: a failed write
    // leaves the store as it was.
    const char* unrecorded = o->no_record ? "" : "the run was not recorded";
    if (o->out.empty()) {
      analysis::WriteReport(std::cout, result, format, style);
      CheckWritten(std::cout, "standard output", unrecorded);
    } else {
      std::ostringstream report;
      analysis::WriteReport(report, result, format, style);
      WriteOutputFile(o->out, report.str(), "--out", unrecorded);
    }
    if (!o->plot.empty()) {
      if (result.plot_svg.empty()) {
        std::cerr << fmt::format("cohortdb: {} draws no plot; --plot ignored\n", spec->name);
      } else {
        WriteOutputFile(o->plot, analysis::PlotSvg(result, o->codes), "--plot", unrecorded);
      }
    }
    if (!o->no_record) {
      const std::int64_t run = RecordAnalysisRun(store, result, std::nullopt, "", elapsed_ms);
      std::cerr << fmt::format("recorded as run {} (cohortdb results {} {})\n", run, o->store, run);
    }
    return 0;
  };
}

}  // namespace cohortdb::cli

namespace cohortdb::cli {

Command AnalysisCommand(const char* name) {
  const analysis::AnalysisSpec* spec = analysis::FindAnalysis(name);
  if (!spec) throw std::logic_error(std::string("AnalysisCommand: no analysis named ") + name);
  return {spec->name, spec->summary, spec->example, SetupAnalysis};
}

}  // namespace cohortdb::cli

#pragma once
// The analysis registry: every analysis command (describe, correlate, compare,
// regress, logistic, prevalence, mediate, meta, lmm, glm) with its options, in one static
// table from which the CLI builds its subcommands and recipes validate their
// steps. Each analysis lives in its own file and reads its rows with one SQL
// query over the store (the frame).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace cohortdb {
class Store;
}

namespace cohortdb::analysis {

// What an option holds. Lists are given as repeated or comma-separated values
// on the command line and as TOML arrays in recipes.
enum class OptionType { kString, kStringList, kInteger, kNumber, kFlag };

struct OptionSpec {
  const char* name;  // without dashes: "frame", "per-sd", "by"
  OptionType type;
  const char* help;
  bool required = false;
  // The values a text option (each item of a list) may take; empty: any.
  std::vector<std::string> choices = {};
  // Bounds of a numeric option, inclusive.
  std::optional<double> min = {}, max = {};
  // A required option that this other option replaces (--outcome is
  // required unless --formula is given); nullptr: always required.
  const char* required_unless = nullptr;

  // Required for a request that holds the options "has" reports.
  bool RequiredGiven(const std::function<bool(const std::string&)>& has) const {
    return required && (required_unless == nullptr || !has(required_unless));
  }
};

// A request: the analysis name and its options as a JSON object keyed by
// option name (lists as arrays, flags as booleans).
struct AnalysisRequest {
  std::string command;
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  // Typed on the command line: an option value that is not allowed (a choice
  // or bound, --censored, --min-cell) or missing is a UsageError (exit 2),
  // as CLI11's own checks are; from a recipe it is an InputError (exit 3).
  bool command_line = false;
};

struct AnalysisSpec {
  const char* name;
  const char* summary;
  const char* example;
  std::vector<OptionSpec> options;
  // Runs the analysis. Throws InputError for bad options, unknown variables
  // or a frame that does not compile, NumericalError when the model cannot
  // be computed.
  std::function<AnalysisResultSet(Store&, const AnalysisRequest&)> run;
  // Options naming variables that must all differ (a variable may fill one
  // role once: not outcome and predictor, not a predictor twice).
  std::vector<const char*> distinct_roles = {};
  // Draws the forest plot of a finished result from what its run records
  // (parameters, rows with their labels, summary, diagnostics), "" when the
  // request asked for none; may throw InputError. RunAnalysis makes it the
  // result's plot_renderer, and a run read back from the store is drawn by
  // it too (RestoreRecordedPlot), so both draw the same plot. nullptr: the analysis
  // draws no plot and does not take the common --plot option.
  std::string (*plot)(const AnalysisResultSet& result) = nullptr;
};

// Every analysis, in the order help lists them.
const std::vector<AnalysisSpec>& Analyses();

// The spec named "name", or nullptr.
const AnalysisSpec* FindAnalysis(const std::string& name);

// Checks a request completely without computing anything: the analysis
// exists, every option is known and of the right type, required options are
// present, the frame SQL compiles against the store and every variable named
// exists in it. Throws InputError naming the option or variable.
void ValidateRequest(Store& store, const AnalysisRequest& request);

// The options of a valid request as they are recorded with its run (in the
// analysis's option order, absent and null options left out): every list as
// an array of names whether it was typed "a,b", given twice or written as a
// recipe array ("derive" and "cut" items kept whole), numbers as numbers,
// integers as integers, text as text.
nlohmann::ordered_json NormalizedParameters(const AnalysisRequest& request);

// Validates, then runs the request; the result's parameters are
// NormalizedParameters(request).
AnalysisResultSet RunAnalysis(Store& store, const AnalysisRequest& request);

// Gives "result", a run read back from the store (no plot), the forest plot
// its run drew: plot_renderer and plot_svg from its AnalysisSpec::plot, as
// RunAnalysis sets them (nothing when the run asked for no plot). Returns
// why the plot cannot be drawn from the recorded run, nullopt when it was
// drawn or none was asked for: an analysis this build does not know or that
// draws no plot, or recorded rows and parameters the plot refuses.
std::optional<std::string> RestoreRecordedPlot(AnalysisResultSet& result);

}  // namespace cohortdb::analysis

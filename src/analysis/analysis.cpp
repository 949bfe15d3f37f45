#include "analysis/analysis.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/formula.h"
#include "analysis/frame.h"
#include "analysis/labels.h"
#include "analysis/options.h"
#include "analysis/reference_level.h"
#include "analysis/sample.h"
#include "common/close_matches.h"
#include "common/error.h"
#include "store/frame_source.h"

namespace cohortdb::analysis {
namespace {

// List options whose items hold commas of their own, kept whole.
bool IsItemList(const std::string& name) { return name == "derive" || name == "cut" || name == "ref"; }

// Options whose values are R formulas (formula.h); the variables they name
// are Formula::Variables() of the parsed text.
const std::set<std::string>& FormulaOptionNames() {
  static const std::set<std::string> kNames = {"formula", "compare"};
  return kNames;
}

const char* TypeName(OptionType type) {
  switch (type) {
    case OptionType::kString:
      return "a text value";
    case OptionType::kStringList:
      return "a list of names";
    case OptionType::kInteger:
      return "an integer";
    case OptionType::kNumber:
      return "a number";
    case OptionType::kFlag:
      return "true or false";
  }
  return "a value";
}

bool TypeMatches(OptionType type, const nlohmann::ordered_json& v) {
  switch (type) {
    case OptionType::kString:
      return v.is_string() || v.is_number_integer();
    case OptionType::kStringList:
      return v.is_string() ||
             (v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& i) { return i.is_string(); }));
    case OptionType::kInteger:
      return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    case OptionType::kNumber:
      return v.is_number();
    case OptionType::kFlag:
      return v.is_boolean();
  }
  return false;
}

// The levels of frame columns that are known without reading rows: the
// catalog's levels of --study's categorical variables and the levels of
// each --cut column.
std::map<std::string, std::vector<std::string>> LevelsKnownBeforeReading(Store& store, const Options& options) {
  std::map<std::string, std::vector<std::string>> known;
  if (const auto study = options.String("study")) {
    for (const LevelLabels& labels : LoadLevelLabels(store, *study)) {
      std::vector<std::string> levels;
      for (const auto& level : labels.levels) levels.push_back(level.second);
      for (const std::string& column : labels.columns) known[column] = levels;
    }
  }
  for (const std::string& cut : options.Items("cut")) {
    const auto eq = cut.find('=');
    if (eq == std::string::npos) continue;  // ApplyCut reports it
    // The levels ApplyCut gives, from a column without rows.
    Frame empty;
    Column source;
    source.name = cut.substr(0, eq);
    source.name.erase(0, source.name.find_first_not_of(" \t"));
    source.name.erase(source.name.find_last_not_of(" \t") + 1);
    empty.Add(source);
    ApplyCut(empty, cut);
    known[source.name + "_cat"] = empty.Get(source.name + "_cat").levels;
  }
  return known;
}

}  // namespace

std::vector<OptionSpec> CommonOptions() {
  return {
      {"study", OptionType::kString,
       "Study code; its per-participant pivot wide_<study> is the default frame"},
      {"frame", OptionType::kString,
       "A view or table name, or one SELECT statement, giving the rows to analyse"},
      {"censored", OptionType::kString,
       "Censored values (<LOD): exclude (default) | half (limit/2) | sqrt2 (limit/sqrt 2) | limit"},
      {"derive", OptionType::kStringList,
       "Derived variable: NAME=change(VAR, FROM, TO) | NAME=days(DATE, FROM_DATE) | NAME=z(VAR) | NAME=VAR>=VALUE"},
      {"cut", OptionType::kStringList, "Categories from cut points: VAR=500,5000 adds VAR_cat"},
      {"ref", OptionType::kStringList,
       "Reference level of a categorical variable, as R's relevel: VAR=LEVEL (e.g. met_min_week_cat=500-5000)"},
      {"by", OptionType::kString, "Run the analysis per level of this variable, and overall"},
      {"min-cell", OptionType::kInteger,
       "Suppress counts below this number and the percentages derived from them"},
      {"plot", OptionType::kFlag, "Draw a forest plot (SVG); regress, logistic, meta, glm and lmm only"},
  };
}

namespace {

void Suppress(nlohmann::ordered_json& extra, std::optional<std::int64_t>& n, double& estimate,
              const std::vector<std::string>& fields) {
  for (const std::string& f : fields) extra[f] = nullptr;
  extra["suppressed"] = true;
  n.reset();
  estimate = std::numeric_limits<double>::quiet_NaN();
}

bool IsSuppressed(const ResultRow& row) { return row.extra.contains("suppressed"); }

}  // namespace

bool SuppressSmallCount(std::int64_t count, std::optional<std::int64_t> min_cell,
                        nlohmann::ordered_json& extra, std::optional<std::int64_t>& n, double& estimate,
                        const std::vector<std::string>& fields) {
  if (!min_cell || count <= 0 || count >= *min_cell) return false;
  Suppress(extra, n, estimate, fields);
  return true;
}


std::int64_t SuppressComplements(std::vector<ResultRow>& rows, const std::vector<std::vector<std::size_t>>& lines,
                                 const std::function<std::int64_t(const ResultRow&)>& size,
                                 const std::vector<std::string>& fields) {
  std::int64_t added = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (const std::vector<std::size_t>& line : lines) {
      std::size_t suppressed = 0;
      std::optional<std::size_t> smallest;
      std::int64_t smallest_size = 0;
      for (std::size_t i : line) {
        if (IsSuppressed(rows[i])) {
          ++suppressed;
          continue;
        }
        const std::int64_t s = size(rows[i]);
        if (s > 0 && (!smallest || s < smallest_size)) {
          smallest = i;
          smallest_size = s;
        }
      }
      if (suppressed != 1 || !smallest) continue;
      Suppress(rows[*smallest].extra, rows[*smallest].n, rows[*smallest].estimate, fields);
      rows[*smallest].extra["complementary"] = true;
      ++added;
      changed = true;
    }
  }
  return added;
}

std::vector<std::vector<std::size_t>> LinesByKey(const std::vector<ResultRow>& rows,
                                                 const std::function<std::string(const ResultRow&)>& key) {
  std::vector<std::vector<std::size_t>> lines;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string k = key(rows[i]);
    if (k.empty()) continue;
    auto [it, added] = index.emplace(k, lines.size());
    if (added) lines.emplace_back();
    lines[it->second].push_back(i);
  }
  return lines;
}

const std::vector<AnalysisSpec>& Analyses() {
  static const std::vector<AnalysisSpec> kAnalyses = [] {
    std::vector<AnalysisSpec> specs = {DescribeAnalysis(), CorrelateAnalysis(), CompareAnalysis(),
                                       RegressAnalysis(),  LogisticAnalysis(),  PrevalenceAnalysis(),
                                       MediateAnalysis(),  MetaAnalysis(),      LmmAnalysis(),
                                       GlmAnalysis()};
    for (AnalysisSpec& spec : specs) {
      for (const OptionSpec& common : CommonOptions()) {
        const bool present = std::any_of(spec.options.begin(), spec.options.end(), [&](const OptionSpec& o) {
          return std::string(o.name) == common.name;
        });
        if (std::string(common.name) == "plot" && spec.plot == nullptr) continue;
        if (!present) spec.options.push_back(common);
      }
    }
    return specs;
  }();
  return kAnalyses;
}

const AnalysisSpec* FindAnalysis(const std::string& name) {
  for (const AnalysisSpec& spec : Analyses()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

namespace {

// An error in the options themselves (not in the data they name).
[[noreturn]] void OptionError(const AnalysisRequest& request, const std::string& message) {
  if (request.command_line) throw UsageError(message);
  throw InputError(message);
}

}  // namespace

void ValidateRequest(Store& store, const AnalysisRequest& request) {
  const AnalysisSpec* spec = FindAnalysis(request.command);
  if (!spec) {
    std::vector<std::string> names;
    for (const AnalysisSpec& s : Analyses()) names.push_back(s.name);
    const auto close = CloseMatches(request.command, names);
    throw InputError(fmt::format("unknown analysis '{}'{}", request.command,
                                 close.empty() ? fmt::format(" (analyses: {})", fmt::join(names, ", "))
                                               : fmt::format(" (did you mean {}?)", fmt::join(close, ", "))));
  }
  if (!request.options.is_object())
    throw InputError(fmt::format("{}: options must be an object", request.command));

  std::vector<std::string> known;
  for (const OptionSpec& o : spec->options) known.push_back(o.name);
  for (const auto& [key, value] : request.options.items()) {
    // Captured by an init-capture: clang before 16 cannot capture a structured
    // binding (the fuzz build, tools/fuzz/build).
    const auto it = std::find_if(spec->options.begin(), spec->options.end(),
                                 [&name = key](const OptionSpec& o) { return name == o.name; });
    if (it == spec->options.end()) {
      const auto close = CloseMatches(key, known);
      throw InputError(
          fmt::format("{}: unknown option --{}{}", request.command, key,
                      close.empty() ? "" : fmt::format(" (did you mean --{}?)", fmt::join(close, ", --"))));
    }
    if (!value.is_null() && !TypeMatches(it->type, value)) {
      throw InputError(fmt::format("{}: --{} expects {}, found {}", request.command, key, TypeName(it->type),
                                   value.dump()));
    }
  }
  const Options options(request);
  for (const OptionSpec& o : spec->options) {
    if (o.RequiredGiven([&](const std::string& name) { return options.Has(name); }) && !options.Has(o.name)) {
      OptionError(request, fmt::format("{}: --{} is required{}", request.command, o.name,
                                       o.required_unless ? fmt::format(" (or --{})", o.required_unless) : ""));
    }
  }
  // One variable in two roles makes a model that fits itself.
  std::map<std::string, std::string> role_of;
  for (const char* role : spec->distinct_roles) {
    for (const std::string& name : options.List(role)) {
      const auto [it, inserted] = role_of.emplace(name, role);
      if (!inserted) {
        throw InputError(it->second == role
                             ? fmt::format("--{}: '{}' is named twice", role, name)
                             : fmt::format("--{}: '{}' is already the --{}; a variable can fill one role", role,
                                           name, it->second));
      }
    }
  }
  // Allowed values and bounds, so that a recipe is refused when it is added
  // rather than when it runs.
  for (const OptionSpec& o : spec->options) {
    if (!options.Has(o.name)) continue;
    if (!o.choices.empty()) {
      const std::vector<std::string> values =
          o.type == OptionType::kStringList ? options.List(o.name) : std::vector<std::string>{*options.String(o.name)};
      for (const std::string& v : values) {
        if (std::find(o.choices.begin(), o.choices.end(), v) == o.choices.end()) {
          std::string allowed = o.choices.front();
          for (std::size_t i = 1; i < o.choices.size(); ++i) {
            allowed += (i + 1 == o.choices.size() ? " or " : ", ") + o.choices[i];
          }
          OptionError(request, fmt::format("--{}: expected {}, found '{}'", o.name, allowed, v));
        }
      }
    }
    if (o.type == OptionType::kNumber) {
      // TOML reads nan and inf as numbers; no option means either.
      const double x = *options.Number(o.name);
      if (!std::isfinite(x)) OptionError(request, fmt::format("--{}: expected a finite number, found {}", o.name, x));
    }
    if (o.min || o.max) {
      const double x = *options.Number(o.name);
      if ((o.min && x < *o.min) || (o.max && x > *o.max)) {
        OptionError(request, fmt::format("--{}: expected {}, found {}", o.name,
                                     o.min && o.max ? fmt::format("{} to {}", *o.min, *o.max)
                                                    : o.min ? fmt::format("at least {}", *o.min)
                                                            : fmt::format("at most {}", *o.max),
                                     x));
      }
    }
  }
  if (const auto k = options.Number("per-sd"); k && !(*k > 0)) {
    OptionError(request, fmt::format("--per-sd: expected a positive number, found {}", *k));
  }
  if (const auto censored = options.String("censored"); censored && !ParseCensorRule(*censored)) {
    OptionError(request, fmt::format("--censored: expected exclude|half|sqrt2|limit, found '{}'", *censored));
  }
  try {
    MinCellOption(options);
  } catch (const InputError& e) {
    OptionError(request, e.what());
  }
  if (request.command == std::string("meta")) {
    // meta reads the study's trial summaries, not a participant frame.
    for (const char* frame_option : {"frame", "derive", "cut", "ref", "censored"}) {
      if (options.Has(frame_option)) {
        OptionError(request, fmt::format("meta: --{} does not apply: meta pools the trial summaries of --study, not "
                                     "participant rows",
                                     frame_option));
      }
    }
    if (!options.Has("study")) OptionError(request, "meta: --study is required (the study of the trial summaries)");
    LoadMetaTrials(store, options.RequiredString("study"), options.RequiredString("outcome"));
    return;
  }
  if (!options.Has("frame") && !options.Has("study")) {
    OptionError(request,
                fmt::format("{}: give --study (its pivot is the default frame) or --frame", request.command));
  }
  const std::vector<std::string> columns = FrameVariableNames(store, options);
  // Each --derive and --cut, parsed and applied to an empty frame of the
  // frame's columns: a bad expression, cut point or variable is refused here
  // (when a recipe is added), not when the analysis runs.
  if (options.Has("derive") || options.Has("cut")) {
    AnalysisRequest bare = request;
    bare.options.erase("derive");
    bare.options.erase("cut");
    QueryResult empty;
    empty.columns = FrameVariableNames(store, Options(bare));
    Frame frame = Frame::FromQuery(empty);
    for (const std::string& derive : options.Items("derive")) ApplyDerive(frame, derive);
    for (const std::string& cut : options.Items("cut")) ApplyCut(frame, cut);
  }
  auto check = [&](const std::string& option, const std::string& name) {
    std::string variable = name;
    if (const auto threshold = ParseThreshold(name)) variable = threshold->variable;
    if (std::find(columns.begin(), columns.end(), variable) != columns.end()) return;
    const auto close = CloseMatches(variable, columns);
    throw InputError(
        fmt::format("{}: --{}: unknown variable '{}' in the frame{}", request.command, option, variable,
                    close.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(close, ", "))));
  };
  for (const OptionSpec& o : spec->options) {
    const auto& variable_options = VariableOptions();
    if (std::find(variable_options.begin(), variable_options.end(), o.name) == variable_options.end() ||
        !options.Has(o.name)) {
      continue;
    }
    if (o.type == OptionType::kStringList) {
      for (const std::string& name : options.List(o.name)) check(o.name, name);
    } else {
      check(o.name, options.RequiredString(o.name));
    }
  }
  if (options.Has("ref")) ValidateReferenceLevels(options, columns, LevelsKnownBeforeReading(store, options));
  for (const std::string& name : FormulaOptionNames()) {
    const auto text = options.String(name);
    if (!text) continue;
    try {
      ParseFormula(*text).CheckVariables(
          [&](const std::string& v) { return std::find(columns.begin(), columns.end(), v) != columns.end(); },
          columns);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: --{}: {}", request.command, name, e.what()));
    }
  }
}

namespace {

// The statistics layer names its function in its messages ("WelchTTest:
// argument x has 1 non-missing values"); users read what happened without
// the C++ name.
std::string WithoutFunctionName(const std::string& message) {
  std::size_t i = 0;
  if (message.empty() || !std::isupper(static_cast<unsigned char>(message[0]))) return message;
  while (i < message.size() && std::isalnum(static_cast<unsigned char>(message[i]))) ++i;
  const bool camel = std::any_of(message.begin() + 1, message.begin() + static_cast<std::ptrdiff_t>(i),
                                 [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
  if (!camel || message.compare(i, 2, ": ") != 0) return message;
  return message.substr(i + 2);
}

void StripFunctionNames(nlohmann::ordered_json& j) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if ((key == "note" || key == "error") && value.is_string()) {
        value = WithoutFunctionName(value.get<std::string>());
      } else {
        StripFunctionNames(value);
      }
    }
  } else if (j.is_array()) {
    for (auto& value : j) StripFunctionNames(value);
  }
}

}  // namespace

nlohmann::ordered_json NormalizedParameters(const AnalysisRequest& request) {
  const AnalysisSpec* spec = FindAnalysis(request.command);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!spec) return out;
  const Options options(request);
  for (const OptionSpec& o : spec->options) {
    if (!options.Has(o.name)) continue;
    switch (o.type) {
      case OptionType::kString:
        out[o.name] = *options.String(o.name);
        break;
      case OptionType::kStringList:
        out[o.name] = IsItemList(o.name) ? options.Items(o.name) : options.List(o.name);
        break;
      case OptionType::kInteger:
        out[o.name] = *options.Integer(o.name);
        break;
      case OptionType::kNumber:
        out[o.name] = *options.Number(o.name);
        break;
      case OptionType::kFlag:
        out[o.name] = options.Flag(o.name);
        break;
    }
  }
  return out;
}

AnalysisResultSet RunAnalysis(Store& store, const AnalysisRequest& request) {
  ValidateRequest(store, request);
  const AnalysisSpec* spec = FindAnalysis(request.command);
  AnalysisResultSet result;
  try {
    result = spec->run(store, request);
  } catch (const NumericalError& e) {
    const std::string message = WithoutFunctionName(e.what());
    if (message.rfind(request.command + ":", 0) == 0) throw NumericalError(message);
    throw NumericalError(fmt::format("{}: {}", request.command, message));
  }
  for (ResultRow& row : result.rows) StripFunctionNames(row.extra);
  StripFunctionNames(result.summary);
  const Options options(request);
  result.min_cell = MinCellOption(options);
  result.parameters = NormalizedParameters(request);
  VariableLabels labels = VariableLabels::Load(store, options);
  // Variables the catalog does not know (columns of a --frame) read as
  // their names; a text column's levels are unknown, so any level is taken.
  for (const std::string& name : FrameNeeds(options)) {
    if (!labels.Find(name)) labels.Put(name, {});
  }
  ApplyLabels(labels, result.parameters, result);
  if (spec->plot != nullptr) {
    result.plot_renderer = spec->plot;
    result.plot_svg = result.plot_renderer(result);
  }
  return result;
}

std::optional<std::string> RestoreRecordedPlot(AnalysisResultSet& result) {
  const bool asked = result.parameters.is_object() && result.parameters.contains("plot") &&
                     result.parameters["plot"] == true;
  if (!asked) return std::nullopt;  // the run drew none
  const AnalysisSpec* spec = FindAnalysis(result.command);
  if (spec == nullptr) return fmt::format("this build of cohortdb has no analysis '{}'", result.command);
  if (spec->plot == nullptr) {
    return fmt::format("this build of cohortdb draws no plot for {}", result.command);
  }
  try {
    std::string svg = spec->plot(result);
    result.plot_renderer = spec->plot;
    result.plot_svg = std::move(svg);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace cohortdb::analysis

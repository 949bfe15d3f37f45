#include "recipes/recipe.h"

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "analysis/frame.h"
#include "analysis/options.h"
#include "common/error.h"
#include "common/input_file.h"
#include "common/sha256.h"
#include "store/provenance.h"
#include "store/store.h"

namespace cohortdb::recipes {
namespace {

using Json = nlohmann::ordered_json;

const char* NodeTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

const char* TypeWanted(analysis::OptionType type) {
  switch (type) {
    case analysis::OptionType::kString:
      return "a string";
    case analysis::OptionType::kStringList:
      return "an array of strings (or one comma-separated string)";
    case analysis::OptionType::kInteger:
      return "an integer";
    case analysis::OptionType::kNumber:
      return "a number";
    case analysis::OptionType::kFlag:
      return "a boolean (true or false)";
  }
  return "a value";
}

// A TOML value as it reads in an error message.
std::string Shown(const toml::node& node) {
  if (const auto* s = node.as_string()) return fmt::format("\"{}\"", s->get());
  std::ostringstream out;
  if (node.is_table()) {
    out << "a table";
  } else if (const auto* a = node.as_array()) {
    out << *a;
  } else if (const auto* i = node.as_integer()) {
    out << i->get();
  } else if (const auto* f = node.as_floating_point()) {
    out << f->get();
  } else if (const auto* b = node.as_boolean()) {
    out << (b->get() ? "true" : "false");
  } else {
    out << NodeTypeName(node);
  }
  return out.str();
}

// "text" on one line: control characters (a newline inside a TOML multi-line
// string, say) written as escapes, so every error stays one line.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

bool ValidStepName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Recipe Parse(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, source_);
    } catch (const toml::parse_error& e) {
      throw InputError(fmt::format("{}:{}:{}: invalid TOML: {}", source_, e.source().begin.line,
                                   e.source().begin.column, OneLine(e.description())));
    }
    CheckKeys(root, {"name", "title", "description", "frames", "defaults", "step"}, "",
              "recipe keys are name, title, description, frames, defaults and [[step]]");
    Recipe recipe;
    recipe.name = RequiredString(root, "name", "");
    try {
      CheckRecipeName(recipe.name);
    } catch (const InputError& e) {
      Fail(root.get("name"), "", e.what());
    }
    recipe.title = OptionalString(root, "title", "").value_or("");
    recipe.description = OptionalString(root, "description", "").value_or("");

    if (const toml::node* frames = root.get("frames")) {
      const toml::table* table = frames->as_table();
      if (table == nullptr)
        Fail(frames, "",
             fmt::format("\"frames\" must be a table of name = \"SQL\", found {}", NodeTypeName(*frames)));
      for (const auto& [key, value] : *table) {
        const auto* sql = value.as_string();
        if (sql == nullptr) {
          Fail(&value, "",
               fmt::format("frame \"{}\" must be a string holding a view name or a SELECT, found {}",
                           key.str(), NodeTypeName(value)));
        }
        frames_[std::string(key.str())] = sql->get();
      }
    }
    const toml::table* defaults = nullptr;
    if (const toml::node* node = root.get("defaults")) {
      defaults = node->as_table();
      if (defaults == nullptr) {
        Fail(node, "", fmt::format("\"defaults\" must be a table of options, found {}", NodeTypeName(*node)));
      }
    }

    const toml::node* steps_node = root.get("step");
    if (steps_node == nullptr) {
      throw InputError(fmt::format("{}: recipe \"{}\" has no steps: add at least one [[step]] table", source_,
                                   recipe.name));
    }
    const toml::array* steps = steps_node->as_array();
    if (steps == nullptr || !steps->is_array_of_tables()) {
      Fail(steps_node, "", "steps must be written as [[step]] tables");
    }
    std::set<std::string> step_names;
    std::set<std::string> defaults_used;
    for (const toml::node& node : *steps) {
      RecipeStep step = ParseStep(*node.as_table(), defaults, defaults_used);
      if (!step_names.insert(step.name).second) {
        Fail(node.as_table()->get("name"), "", fmt::format("step name \"{}\" is used twice", step.name));
      }
      recipe.steps.push_back(std::move(step));
    }
    if (defaults != nullptr) {
      for (const auto& [key, value] : *defaults) {
        if (!defaults_used.count(std::string(key.str()))) {
          Fail(&value, "",
               fmt::format("default option \"{}\" is not an option of any step's analysis", key.str()));
        }
      }
    }
    return recipe;
  }

 private:
  RecipeStep ParseStep(const toml::table& table, const toml::table* defaults,
                       std::set<std::string>& defaults_used) {
    RecipeStep step;
    step.line = static_cast<int>(table.source().begin.line);
    step.column = static_cast<int>(table.source().begin.column);
    const toml::node* name = table.get("name");
    if (name == nullptr) Fail(&table, "", "a [[step]] has no name: add name = \"...\"");
    if (name->as_string() == nullptr || !ValidStepName(name->as_string()->get())) {
      Fail(name, "",
           fmt::format("step name must be a string of letters, digits, '_' or '-', found {}", Shown(*name)));
    }
    step.name = name->as_string()->get();
    CheckKeys(table, {"name", "analysis", "title", "options"}, step.name,
              "step keys are name, analysis, title and options");
    const std::string command = RequiredString(table, "analysis", step.name);
    const analysis::AnalysisSpec* spec = analysis::FindAnalysis(command);
    if (spec == nullptr) {
      std::string known;
      for (const auto& a : analysis::Analyses())
        known += fmt::format("{}{}", known.empty() ? "" : ", ", a.name);
      Fail(table.get("analysis"), step.name,
           fmt::format("unknown analysis \"{}\" (known: {})", command, known));
    }
    step.request.command = command;
    step.title = OptionalString(table, "title", step.name).value_or(step.name);
    const toml::table* options = nullptr;
    if (const toml::node* node = table.get("options")) {
      options = node->as_table();
      if (options == nullptr) {
        Fail(node, step.name, fmt::format("\"options\" must be a table, found {}", NodeTypeName(*node)));
      }
    }
    if (defaults != nullptr) {
      for (const auto& [key, value] : *defaults) {
        const std::string option(key.str());
        const analysis::OptionSpec* option_spec = FindOption(*spec, option);
        if (option_spec == nullptr) continue;
        defaults_used.insert(option);
        if (options != nullptr && options->contains(option)) continue;
        step.request.options[option] = Convert(value, *option_spec, step.name);
      }
    }
    if (options != nullptr) {
      for (const auto& [key, value] : *options) {
        const std::string option(key.str());
        const analysis::OptionSpec* option_spec = FindOption(*spec, option);
        if (option_spec == nullptr) {
          std::string known;
          for (const auto& o : spec->options) known += fmt::format("{}{}", known.empty() ? "" : ", ", o.name);
          Fail(&value, step.name,
               fmt::format("unknown option \"{}\" for analysis {} (known: {})", option, command, known));
        }
        step.request.options[option] = Convert(value, *option_spec, step.name);
      }
    }
    if (step.request.options.contains("frame") && step.request.options["frame"].is_string()) {
      auto named = frames_.find(step.request.options["frame"].get<std::string>());
      if (named != frames_.end()) step.request.options["frame"] = named->second;
    }
    step.plot = step.request.options.contains("plot") && step.request.options["plot"] == true;
    for (const auto& o : spec->options) {
      const auto given = [&](const std::string& option) { return step.request.options.contains(option); };
      if (o.RequiredGiven(given) && !given(o.name)) {
        Fail(&table, step.name,
             fmt::format("analysis {} requires option \"{}\" ({}){}", command, o.name, o.help,
                         o.required_unless ? fmt::format(" or \"{}\"", o.required_unless) : ""));
      }
    }
    return step;
  }

  static const analysis::OptionSpec* FindOption(const analysis::AnalysisSpec& spec, const std::string& name) {
    for (const auto& o : spec.options) {
      if (name == o.name) return &o;
    }
    return nullptr;
  }

  Json Convert(const toml::node& value, const analysis::OptionSpec& spec, const std::string& step) const {
    auto wrong = [&]() {
      Fail(&value, step,
           fmt::format("option \"{}\" expects {}, found {}", spec.name, TypeWanted(spec.type), Shown(value)));
    };
    switch (spec.type) {
      case analysis::OptionType::kString:
        if (const auto* s = value.as_string()) return s->get();
        wrong();
        break;
      case analysis::OptionType::kStringList: {
        if (const auto* s = value.as_string()) return s->get();
        const auto* array = value.as_array();
        if (array == nullptr) wrong();
        Json list = Json::array();
        for (const toml::node& item : *array) {
          const auto* s = item.as_string();
          if (s == nullptr) wrong();
          list.push_back(s->get());
        }
        return list;
      }
      case analysis::OptionType::kInteger:
        if (const auto* i = value.as_integer()) return i->get();
        wrong();
        break;
      case analysis::OptionType::kNumber:
        if (const auto* i = value.as_integer()) return i->get();
        if (const auto* f = value.as_floating_point()) return f->get();
        wrong();
        break;
      case analysis::OptionType::kFlag:
        if (const auto* b = value.as_boolean()) return b->get();
        wrong();
        break;
    }
    return Json();
  }

  void CheckKeys(const toml::table& table, std::initializer_list<const char*> allowed,
                 const std::string& step, const char* hint) const {
    for (const auto& [key, value] : table) {
      bool known = false;
      for (const char* a : allowed) known = known || key.str() == a;
      if (!known) Fail(&value, step, fmt::format("unknown key \"{}\" ({})", key.str(), hint));
    }
  }

  std::string RequiredString(const toml::table& table, const char* key, const std::string& step) const {
    auto value = OptionalString(table, key, step);
    if (!value || value->empty()) {
      Fail(&table, step, fmt::format("missing key \"{}\" (a non-empty string)", key));
    }
    return *value;
  }

  std::optional<std::string> OptionalString(const toml::table& table, const char* key,
                                            const std::string& step) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* s = node->as_string()) return s->get();
    Fail(node, step, fmt::format("\"{}\" expects a string, found {}", key, Shown(*node)));
  }

  [[noreturn]] void Fail(const toml::node* node, const std::string& step, const std::string& what) const {
    std::string where = source_;
    if (node != nullptr && node->source().begin.line > 0) {
      where = fmt::format("{}:{}:{}", source_, node->source().begin.line, node->source().begin.column);
    }
    if (step.empty()) throw InputError(fmt::format("{}: {}", where, OneLine(what)));
    throw InputError(fmt::format("{}: step \"{}\": {}", where, step, OneLine(what)));
  }

  std::string source_;
  std::map<std::string, std::string> frames_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in = OpenInputFile(path, "cannot read recipe file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The same error with "prefix" in front of its message, keeping its exit code.
[[noreturn]] void Rethrow(const Error& e, const std::string& prefix) {
  const std::string message = prefix + OneLine(e.what());
  switch (e.code()) {
    case ExitCode::kInput:
      throw InputError(message);
    case ExitCode::kUsage:
      throw UsageError(message);
    case ExitCode::kStore:
      throw StoreError(message);
    case ExitCode::kNumerical:
      throw NumericalError(message);
    default:
      throw Error(e.code(), message);
  }
}

}  // namespace

Recipe ParseRecipe(std::string_view text, const std::string& source) { return Parser(source).Parse(text); }

void ValidateRecipe(Store& store, const Recipe& recipe, const std::string& source) {
  for (const RecipeStep& step : recipe.steps) {
    try {
      analysis::ValidateRequest(store, step.request);
    } catch (const Error& e) {
      // Frames that do not compile or name unknown columns are the recipe's
      // fault, whatever layer noticed it.
      throw InputError(fmt::format("{}:{}:{}: step \"{}\" ({}): {}", source, step.line, step.column,
                                   step.name, step.request.command, OneLine(e.what())));
    }
  }
}

RecipeSaved AddRecipeFile(Store& store, const std::string& path) {
  const std::string body = ReadFile(path);
  const Recipe recipe = ParseRecipe(body, path);
  ValidateRecipe(store, recipe, path);
  return SaveRecipe(store, recipe.name, body);
}

bool RecipeDigestMatches(const StoredRecipe& stored) { return Sha256Hex(stored.body) == stored.sha256; }

void CheckRecipeDigest(const StoredRecipe& stored) {
  if (RecipeDigestMatches(stored)) return;
  throw StoreError(fmt::format(
      "recipe {} version {}: its stored text was changed outside cohortdb (SHA-256 {} when it was added, {} now), so "
      "its runs would not be reproducible; add the recipe file again (`cohortdb recipe add`) to store it as a new "
      "version",
      stored.name, stored.version, stored.sha256.substr(0, 12), Sha256Hex(stored.body).substr(0, 12)));
}

Recipe RunRecipe(Store& store, const StoredRecipe& stored,
                 const std::function<void(const StepRun&)>& on_step) {
  const std::string source = fmt::format("recipe {} version {}", stored.name, stored.version);
  CheckRecipeDigest(stored);
  Recipe recipe = ParseRecipe(stored.body, source);
  // Each distinct frame is read once, with the columns of every step that
  // uses it (meta reads trial summaries, not a frame).
  analysis::FrameCache frames;
  for (const RecipeStep& step : recipe.steps) {
    if (step.request.command != std::string("meta")) frames.Plan(analysis::Options(step.request));
  }
  const analysis::FrameCacheScope frame_scope(frames);
  for (const RecipeStep& step : recipe.steps) {
    StepRun run;
    run.step = &step;
    const auto start = std::chrono::steady_clock::now();
    try {
      run.result = analysis::RunAnalysis(store, step.request);
    } catch (const Error& e) {
      Rethrow(e, fmt::format("{}: step \"{}\" ({}): ", source, step.name, step.request.command));
    }
    run.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (run.result.command.empty()) run.result.command = step.request.command;
    if (run.result.parameters.is_null() || run.result.parameters.empty()) {
      run.result.parameters = step.request.options;
    }
    run.run_id = RecordAnalysisRun(store, run.result, stored.recipe_id, step.name, run.elapsed_ms);
    on_step(run);
  }
  return recipe;
}

}  // namespace cohortdb::recipes

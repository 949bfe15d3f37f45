// recipe add | list | show | run | rm: stored, versioned analysis recipes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/result_printing.h"
#include "common/error.h"
#include "common/output_file.h"
#include "common/table_writer.h"
#include "recipes/html_report.h"
#include "recipes/recipe.h"
#include "recipes/result_output.h"
#include "store/provenance.h"
#include "store/recipe_store.h"
#include "store/store.h"

namespace cohortdb::cli {
namespace {

struct RecipeOptions {
  std::string store;
  std::string file;
  std::string name;
  std::int64_t version = 0;
  std::string format = "table";
  std::string out;
  bool codes = false;
  std::string report;
};

StoredRecipe Load(Store& store, const RecipeOptions& o) {
  const auto version = o.version > 0 ? std::optional<std::int64_t>(o.version) : std::nullopt;
  auto recipe = LoadRecipe(store, o.name, version);
  if (!recipe) {
    if (version && LoadRecipe(store, o.name)) {
      throw InputError(
          fmt::format("recipe \"{}\" has no version {} in {} (`cohortdb recipe show {} {}` lists them)",
                      o.name, *version, o.store, o.store, o.name));
    }
    throw InputError(fmt::format("no recipe \"{}\" in {} (`cohortdb recipe list {}` lists them)", o.name,
                                 o.store, o.store));
  }
  return *recipe;
}

// Appends "table" to "all" under columns step, run, then the union of the
// tables' columns (first seen first); missing cells are NULL.
void AppendRows(QueryResult& all, const std::string& step, std::int64_t run_id, const QueryResult& table) {
  if (all.columns.empty()) all.columns = {"step", "run"};
  std::vector<std::size_t> position;
  for (const std::string& column : table.columns) {
    auto it = std::find(all.columns.begin(), all.columns.end(), column);
    if (it == all.columns.end()) {
      all.columns.push_back(column);
      for (auto& row : all.rows) row.emplace_back(std::monostate{});
      it = all.columns.end() - 1;
    }
    position.push_back(static_cast<std::size_t>(it - all.columns.begin()));
  }
  for (const auto& row : table.rows) {
    std::vector<SqlValue> values(all.columns.size(), std::monostate{});
    values[0] = step;
    values[1] = run_id;
    for (std::size_t c = 0; c < row.size(); ++c) values[position[c]] = row[c];
    all.rows.push_back(std::move(values));
  }
}

int Add(const RecipeOptions& o) {
  Store store = Store::Open(o.store);
  const RecipeSaved saved = recipes::AddRecipeFile(store, o.file);
  const recipes::Recipe recipe = recipes::ParseRecipe(saved.recipe.body, o.file);
  if (saved.created) {
    std::cout << fmt::format("stored recipe {} version {} ({} steps)\n", saved.recipe.name,
                             saved.recipe.version, recipe.steps.size());
  } else {
    std::cout << fmt::format("recipe {} is unchanged (same as version {}); nothing stored\n",
                             saved.recipe.name, saved.recipe.version);
  }
  return 0;
}

int List(const RecipeOptions& o) {
  Store store = Store::Open(o.store, OpenMode::kReadOnly);
  QueryResult table;
  table.columns = {"recipe", "version", "versions", "steps", "title", "created_at", "runs", "last_run_at"};
  for (const RecipeListing& item : ListRecipes(store)) {
    const auto stored = LoadRecipe(store, item.name);
    SqlValue steps = std::monostate{};
    SqlValue title = std::monostate{};
    try {
      const recipes::Recipe recipe = recipes::ParseRecipe(stored->body, item.name);
      steps = static_cast<std::int64_t>(recipe.steps.size());
      title = recipe.title;
    } catch (const InputError& e) {
      title = fmt::format("(no longer valid: {})", e.what());  // e.g. an option this build does not know
    }
    table.rows.push_back({item.name, item.version, item.versions, steps, title, item.created_at, item.runs,
                          item.last_run_at ? SqlValue(*item.last_run_at) : SqlValue(std::monostate{})});
  }
  if (table.rows.empty() && o.format != "json" && o.format != "csv") {
    std::cout << "no recipes stored yet (add one with `cohortdb recipe add STORE FILE`)\n";
    return 0;
  }
  WriteTable(std::cout, table, *ParseOutputFormat(o.format));
  return 0;
}

int Show(const RecipeOptions& o) {
  Store store = Store::Open(o.store, OpenMode::kReadOnly);
  const StoredRecipe stored = Load(store, o);
  if (!recipes::RecipeDigestMatches(stored)) {
    std::cerr << fmt::format(
        "cohortdb: note: recipe {} version {} was changed outside cohortdb (its text no longer has the SHA-256 "
        "recorded when it was added); `recipe run` refuses it\n",
        stored.name, stored.version);
  }
  const recipes::Recipe recipe = recipes::ParseRecipe(stored.body, stored.name);
  std::string versions;
  for (const StoredRecipe& v : RecipeVersions(store, stored.name)) {
    versions += fmt::format("{}{} ({})", versions.empty() ? "" : ", ", v.version, v.created_at);
  }
  std::cout << fmt::format(
      "# recipe {} version {} (sha256 {}, stored {})\n# versions: {}\n# steps: ", stored.name, stored.version,
      stored.sha256.substr(0, 12), stored.created_at, versions);
  for (std::size_t i = 0; i < recipe.steps.size(); ++i) {
    std::cout << fmt::format("{}{} ({})", i ? ", " : "", recipe.steps[i].name,
                             recipe.steps[i].request.command);
  }
  std::cout << "\n\n" << stored.body;
  if (!stored.body.empty() && stored.body.back() != '\n') std::cout << '\n';
  return 0;
}

int Run(const RecipeOptions& o) {
  Store store = Store::Open(o.store);
  const StoredRecipe stored = Load(store, o);
  const OutputFormat format = *ParseOutputFormat(o.format);
  const bool terminal = format != OutputFormat::kJson && format != OutputFormat::kCsv;
  std::size_t index = 0;
  std::int64_t first_run = 0;
  std::int64_t last_run = 0;
  std::size_t files = 0;
  // csv and json give one document for the whole run: every step's tidy rows
  // (csv, with step and run columns first) or an array of step results (json).
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  QueryResult rows;
  if (!o.out.empty()) recipes::PrepareOutputFolder(o.out);  // before any run is recorded
  if (!o.report.empty()) CheckOutputFileWritable(o.report, "--report", "nothing was recorded");
  std::vector<recipes::ReportStep> report_steps;
  const recipes::Recipe recipe = recipes::RunRecipe(store, stored, [&](const recipes::StepRun& run) {
    ++index;
    if (first_run == 0) first_run = run.run_id;
    last_run = run.run_id;
    if (terminal) {
      std::cout << fmt::format("\n== {} / step {}: {} ({}) ==\n", stored.name, index, run.step->title,
                               run.step->request.command);
    }
    if (format == OutputFormat::kJson) {
      nlohmann::ordered_json step = {
          {"step", run.step->name}, {"title", run.step->title}, {"run_id", run.run_id}};
      const nlohmann::ordered_json result = recipes::ResultJson(run.result);
      for (const auto& [key, value] : result.items()) step[key] = value;
      steps.push_back(std::move(step));
    } else if (format == OutputFormat::kCsv) {
      AppendRows(rows, run.step->name, run.run_id, recipes::TidyTable(run.result.rows));
    } else {
      PrintResult(std::cout, run.result, format, o.codes);
    }
    if (terminal) {
      std::cout << fmt::format("run {} · {} rows used, {} excluded · {:.0f} ms\n", run.run_id,
                               run.result.rows_used, run.result.rows_excluded, run.elapsed_ms);
    }
    if (!o.out.empty()) {
      const auto written = recipes::WriteStepFiles(o.out, run.step->name, run.result, run.run_id);
      files += written.size();
    }
    if (!o.report.empty()) {
      recipes::ReportStep step{*run.step, run.result, {}, {}};
      if (auto stored_run = LoadAnalysisRun(store, run.run_id)) step.run = stored_run->info;
      step.run.run_id = run.run_id;
      report_steps.push_back(std::move(step));
    }
  });
  if (!o.report.empty()) {
    recipes::RunReport report;
    report.store = o.store;
    report.recipe = stored;
    report.title = recipe.title;
    report.description = recipe.description;
    report.steps = std::move(report_steps);
    report.generated_at = NowUtc();
    report.codes = o.codes;
    WriteOutputFile(o.report, recipes::RunReportHtml(report), "--report",
                    fmt::format("the steps were recorded as runs {}..{}; only the report was lost", first_run,
                                last_run));
  }
  if (format == OutputFormat::kJson) {
    const nlohmann::ordered_json document = {
        {"recipe", stored.name}, {"version", stored.version}, {"steps", std::move(steps)}};
    std::cout << document.dump(2) << '\n';
  }
  if (format == OutputFormat::kCsv) WriteTable(std::cout, rows, format);
  std::ostream& summary = terminal ? std::cout : std::cerr;
  summary << fmt::format("\nrecipe {} version {}: {} steps recorded as runs {}..{}", stored.name,
                         stored.version, recipe.steps.size(), first_run, last_run);
  if (!o.out.empty()) summary << fmt::format("; {} files written to {}", files, o.out);
  if (!o.report.empty()) summary << fmt::format("; report written to {}", o.report);
  summary << '\n';
  CheckWritten(std::cout, "standard output",
               fmt::format("the steps were recorded as runs {}..{}; only the output was lost", first_run, last_run));
  return 0;
}

int Remove(const RecipeOptions& o) {
  Store store = Store::Open(o.store);
  const std::int64_t removed = RemoveRecipe(store, o.name);
  if (removed == 0) {
    throw InputError(fmt::format("no recipe \"{}\" in {} (`cohortdb recipe list {}` lists them)", o.name,
                                 o.store, o.store));
  }
  std::cout << fmt::format("removed recipe {} ({} versions; runs recorded from it are kept)\n", o.name,
                           removed);
  return 0;
}

}  // namespace

std::function<int()> SetupRecipe(CLI::App& app) {
  auto o = std::make_shared<RecipeOptions>();
  app.require_subcommand(1);
  auto store_arg = [&](CLI::App* sub) {
    sub->add_option("STORE", o->store, "Path of the store")->required();
  };
  auto format_option = [&](CLI::App* sub) {
    sub->add_option("--format", o->format, "Output format: table|box|csv|json|markdown")
        ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown"}));
  };

  CLI::App* add =
      app.add_subcommand("add", "Validate a recipe file completely and store it as a new version");
  store_arg(add);
  add->add_option("FILE", o->file, "Recipe file (TOML, see docs/RECIPES.md)")->required();

  CLI::App* list = app.add_subcommand("list", "List the stored recipes with their newest version and runs");
  store_arg(list);
  format_option(list);

  CLI::App* show = app.add_subcommand("show", "Print a stored recipe (newest version unless --version)");
  store_arg(show);
  show->add_option("NAME", o->name, "Recipe name")->required();
  show->add_option("--version", o->version, "Version to show")->check(CLI::PositiveNumber);

  CLI::App* run = app.add_subcommand("run", "Run every step of a stored recipe and record each run");
  store_arg(run);
  run->add_option("NAME", o->name, "Recipe name")->required();
  run->add_option("--version", o->version, "Version to run (default: the newest)")
      ->check(CLI::PositiveNumber);
  format_option(run);
  run->add_flag("--codes", o->codes,
                "Name variables and levels by their codes instead of their catalog labels (terminal formats and "
                "--report; the files of --out keep both)");
  run->add_option("--out", o->out, "Write STEP.csv, STEP.json (and STEP.svg for plots) into this folder");
  run->add_option("--report", o->report,
                  "Write one self-contained HTML report of the run (tables, plots, provenance) to this file");

  CLI::App* rm =
      app.add_subcommand("rm", "Remove a recipe (its versions are kept for the runs that used them)");
  store_arg(rm);
  rm->add_option("NAME", o->name, "Recipe name")->required();

  // Each subcommand's own example (they would otherwise show recipe's, a run).
  const char* demo = "demo-output/demo.cohortdb";
  add->footer(fmt::format("\nExample:\n  cohortdb recipe add {} examples/recipes/trial.toml", demo));
  list->footer(fmt::format("\nExample:\n  cohortdb recipe list {}", demo));
  show->footer(fmt::format("\nExample:\n  cohortdb recipe show {} trial --version 1", demo));
  run->footer(fmt::format("\nExamples:\n  cohortdb recipe run {} trial --out demo-output/trial\n"
                          "  cohortdb recipe run {} meta --report demo-output/meta.html",
                          demo, demo));
  rm->footer(fmt::format("\nExample:\n  cohortdb recipe rm {} trial", demo));

  return [o, add, list, show, run, rm] {
    if (add->parsed()) return Add(*o);
    if (list->parsed()) return List(*o);
    if (show->parsed()) return Show(*o);
    if (run->parsed()) return Run(*o);
    if (rm->parsed()) return Remove(*o);
    throw UsageError("recipe: expected one of add, list, show, run, rm");
  };
}

}  // namespace cohortdb::cli

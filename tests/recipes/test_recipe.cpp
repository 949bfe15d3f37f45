// Recipes: parsing and complete validation before anything is stored (each
// error names the step, the recipe table is unchanged), versioning, running
// with provenance and output files, and hostile option values.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "recipes/recipe.h"
#include "recipes/result_output.h"
#include "store/provenance.h"
#include "store/recipe_store.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

// A small trial: 16 participants, pain and IL-6 at baseline and week 12, a
// participant-level 0/1 treatment covariate; pivots refreshed.
void AddTrial(Store& store) {
  store.Exec(
      "INSERT INTO study (code, design) VALUES ('trial', 'trial');"
      "INSERT INTO visit (study_id, code, visit_order) VALUES (1, 'baseline', 1), (1, 'week12', 2);"
      "INSERT INTO variable (study_id, code, record_kind, value_type) VALUES "
      "  (1, 'pain_nrs', 'outcome', 'real'), (1, 'il6', 'biomarker', 'real'), (1, 'treatment', 'covariate', "
      "'integer');"
      "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version) VALUES "
      "  ('test', printf('%064d', 1), printf('%064d', 2), '2026-01-01T00:00:00Z', 'test');");
  for (int i = 1; i <= 16; ++i) {
    const double treated = i % 2;
    const double il6_0 = 2.0 + (i % 5) * 0.3;
    const double il6_1 = il6_0 - treated * 0.8 + (i % 3) * 0.1;
    const double pain_0 = 6.0 + (i % 4) * 0.5;
    const double pain_1 = pain_0 - treated * 1.5 - (il6_0 - il6_1) * 0.7 + (i % 7) * 0.2;
    store.Query("INSERT INTO participant (study_id, external_id, arm) VALUES (1, ?1, ?2)",
                {std::string("P") + std::to_string(i), std::string(treated ? "exercise" : "control")});
    const std::vector<SqlValue> p = {static_cast<std::int64_t>(i)};
    store.Query(
        "INSERT INTO covariate (participant_id, variable_id, value, source_value, batch_id) "
        "VALUES (?1, 3, ?2, ?2, 1)",
        {p[0], treated});
    for (int visit = 1; visit <= 2; ++visit) {
      store.Query(
          "INSERT INTO outcome (participant_id, visit_id, variable_id, value, source_value, batch_id) "
          "VALUES (?1, ?2, 1, ?3, ?3, 1)",
          {p[0], static_cast<std::int64_t>(visit), visit == 1 ? pain_0 : pain_1});
      store.Query(
          "INSERT INTO biomarker (participant_id, visit_id, variable_id, value, source_value, batch_id) "
          "VALUES (?1, ?2, 2, ?3, ?3, 1)",
          {p[0], static_cast<std::int64_t>(visit), visit == 1 ? il6_0 : il6_1});
    }
  }
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
}

std::int64_t Count(Store& store, const std::string& table) {
  return std::get<std::int64_t>(store.Query("SELECT count(*) FROM " + table).rows[0][0]);
}

std::string Write(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.File(name);
  std::ofstream(path) << text;
  return path;
}

const char* kValid = R"(name = "trial"
title = "Change scores"

[frames]
changes = "SELECT *, pain_nrs_week12 - pain_nrs_baseline AS pain_change, il6_week12 - il6_baseline AS il6_change FROM wide_trial"

[defaults]
frame = "changes"

[[step]]
name = "correlations"
analysis = "correlate"
[step.options]
x = ["il6_change"]
y = ["pain_change"]

[[step]]
name = "pain_model"
analysis = "regress"
title = "Pain change on allocation"
[step.options]
outcome = "pain_change"
predictors = ["treatment", "il6_change"]
standardize = true
)";

// Replaces the first occurrence of "from" in kValid by "to".
std::string Edited(const std::string& from, const std::string& to) {
  std::string text = kValid;
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a recipe parses into requests with frames and defaults resolved", "[recipes][parse]") {
  const recipes::Recipe recipe = recipes::ParseRecipe(kValid, "trial.toml");
  CHECK(recipe.name == "trial");
  CHECK(recipe.title == "Change scores");
  REQUIRE(recipe.steps.size() == 2);
  const recipes::RecipeStep& model = recipe.steps[1];
  CHECK(model.name == "pain_model");
  CHECK(model.title == "Pain change on allocation");
  CHECK(model.line == 17);
  CHECK(model.request.command == "regress");
  CHECK(model.request.options["outcome"] == "pain_change");
  CHECK(model.request.options["predictors"] == nlohmann::ordered_json({"treatment", "il6_change"}));
  CHECK(model.request.options["standardize"] == true);
  CHECK(model.request.options["frame"].get<std::string>().rfind("SELECT *, pain_nrs_week12", 0) == 0);
  CHECK(recipe.steps[0].title == "correlations");
  CHECK_FALSE(recipe.steps[0].plot);
}

TEST_CASE("recipe add validates completely and stores nothing on any error", "[recipes][validate]") {
  TempDir dir;
  const std::string path = dir.File("store.cohortdb");
  {
    Store created = Store::Create(path);
    AddTrial(created);
  }
  Store store = Store::Open(path);
  struct Case {
    const char* what;
    std::string text;
    std::string message;
    bool prefix_only = false;  // the rest is SQLite's own wording
  };
  const std::string file = dir.File("recipe.toml");
  const std::vector<Case> cases = {
      {"TOML syntax", Edited("title = \"Change scores\"", "title = \"Change scores"),
       file + ":2:23: invalid TOML: Error while parsing string: unescaped control characters other than TAB "
              "(U+0009) are explicitly prohibited"},
      {"unknown recipe key", Edited("title = ", "titel = "),
       file + ":2:9: unknown key \"titel\" (recipe keys are name, title, description, frames, defaults and "
              "[[step]])"},
      {"unknown step key", Edited("analysis = \"regress\"", "analysis = \"regress\"\nmodel = \"ols\""),
       file + ":20:9: step \"pain_model\": unknown key \"model\" (step keys are name, analysis, title and "
              "options)"},
      {"unknown analysis", Edited("analysis = \"regress\"", "analysis = \"regres\""),
       file +
           ":19:12: step \"pain_model\": unknown analysis \"regres\" (known: describe, correlate, compare, "
           "regress, logistic, prevalence, mediate, meta, lmm, glm)"},
      {"unknown option", Edited("standardize = true", "standardise = true"),
       file + ":24:15: step \"pain_model\": unknown option \"standardise\" for analysis regress (known: "
              "outcome, "
              "predictors, formula, standardize, plot-exposure, study, frame, censored, derive, cut, ref, by, min-cell, plot)"},
      {"wrong option type", Edited("standardize = true", "standardize = \"yes\""),
       file + ":24:15: step \"pain_model\": option \"standardize\" expects a boolean (true or false), found "
              "\"yes\""},
      {"missing required option", Edited("outcome = \"pain_change\"\n", ""),
       file +
           ":17:1: step \"pain_model\": analysis regress requires option \"outcome\" (Continuous outcome) or \"formula\""},
      {"unknown variable", Edited("predictors = [\"treatment\"", "predictors = [\"treatmnt\""),
       file + ":17:1: step \"pain_model\" (regress): regress: --predictors: unknown variable 'treatmnt' in "
              "the frame "
              "(did you mean treatment?)"},
      {"frame SQL that does not compile", Edited("FROM wide_trial\"", "FROM wide_trail\""),
       file + ":10:1: step \"correlations\" (correlate): SQL error: no such table: wide_trail"},
      {"a write in the frame",
       Edited("changes = \"SELECT *", "changes = \"DELETE FROM participant; SELECT *"),
       file + ":10:1: step \"correlations\" (correlate): --frame: refused: DELETE on participant is not allowed: "
              "queries are read-only (a frame only reads)"},
      {"a value the option does not take", Edited("y = [\"pain_change\"]", "y = [\"pain_change\"]\nmethod = \"kendall\""),
       file + ":10:1: step \"correlations\" (correlate): --method: expected pearson or spearman, found 'kendall'"},
      {"a list item the option does not take",
       Edited("analysis = \"correlate\"\n[step.options]\nx = [\"il6_change\"]\ny = [\"pain_change\"]",
              "analysis = \"compare\"\n[step.options]\nvars = [\"pain_change\"]\ngroup = \"treatment\"\n"
              "test = [\"t\", \"ztest\"]"),
       file + ":10:1: step \"correlations\" (compare): --test: expected t, welch or wilcoxon, found 'ztest'"},
      {"a reference level the variable does not have",
       Edited("standardize = true", "standardize = true\ncut = [\"il6_change=0\"]\nref = [\"il6_change_cat=middle\"]"),
       file + ":17:1: step \"pain_model\" (regress): --ref il6_change_cat=middle: 'il6_change_cat' has no level "
              "'middle'; its levels are '<0' and '>0'"},
      {"duplicate step name", Edited("name = \"pain_model\"", "name = \"correlations\""),
       file + ":18:8: step name \"correlations\" is used twice"},
  };
  const std::int64_t participants = Count(store, "participant");
  for (const Case& c : cases) {
    INFO(c.what);
    Write(dir, "recipe.toml", c.text);
    try {
      recipes::AddRecipeFile(store, file);
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string message = e.what();
      if (c.prefix_only) {
        CHECK(message.rfind(c.message, 0) == 0);
      } else {
        CHECK(message == c.message);
      }
    }
    CHECK(Count(store, "recipe") == 0);
    CHECK(Count(store, "participant") == participants);
  }
}

TEST_CASE("re-adding a recipe stores a new version only when the body changed", "[recipes][versions]") {
  TempDir dir;
  Store store = Store::Create(dir.File("store.cohortdb"));
  AddTrial(store);
  const std::string file = Write(dir, "trial.toml", kValid);
  const RecipeSaved first = recipes::AddRecipeFile(store, file);
  CHECK(first.created);
  CHECK(first.recipe.version == 1);
  const RecipeSaved again = recipes::AddRecipeFile(store, file);
  CHECK_FALSE(again.created);
  CHECK(again.recipe.version == 1);
  Write(dir, "trial.toml", Edited("standardize = true", "standardize = false"));
  const RecipeSaved changed = recipes::AddRecipeFile(store, file);
  CHECK(changed.created);
  CHECK(changed.recipe.version == 2);
  CHECK(Count(store, "recipe") == 2);
  CHECK(RemoveRecipe(store, "trial") == 2);
  CHECK_FALSE(LoadRecipe(store, "trial"));
}

TEST_CASE("a recipe run records each step against the recipe version and writes files", "[recipes][run]") {
  TempDir dir;
  Store store = Store::Create(dir.File("store.cohortdb"));
  AddTrial(store);
  const RecipeSaved saved = recipes::AddRecipeFile(store, Write(dir, "trial.toml", kValid));
  std::vector<std::string> steps;
  std::vector<std::filesystem::path> files;
  recipes::RunRecipe(store, saved.recipe, [&](const recipes::StepRun& run) {
    steps.push_back(run.step->name);
    CHECK(run.result.rows_used == 16);
    for (auto& f : recipes::WriteStepFiles(dir.path() / "out", run.step->name, run.result, run.run_id)) {
      files.push_back(f);
    }
  });
  CHECK(steps == std::vector<std::string>{"correlations", "pain_model"});
  const auto runs = ListAnalysisRuns(store);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].command == "correlate");
  CHECK(runs[0].recipe_name == "trial");
  CHECK(runs[0].recipe_version == 1);
  CHECK(runs[0].recipe_step == "correlations");
  CHECK(runs[1].recipe_step == "pain_model");
  CHECK(runs[1].rows_used == 16);
  CHECK(Count(store, "analysis_result") > 0);
  REQUIRE(files.size() == 4);
  for (const auto& f : files) {
    INFO(f);
    CHECK(std::filesystem::file_size(f) > 0);
  }
  std::ifstream json(dir.path() / "out" / "pain_model.json");
  const auto document = nlohmann::ordered_json::parse(json);
  CHECK(document["command"] == "regress");
  CHECK(document["run_id"] == runs[1].run_id);
  CHECK(document["rows_used"] == 16);
  bool has_treatment = false;
  for (const auto& row : document["rows"]) has_treatment = has_treatment || row["term"] == "treatment";
  CHECK(has_treatment);

  // The same recipe run again on the same data gives the same numbers.
  recipes::RunRecipe(store, saved.recipe, [](const recipes::StepRun&) {});
  CHECK(DiffAnalysisRuns(store, runs[1].run_id, runs[1].run_id + 2).Identical());
}

TEST_CASE("hostile option values reach SQL only as data", "[recipes][security]") {
  TempDir dir;
  Store store = Store::Create(dir.File("store.cohortdb"));
  AddTrial(store);
  const std::int64_t participants = Count(store, "participant");
  const std::string hostile = "'; DROP TABLE participant; --";
  for (const std::string& text : {Edited("outcome = \"pain_change\"", "outcome = \"" + hostile + "\""),
                                  Edited("frame = \"changes\"", "study = \"" + hostile + "\""),
                                  Edited("[defaults]\n", "[defaults]\nby = \"" + hostile + "\"\n"),
                                  Edited("frame = \"changes\"", "frame = \"" + hostile + "\"")}) {
    INFO(text);
    Write(dir, "hostile.toml", text);
    CHECK_THROWS_AS(recipes::AddRecipeFile(store, dir.File("hostile.toml")), InputError);
    CHECK(Count(store, "participant") == participants);
    CHECK(Count(store, "recipe") == 0);
  }
  // A hostile recipe name never reaches the recipe table either.
  REQUIRE_THROWS_AS(
      recipes::AddRecipeFile(
          store, Write(dir, "name.toml", Edited("name = \"trial\"", "name = \"" + hostile + "\""))),
      InputError);
  CHECK(Count(store, "recipe") == 0);
  CHECK(Count(store, "participant") == participants);
}

TEST_CASE("recipe add refuses derive / cut and per-sd values that recipe run would refuse", "[recipes][validate]") {
  TempDir dir;
  Store store = Store::Create(dir.File("store.cohortdb"));
  AddTrial(store);
  const std::string file = dir.File("recipe.toml");
  const std::string logistic = "analysis = \"logistic\"\ntitle = \"Pain change on allocation\"\n[step.options]\n"
                               "outcome = \"treatment\"\npredictors = [\"il6_change\"]\n";
  struct Case {
    const char* what;
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"a derive naming an unknown variable",
       Edited("standardize = true", "standardize = true\nderive = [\"d=change(painnrs, baseline, week12)\"]"),
       "step \"pain_model\" (regress): --derive: unknown variable 'painnrs_baseline'"},
      {"a derive that does not parse", Edited("standardize = true", "standardize = true\nderive = [\"d=log(il6)\"]"),
       "step \"pain_model\" (regress): --derive d: expected change(VAR, FROM, TO), days(DATE, FROM_DATE), z(VAR) or VAR>=VALUE, found "
       "'log(il6)'"},
      {"a derive without a name", Edited("standardize = true", "standardize = true\nderive = [\"il6>=2\"]"),
       "step \"pain_model\" (regress): --derive: expected NAME=change(VAR, FROM, TO)"},
      {"a cut point that is not a number", Edited("standardize = true", "standardize = true\ncut = [\"il6_change=abc\"]"),
       "step \"pain_model\" (regress): --cut il6_change: expected finite numbers, found 'abc'"},
      {"a cut point nan", Edited("standardize = true", "standardize = true\ncut = [\"il6_change=nan\"]"),
       "step \"pain_model\" (regress): --cut il6_change: expected finite numbers, found 'nan'"},
      {"a cut of an unknown variable", Edited("standardize = true", "standardize = true\ncut = [\"il7=1,2\"]"),
       "step \"pain_model\" (regress): --cut: unknown variable 'il7'"},
      {"per-sd = nan",
       Edited("analysis = \"regress\"\ntitle = \"Pain change on allocation\"\n[step.options]\noutcome = "
              "\"pain_change\"\npredictors = [\"treatment\", \"il6_change\"]\nstandardize = true",
              logistic + "per-sd = nan"),
       "step \"pain_model\" (logistic): --per-sd: expected a finite number, found nan"},
      {"per-sd = -inf",
       Edited("analysis = \"regress\"\ntitle = \"Pain change on allocation\"\n[step.options]\noutcome = "
              "\"pain_change\"\npredictors = [\"treatment\", \"il6_change\"]\nstandardize = true",
              logistic + "per-sd = -inf"),
       "step \"pain_model\" (logistic): --per-sd: expected a finite number, found -inf"},
      {"per-sd = 0",
       Edited("analysis = \"regress\"\ntitle = \"Pain change on allocation\"\n[step.options]\noutcome = "
              "\"pain_change\"\npredictors = [\"treatment\", \"il6_change\"]\nstandardize = true",
              logistic + "per-sd = 0"),
       "step \"pain_model\" (logistic): --per-sd: expected a positive number, found 0"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Write(dir, "recipe.toml", c.text);
    REQUIRE_THROWS_AS(recipes::AddRecipeFile(store, file), InputError);
    try {
      recipes::AddRecipeFile(store, file);
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains(c.message));
    }
    CHECK(Count(store, "recipe") == 0);
  }
}

TEST_CASE("a recipe body changed behind cohortdb's back is refused at run", "[recipes][versions]") {
  TempDir dir;
  Store store = Store::Create(dir.File("store.cohortdb"));
  AddTrial(store);
  const std::string file = Write(dir, "trial.toml", kValid);
  recipes::AddRecipeFile(store, file);
  // What `sql --write` can do: its rows may change.
  store.GuardedScript("UPDATE recipe SET body = replace(body, 'standardize = true', 'standardize = false')", true);
  const StoredRecipe tampered = *LoadRecipe(store, "trial");
  CHECK_FALSE(recipes::RecipeDigestMatches(tampered));
  REQUIRE_THROWS_AS(recipes::RunRecipe(store, tampered, [](const recipes::StepRun&) {}), StoreError);
  REQUIRE_THROWS_WITH(recipes::RunRecipe(store, tampered, [](const recipes::StepRun&) {}),
                      Catch::Matchers::StartsWith("recipe trial version 1: its stored text was changed outside "
                                                  "cohortdb (SHA-256 "));
  CHECK(Count(store, "analysis_run") == 0);
  // Adding the file again stores its text as a new version, which runs.
  const RecipeSaved again = recipes::AddRecipeFile(store, file);
  CHECK(again.created);
  CHECK(again.recipe.version == 2);
  CHECK(recipes::RecipeDigestMatches(again.recipe));
  recipes::RunRecipe(store, again.recipe, [](const recipes::StepRun&) {});
  CHECK(Count(store, "analysis_run") == 2);
}

}  // namespace cohortdb

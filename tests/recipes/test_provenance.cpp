// Provenance: analysis runs are written with their rows (NaN as NULL) in one
// transaction, read back unchanged, listed, and compared with --diff.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/version.h"
#include "store/provenance.h"
#include "store/recipe_store.h"
#include "store/store.h"

namespace cohortdb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ResultRow Row(std::string section, std::string term, double estimate, double p, std::int64_t n,
              std::string stratum = "") {
  ResultRow row;
  row.section = std::move(section);
  row.stratum = std::move(stratum);
  row.term = std::move(term);
  row.estimate = estimate;
  row.std_error = 0.1;
  row.p_value = p;
  row.n = n;
  return row;
}

AnalysisResultSet Regression() {
  AnalysisResultSet result;
  result.command = "regress";
  result.parameters = {
      {"outcome", "pain_change"}, {"predictors", {"arm", "il6_change"}}, {"standardize", true}};
  result.rows = {Row("coefficients", "(Intercept)", 1.5, 0.2, 41),
                 Row("coefficients", "arm", -0.512, 0.006, 41),
                 Row("coefficients", "il6_change", 0.25, 0.04, 41)};
  result.rows[0].extra = {{"std_beta", nullptr}};
  result.rows[1].extra = {{"std_beta", -0.512}};
  result.summary = {{"nobs", 41}, {"r_squared", 0.31}};
  result.diagnostics = {{"excluded", {{"missing il6_change", 2}}}};
  result.rows_used = 41;
  result.rows_excluded = 2;
  return result;
}

std::int64_t Count(Store& store, const std::string& table) {
  return std::get<std::int64_t>(store.Query("SELECT count(*) FROM " + table).rows[0][0]);
}

}  // namespace

TEST_CASE("a recorded run reads back with its provenance and rows", "[recipes][provenance]") {
  Store store = Store::Create(":memory:");
  AnalysisResultSet result = Regression();
  result.rows[2].conf_low = kNaN;
  result.min_cell = 5;
  const std::int64_t id = RecordAnalysisRun(store, result, std::nullopt, "", 12.5);
  CHECK(Count(store, "analysis_run") == 1);
  CHECK(Count(store, "analysis_result") == 3);
  // NaN is stored as NULL, not as a number.
  CHECK(std::holds_alternative<std::monostate>(
            store.Query("SELECT estimate FROM analysis_result WHERE run_id = ?1 AND row_index = 0", {id})
                .rows[0][0]) == false);
  CHECK(std::holds_alternative<std::monostate>(
      store.Query("SELECT conf_low FROM analysis_result WHERE run_id = ?1 AND row_index = 2", {id})
          .rows[0][0]));
  CHECK(std::holds_alternative<std::monostate>(
      store.Query("SELECT stratum FROM analysis_result WHERE run_id = ?1 AND row_index = 0", {id})
          .rows[0][0]));

  const auto run = LoadAnalysisRun(store, id);
  REQUIRE(run);
  CHECK(run->info.command == "regress");
  CHECK(run->info.parameters == result.parameters);
  CHECK(run->info.data_fingerprint == store.DataFingerprint());
  CHECK(run->info.tool_version == kVersion);
  CHECK(run->info.elapsed_ms == 12.5);
  CHECK(run->info.rows_used == 41);
  CHECK(run->info.rows_excluded == 2);
  CHECK(run->info.min_cell == 5);
  CHECK(run->info.summary == result.summary);
  CHECK(run->info.diagnostics == result.diagnostics);
  CHECK(run->info.started_at.size() == 24);  // 2026-11-22T04:48:24.123Z
  CHECK(run->info.recipe_name.empty());
  REQUIRE(run->rows.size() == 3);
  CHECK(run->rows[1].term == "arm");
  CHECK(run->rows[1].estimate == -0.512);
  CHECK(run->rows[1].p_value == 0.006);
  CHECK(run->rows[1].n == 41);
  CHECK(run->rows[1].extra == result.rows[1].extra);
  CHECK(std::isnan(run->rows[2].conf_low));
  CHECK(std::isnan(run->rows[0].statistic));

  CHECK_FALSE(LoadAnalysisRun(store, id + 1));
  const auto runs = ListAnalysisRuns(store);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].run_id == id);
}

TEST_CASE("a run from a recipe references the recipe version and step", "[recipes][provenance]") {
  Store store = Store::Create(":memory:");
  const RecipeSaved saved = SaveRecipe(store, "trial", "name = \"trial\"\n");
  const std::int64_t id = RecordAnalysisRun(store, Regression(), saved.recipe.recipe_id, "pain_model", 3);
  const auto run = LoadAnalysisRun(store, id);
  REQUIRE(run);
  CHECK(run->info.recipe_id == saved.recipe.recipe_id);
  CHECK(run->info.recipe_name == "trial");
  CHECK(run->info.recipe_version == 1);
  CHECK(run->info.recipe_step == "pain_model");
}

TEST_CASE("a run the store refuses leaves no partial rows", "[recipes][provenance]") {
  Store store = Store::Create(":memory:");
  AnalysisResultSet result = Regression();
  result.rows[2].p_value = 1.5;  // violates the p_value CHECK after two rows went in
  CHECK_THROWS_AS(RecordAnalysisRun(store, result, std::nullopt, "", 1), StoreError);
  CHECK(Count(store, "analysis_run") == 0);
  CHECK(Count(store, "analysis_result") == 0);
}

TEST_CASE("diff reports changed values / added and removed rows and parameter changes", "[recipes][diff]") {
  Store store = Store::Create(":memory:");
  const std::int64_t a = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  AnalysisResultSet changed = Regression();
  changed.parameters["predictors"] = {"arm", "crp_change"};
  changed.rows[1].estimate = -0.5;
  changed.rows[2].term = "crp_change";
  const std::int64_t b = RecordAnalysisRun(store, changed, std::nullopt, "", 1);

  const RunDiff diff = DiffAnalysisRuns(store, a, b);
  CHECK_FALSE(diff.fingerprint_changed);
  REQUIRE(diff.parameters.size() == 1);
  CHECK(diff.parameters[0].name == "predictors");
  CHECK(diff.parameters[0].old_value == nlohmann::ordered_json({"arm", "il6_change"}));
  CHECK(diff.parameters[0].new_value == nlohmann::ordered_json({"arm", "crp_change"}));
  REQUIRE(diff.rows.size() == 3);
  CHECK(diff.rows[0].change == RowChange::kChanged);
  CHECK(diff.rows[0].term == "arm");
  REQUIRE(diff.rows[0].values.size() == 1);
  CHECK(diff.rows[0].values[0].field == "estimate");
  CHECK(*diff.rows[0].values[0].old_value == -0.512);
  CHECK(*diff.rows[0].values[0].new_value == -0.5);
  CHECK(*diff.rows[0].values[0].delta() == Approx(0.012));
  CHECK(diff.rows[1].change == RowChange::kAdded);
  CHECK(diff.rows[1].term == "crp_change");
  CHECK(diff.rows[2].change == RowChange::kRemoved);
  CHECK(diff.rows[2].term == "il6_change");

  // A run compared with itself, and an identical re-run, show no change.
  CHECK(DiffAnalysisRuns(store, a, a).Identical());
  const std::int64_t c = RecordAnalysisRun(store, Regression(), std::nullopt, "", 2);
  CHECK(DiffAnalysisRuns(store, a, c).Identical());
}

TEST_CASE("diff sees a change of the data fingerprint", "[recipes][diff]") {
  Store store = Store::Create(":memory:");
  const std::int64_t a = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  store.Exec(
      "INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version) VALUES "
      "('x.csv', printf('%064d', 1), printf('%064d', 2), '2026-01-01T00:00:00Z', '0.1.0')");
  const std::int64_t b = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  const RunDiff diff = DiffAnalysisRuns(store, a, b);
  CHECK(diff.fingerprint_changed);
  CHECK(diff.rows.empty());
  CHECK_FALSE(diff.Identical());
}

TEST_CASE("diff refuses runs of different commands and unknown runs", "[recipes][diff]") {
  Store store = Store::Create(":memory:");
  const std::int64_t a = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  AnalysisResultSet other = Regression();
  other.command = "logistic";
  const std::int64_t b = RecordAnalysisRun(store, other, std::nullopt, "", 1);
  REQUIRE_THROWS_WITH(
      DiffAnalysisRuns(store, a, b),
      "cannot diff run 1 (regress) with run 2 (logistic): --diff compares two runs of the same "
      "analysis command");
  REQUIRE_THROWS_AS(DiffAnalysisRuns(store, a, b), InputError);
  REQUIRE_THROWS_WITH(DiffAnalysisRuns(store, a, 99), "no analysis run 99 in :memory:");
}

TEST_CASE("repeated row keys are matched by occurrence", "[recipes][diff]") {
  StoredRun a;
  a.info.command = "describe";
  a.rows = {Row("table1", "age", 50, kNaN, 10), Row("table1", "age", 12, kNaN, 10)};
  StoredRun b = a;
  b.rows[1].estimate = 13;
  const RunDiff diff = DiffRuns(a, b);
  REQUIRE(diff.rows.size() == 1);
  CHECK(diff.rows[0].term == "age #2");
  CHECK(diff.rows[0].values[0].field == "estimate");
}

TEST_CASE("recipe versions: new body new version / same body none / rm hides", "[recipes][store]") {
  Store store = Store::Create(":memory:");
  const RecipeSaved v1 = SaveRecipe(store, "trial", "body 1");
  CHECK(v1.created);
  CHECK(v1.recipe.version == 1);
  const RecipeSaved same = SaveRecipe(store, "trial", "body 1");
  CHECK_FALSE(same.created);
  CHECK(same.recipe.version == 1);
  const RecipeSaved v2 = SaveRecipe(store, "trial", "body 2");
  CHECK(v2.created);
  CHECK(v2.recipe.version == 2);
  CHECK(Count(store, "recipe") == 2);
  CHECK(LoadRecipe(store, "trial")->body == "body 2");
  CHECK(LoadRecipe(store, "trial", 1)->body == "body 1");
  CHECK_FALSE(LoadRecipe(store, "trial", 3));
  const auto list = ListRecipes(store);
  REQUIRE(list.size() == 1);
  CHECK(list[0].version == 2);
  CHECK(list[0].versions == 2);
  CHECK(list[0].runs == 0);
  // Two runs of a two-step recipe record four analysis runs: runs counts 2.
  for (int run = 0; run < 2; ++run) {
    for (const char* step : {"first", "second"}) RecordAnalysisRun(store, Regression(), v2.recipe.recipe_id, step, 1);
  }
  CHECK(ListRecipes(store)[0].runs == 2);

  CHECK(RemoveRecipe(store, "trial") == 2);
  CHECK_FALSE(LoadRecipe(store, "trial"));
  CHECK(ListRecipes(store).empty());
  CHECK(RemoveRecipe(store, "trial") == 0);
  // Adding it again continues the numbering: runs of old versions stay unambiguous.
  CHECK(SaveRecipe(store, "trial", "body 1").recipe.version == 3);

  REQUIRE_THROWS_WITH(
      SaveRecipe(store, "bad name';--", "x"),
      "recipe name \"bad name';--\" is not valid: expected 1 to 64 characters of letters, digits, "
      "'_', '.' or '-'");
}

}  // namespace cohortdb

namespace cohortdb {

TEST_CASE("diff with a relative tolerance ignores rounding-level changes", "[recipes][diff]") {
  StoredRun a;
  a.info.command = "regress";
  a.rows = {Row("coefficients", "arm", -0.512, 0.006, 41)};
  StoredRun b = a;
  b.rows[0].estimate = -0.512 * (1 + 1e-12);
  CHECK(DiffRuns(a, b, 0).rows.size() == 1);  // 0: exactly
  CHECK(DiffRuns(a, b, 1e-9).Identical());
  b.rows[0].estimate = -0.5;
  CHECK(DiffRuns(a, b, 1e-9).rows.size() == 1);
  // NULL on one side and a value on the other always differ.
  b = a;
  b.rows[0].p_value = kNaN;
  const RunDiff diff = DiffRuns(a, b, 0.5);
  REQUIRE(diff.rows.size() == 1);
  CHECK(diff.rows[0].values[0].field == "p_value");
  CHECK_FALSE(diff.rows[0].values[0].new_value);
  CHECK_FALSE(diff.rows[0].values[0].delta());
}

TEST_CASE("a term that differs only in its qualifier is compared / not added and removed", "[recipes][diff]") {
  StoredRun a;
  a.info.command = "meta";
  a.rows = {Row("pooled", "pooled (REML)", -0.65, 1e-27, 20), Row("studies", "T01", -0.4, kNaN, 80)};
  StoredRun b = a;
  b.rows[0].term = "pooled (FE)";
  b.rows[0].estimate = -0.649;
  const RunDiff diff = DiffRuns(a, b);
  REQUIRE(diff.rows.size() == 1);
  CHECK(diff.rows[0].change == RowChange::kChanged);
  CHECK(diff.rows[0].term == "pooled (FE)");
  CHECK(diff.rows[0].term_a == "pooled (REML)");
  REQUIRE(diff.rows[0].values.size() == 1);
  CHECK(*diff.rows[0].values[0].old_value == -0.65);
}

}  // namespace cohortdb

namespace cohortdb {

// Issue 13 item 7: results differing by 1e-15 were listed as changed.
TEST_CASE("diff ignores rounding noise by default / as R's all.equal", "[recipes][diff]") {
  StoredRun a;
  a.info.command = "regress";
  a.rows = {Row("coefficients", "arm", 0.1 + 0.2, 0.006, 41), Row("coefficients", "age", 1e-17, 0.5, 41)};
  StoredRun b = a;
  b.rows[0].estimate = 0.3;               // 5.6e-17 apart
  b.rows[0].std_error = 0.1 * (1 + 1e-15);
  b.rows[1].estimate = -3e-17;            // both rounding noise around 0
  CHECK(DiffRuns(a, b).Identical());
  CHECK(DiffRuns(a, b, 0).rows.size() == 2);
  // A change at the default's scale is shown.
  b.rows[0].estimate = 0.3 * (1 + 1e-7);
  const RunDiff diff = DiffRuns(a, b);
  REQUIRE(diff.rows.size() == 1);
  CHECK(diff.rows[0].values.size() == 1);
  CHECK(diff.rows[0].values[0].field == "estimate");
  CHECK(kDefaultDiffTolerance == Approx(1.49e-8).epsilon(0.01));
  CHECK(SameValue(100.0, 100.0 + 1e-6, kDefaultDiffTolerance));  // relative: 1e-8
  CHECK_FALSE(SameValue(100.0, 100.0 + 1e-5, kDefaultDiffTolerance));
  CHECK(SameValue(1e-9, -1e-9, kDefaultDiffTolerance));  // absolute below the tolerance
  CHECK_FALSE(SameValue(1e-6, 2e-6, kDefaultDiffTolerance));
  CHECK_FALSE(SameValue(std::nullopt, 0.0, 1.0));
  CHECK(SameValue(std::nullopt, std::nullopt, 0.0));
}

// Issue 13 item 7: `--predictors a,b` was stored as ["a,b"], a recipe's list
// as ["a","b"], and the diff reported a parameter change.
TEST_CASE("diff compares list parameters by the names they hold", "[recipes][diff]") {
  StoredRun a;
  a.info.command = "regress";
  a.info.parameters = {{"outcome", "pain"}, {"predictors", {"arm,il6_change"}}, {"per-sd", 2}};
  StoredRun b = a;
  b.info.parameters = {{"per-sd", 2.0}, {"predictors", {"arm", "il6_change"}}, {"outcome", "pain"}};
  CHECK(DiffRuns(a, b).Identical());
  b.info.parameters["predictors"] = "arm, il6_change";
  CHECK(DiffRuns(a, b).Identical());
  b.info.parameters["predictors"] = {"il6_change", "arm"};  // another order is another model's term order
  CHECK(DiffRuns(a, b).parameters.size() == 1);
  b.info.parameters["predictors"] = {"arm"};
  REQUIRE(DiffRuns(a, b).parameters.size() == 1);
  CHECK(DiffRuns(a, b).parameters[0].name == "predictors");
}

// Issue 13 item 3: `results --diff` said "data: unchanged" after an UPDATE
// through `sql --write` that moved an estimate.
TEST_CASE("diff lists the sql --write edits made between two runs", "[recipes][diff]") {
  Store store = Store::Create(":memory:");
  store.Exec(
      "INSERT INTO study (code, design) VALUES ('trial', 'trial');"
      "INSERT INTO participant (study_id, external_id) VALUES (1, 'P01'), (1, 'P02');");
  const std::int64_t a = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  store.GuardedScript("UPDATE participant SET age_years = 40", true);
  store.GuardedScript("SELECT 1", true);  // no edit
  store.GuardedScript("DELETE FROM participant WHERE external_id = 'P02'", true);
  const std::int64_t b = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  store.GuardedScript("UPDATE participant SET age_years = 41", true);
  const std::int64_t c = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);

  const RunDiff diff = DiffAnalysisRuns(store, a, b);
  CHECK(diff.fingerprint_changed);
  CHECK_FALSE(diff.Identical());
  REQUIRE(diff.edits.size() == 2);
  CHECK(diff.edits[0].edit_id == 1);
  CHECK(diff.edits[0].statement == "UPDATE participant SET age_years = 40");
  CHECK(diff.edits[0].rows_changed == 2);
  CHECK(diff.edits[0].objects == std::vector<std::string>{"participant"});
  CHECK(diff.edits[1].rows_changed == 1);
  // In either order, and only the edits between the two runs.
  CHECK(DiffAnalysisRuns(store, b, a).edits.size() == 2);
  REQUIRE(DiffAnalysisRuns(store, b, c).edits.size() == 1);
  CHECK(DiffAnalysisRuns(store, b, c).edits[0].edit_id == 3);
  CHECK(DiffAnalysisRuns(store, a, c).edits.size() == 3);
  // Two runs with no edit between them: the same data.
  const std::int64_t d = RecordAnalysisRun(store, Regression(), std::nullopt, "", 1);
  CHECK(DiffAnalysisRuns(store, c, d).Identical());
  CHECK(DiffAnalysisRuns(store, c, d).edits.empty());
}

}  // namespace cohortdb

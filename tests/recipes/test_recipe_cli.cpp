// The recipe and results commands through the cohortdb binary, and the demo
// (tools/demo) end to end on a 3,000-participant cut of the example cohort.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "example_stores.h"
#include "html_check.h"
#include "recipes/html_report.h"
#include "recipes/recipe.h"
#include "store/provenance.h"
#include "store/recipe_store.h"
#include "store/store.h"
#include "support/run_binary.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

using test::Example;

std::int64_t Count(Store& store, const std::string& table) {
  return std::get<std::int64_t>(store.Query("SELECT count(*) FROM " + table).rows[0][0]);
}

}  // namespace

TEST_CASE("recipe and results commands on the example meta-analysis", "[recipes][cli]") {
  TempDir dir;
  const std::string store = Quote(dir.File("meta.cohortdb"));
  REQUIRE(Cohortdb(dir, "init " + store).exit_code == 0);
  test::AddMetaTrials(dir, store);

  Output added = Cohortdb(dir, "recipe add " + store + " " + Example("recipes/meta.toml"));
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  CHECK(added.out == "stored recipe meta version 1 (3 steps)\n");
  added = Cohortdb(dir, "recipe add " + store + " " + Example("recipes/meta.toml"));
  CHECK(added.out == "recipe meta is unchanged (same as version 1); nothing stored\n");

  // A broken recipe: exit code 3, the step named, nothing stored.
  std::ofstream(dir.File("bad.toml")) << "name = \"bad\"\n[[step]]\nname = \"pooled\"\nanalysis = \"meta\"\n"
                                         "[step.options]\nstudy = \"exercise_meta\"\noutcome = \"pain\"\n"
                                         "method = 7\n";
  const Output bad = Cohortdb(dir, "recipe add " + store + " " + Quote(dir.File("bad.toml")));
  CHECK(bad.exit_code == 3);
  CHECK(bad.err == "cohortdb: " + dir.File("bad.toml") +
                       ":8:10: step \"pooled\": option \"method\" expects a string, found 7\n");
  CHECK(Cohortdb(dir, "recipe show " + store + " bad").exit_code == 3);

  // A directory is no recipe file; run 0 is no run.
  const Output dir_recipe = Cohortdb(dir, "recipe add " + store + " " + Quote(dir.File("")));
  CHECK(dir_recipe.exit_code == 3);
  CHECK(dir_recipe.err.find("cannot read recipe file: it is a directory") != std::string::npos);
  const Output run_zero = Cohortdb(dir, "results " + store + " 0");
  CHECK(run_zero.exit_code == 3);
  CHECK(run_zero.err.find("no analysis run 0 in ") != std::string::npos);
  const Output nan_tolerance = Cohortdb(dir, "results " + store + " --diff 1 2 --tolerance nan");
  CHECK(nan_tolerance.exit_code == 2);
  CHECK(nan_tolerance.err == "cohortdb: results: --tolerance: expected a number of 0 or more, found nan\n");

  // An --out that is a file fails before any step runs: no run recorded.
  std::ofstream(dir.File("afile")) << "x";
  const Output bad_out = Cohortdb(dir, "recipe run " + store + " meta --out " + Quote(dir.File("afile")));
  CHECK(bad_out.exit_code == 3);
  CHECK(bad_out.err.find("afile: cannot create output folder") != std::string::npos);
  CHECK(Cohortdb(dir, "sql " + store + " 'SELECT count(*) FROM analysis_run' --format csv").out == "count(*)\r\n0\r\n");

  const Output list = Cohortdb(dir, "recipe list " + store + " --format csv");
  CHECK(list.out.find("meta,1,1,3,") != std::string::npos);
  const Output shown = Cohortdb(dir, "recipe show " + store + " meta");
  CHECK(shown.out.find("# recipe meta version 1") == 0);
  CHECK(shown.out.find("name = \"meta\"") != std::string::npos);

  const Output ran = Cohortdb(dir, "recipe run " + store + " meta --out " + Quote(dir.File("out")));
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  CHECK(ran.out.find("== meta / step 1: Pain: Hedges' g, random effects (REML)") != std::string::npos);
  for (const char* file :
       {"pain_pooled.csv", "pain_pooled.json", "pain_pooled.svg", "pain_fixed.csv", "pain_duration.json"}) {
    INFO(file);
    CHECK(std::filesystem::exists(dir.path() / "out" / file));
  }
  CHECK(Slurp(dir.path() / "out" / "pain_pooled.svg").find("<svg") != std::string::npos);

  // The step files hold metafor's numbers (tests/reference/recipes_meta.R;
  // REML tau^2 to 1e-5 as the statistics issue asks).
  auto term = [&](const char* file, const std::string& name) {
    const auto document = nlohmann::ordered_json::parse(Slurp(dir.path() / "out" / file));
    for (const auto& r : document["rows"]) {
      if (r["term"] == name) return r;
    }
    FAIL("no term " << name << " in " << file);
    return nlohmann::ordered_json();
  };
  using Catch::Matchers::WithinRel;
  const auto reml = term("pain_pooled.json", "pooled (REML)");
  CHECK_THAT(reml["estimate"].get<double>(), WithinRel(-0.650232944457802, 1e-6));
  CHECK_THAT(reml["std_error"].get<double>(), WithinRel(0.06010157397396, 1e-5));
  CHECK_THAT(reml["tau2"].get<double>(), WithinRel(0.0251870367974063, 1e-5));
  CHECK_THAT(term("pain_fixed.json", "pooled (FE)")["estimate"].get<double>(),
             WithinRel(-0.649008810661304, 1e-8));
  const auto slope = term("pain_duration.json", "duration_weeks");
  CHECK_THAT(slope["estimate"].get<double>(), WithinRel(-0.0319483219069731, 1e-6));
  CHECK_THAT(slope["p_value"].get<double>(), WithinRel(0.000202641078921467, 1e-5));

  // results: the list, one run, and --diff between REML and FE pooling.
  const Output runs = Cohortdb(dir, "results " + store + " --format csv");
  CHECK(runs.out.find("1,meta,meta v1 / pain_pooled,") != std::string::npos);
  CHECK(runs.out.find("3,meta,meta v1 / pain_duration,") != std::string::npos);
  const Output one = Cohortdb(dir, "results " + store + " 1");
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("meta version 1") != std::string::npos);
  const Output diff = Cohortdb(dir, "results " + store + " --diff 1 2");
  INFO(diff.err);
  CHECK(diff.exit_code == 0);
  CHECK(diff.out.find("data: unchanged") != std::string::npos);
  CHECK(diff.out.find("| method") != std::string::npos);
  CHECK(diff.out.find("\"REML\"") != std::string::npos);
  CHECK(diff.out.find("\"FE\"") != std::string::npos);
  const Output json = Cohortdb(dir, "results " + store + " --diff 1 2 --format json");
  const auto document = nlohmann::ordered_json::parse(json.out);
  CHECK(document["fingerprint_changed"] == false);
  CHECK(document["identical"] == false);
  CHECK(Cohortdb(dir, "results " + store + " --diff 1 99").exit_code == 3);

  // A run of another command cannot be compared.
  {
    Store s = Store::Open(dir.File("meta.cohortdb"));
    AnalysisResultSet other;
    other.command = "regress";
    other.parameters = nlohmann::ordered_json::object();
    RecordAnalysisRun(s, other, std::nullopt, "", 1);
  }
  const Output refused = Cohortdb(dir, "results " + store + " --diff 1 4");
  CHECK(refused.exit_code == 3);
  CHECK(refused.err ==
        "cohortdb: cannot diff run 1 (meta) with run 4 (regress): --diff compares two runs of the "
        "same analysis command\n");

  CHECK(Cohortdb(dir, "recipe rm " + store + " meta").out ==
        "removed recipe meta (1 versions; runs recorded from it are kept)\n");
  CHECK(Cohortdb(dir, "recipe run " + store + " meta").exit_code == 3);
}

TEST_CASE("sql --timeout outside 0.001 to 86400 seconds is a usage error", "[recipes][cli]") {
  TempDir dir;
  const std::string store = dir.File("s.cohortdb");
  REQUIRE(Cohortdb(dir, "init " + store).exit_code == 0);
  for (const char* timeout : {"0", "-1", "nan", "1e20"}) {
    const Output run = Cohortdb(dir, "sql " + store + " 'SELECT 1' --timeout " + timeout);
    INFO(timeout);
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("sql: --timeout: expected seconds from 0.001 to 86400, found ") != std::string::npos);
  }
  CHECK(Cohortdb(dir, "sql " + store + " 'SELECT 1' --timeout 0.5").exit_code == 0);
}

TEST_CASE("the trial recipe run through the binary equals R on the example exports", "[recipes][cli][r]") {
  TempDir dir;
  const std::string store = Quote(dir.File("trial.cohortdb"));
  test::TrialStore(dir, store);
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Example("recipes/trial.toml")).exit_code == 0);
  const Output ran = Cohortdb(dir, "recipe run " + store + " trial --format json");
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  const auto document = nlohmann::ordered_json::parse(ran.out);
  REQUIRE(document["steps"].size() == 5);
  auto row = [&](const std::string& step, const std::string& term) -> const nlohmann::ordered_json& {
    for (const auto& s : document["steps"]) {
      if (s["step"] != step) continue;
      for (const auto& r : s["rows"]) {
        if (r["term"] == term && r["stratum"] == "") return r;
      }
    }
    FAIL("no row " << step << " / " << term);
    static const nlohmann::ordered_json kNone;
    return kNone;
  };
  // Expected values: tests/reference/recipes_trial.R (cor.test and lm on the
  // same exports, censored values as limit/sqrt 2, hs-CRP mg/dL x 10).
  using Catch::Matchers::WithinRel;
  CHECK_THAT(row("correlations", "il6_change ~ pain_change")["estimate"].get<double>(),
             WithinRel(0.458753256572308, 1e-8));
  CHECK_THAT(row("correlations", "il6_change ~ pain_change")["p_value"].get<double>(),
             WithinRel(0.00255531359229304, 1e-6));
  CHECK_THAT(row("correlations", "crp_change ~ pain_change")["estimate"].get<double>(),
             WithinRel(0.426827807931887, 1e-8));
  CHECK_THAT(row("pain_regression", "treatment_baseline")["estimate"].get<double>(),
             WithinRel(-1.66556158932187, 1e-8));
  CHECK_THAT(row("pain_regression", "treatment_baseline")["p_value"].get<double>(),
             WithinRel(3.12655194286786e-06, 1e-6));
  CHECK_THAT(row("pain_regression", "treatment_baseline")["std_beta"].get<double>(),
             WithinRel(-0.550546051724344, 1e-8));
  CHECK_THAT(row("physical_regression", "treatment_baseline")["estimate"].get<double>(),
             WithinRel(3.85917760974323, 1e-8));
  CHECK_THAT(row("physical_regression", "treatment_baseline")["std_beta"].get<double>(),
             WithinRel(0.516253330974387, 1e-8));
  // The lmm step over both visits (lmer + lmerTest, recipes_trial.R "lmm").
  const auto& interaction = row("pain_over_visits", "armexercise:visitweek12");
  CHECK_THAT(interaction["estimate"].get<double>(), WithinRel(-1.73809523809524, 1e-6));
  CHECK_THAT(interaction["std_error"].get<double>(), WithinRel(0.396504143443408, 1e-6));
  CHECK_THAT(interaction["df"].get<double>(), WithinRel(39.0000000054636, 1e-4));
  CHECK_THAT(interaction["p_value"].get<double>(), WithinRel(8.55871554504749e-05, 1e-4));
  CHECK(interaction["n"] == 82);
  // Every step is recorded against the recipe.
  const Output runs = Cohortdb(dir, "results " + store + " --format csv");
  CHECK(runs.out.find("4,mediate,trial v1 / mediation,") != std::string::npos);
}

namespace {

// Runs tools/demo with "participants" cohort participants (empty: all 30,000)
// and checks its files, runs and output.
// Runs every example `cohortdb --help` prints, as printed, from a directory
// laid out like the repository root after tools/demo ("dir" holds
// demo-output/; examples/ links to the sources').
void RunHelpExamples(const TempDir& dir) {
  std::filesystem::create_directory_symlink(std::filesystem::path(COHORTDB_SOURCE_DIR) / "examples",
                                            dir.File("examples"));
  const Output help = Cohortdb(dir, "--help");
  REQUIRE(help.exit_code == 0);
  std::istringstream lines(help.out);
  int examples = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::string prefix = "  cohortdb ";
    if (line.rfind(prefix, 0) != 0) continue;
    ++examples;
    const Output run = Shell(dir, "cd " + Quote(dir.File("")) + " && " + Quote(COHORTDB_BINARY) + " " +
                                      line.substr(prefix.size()));
    INFO(line);
    INFO(run.err);
    CHECK(run.exit_code == 0);
  }
  CHECK(examples >= 16);  // one per command
}

std::string FileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A recipe step's JSON without what differs between runs by design (run id,
// parameters) and the views path's missing note on censored values.
std::string ComparableJson(const std::filesystem::path& path) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(FileText(path));
  j.erase("run_id");
  j.erase("parameters");
  if (j.contains("diagnostics")) j["diagnostics"].erase("censored");
  return j.dump();
}

// Every demo recipe gives the same files through the pivot views, through
// the pivot reader filling the frame column cache (cold) and through the
// reader served by it (warm).
void CheckRecipesSameAsViews(const TempDir& dir, const std::string& store) {
  for (const std::string recipe : {"trial", "cohort", "meta"}) {
    INFO(recipe);
    auto run = [&](const std::string& env, const std::string& out) {
      const Output r = Shell(dir, env + Quote(COHORTDB_BINARY) + " recipe run " + Quote(store) + " " + recipe +
                                      " --out " + Quote(dir.File(out)));
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
    };
    run("COHORTDB_FRAME_READER=views ", "views-" + recipe);
    REQUIRE(Cohortdb(dir, "sql " + Quote(store) + " \"DELETE FROM frame_column\" --write").exit_code == 0);
    run("", "cold-" + recipe);
    run("", "warm-" + recipe);
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.File("views-" + recipe))) {
      const std::string file = entry.path().filename().string();
      const auto cold = std::filesystem::path(dir.File("cold-" + recipe)) / file;
      const auto warm = std::filesystem::path(dir.File("warm-" + recipe)) / file;
      INFO(file);
      ++files;
      if (entry.path().extension() == ".json") {
        CHECK(ComparableJson(cold) == ComparableJson(entry.path()));
        CHECK(ComparableJson(warm) == ComparableJson(entry.path()));
      } else {
        CHECK(FileText(cold) == FileText(entry.path()));
        CHECK(FileText(warm) == FileText(entry.path()));
      }
    }
    CHECK(files > 0);
  }
}

void RunDemo(const std::string& participants) {
  TempDir dir;
  const std::string out = dir.File("demo-output");
  const Output demo =
      Shell(dir, "COHORTDB_BINARY=" + Quote(COHORTDB_BINARY) + " COHORTDB_DEMO_OUT=" + Quote(out) +
                     (participants.empty() ? "" : " COHORTDB_DEMO_PARTICIPANTS=" + participants) + " " +
                     Quote(std::string(COHORTDB_SOURCE_DIR) + "/tools/demo"));
  INFO(demo.out.substr(demo.out.size() > 4000 ? demo.out.size() - 4000 : 0));
  INFO(demo.err);
  REQUIRE(demo.exit_code == 0);
  for (const char* file :
       {"trial/correlations.csv", "trial/pain_regression.json", "trial/physical_regression.csv",
        "trial/mediation.json", "cohort/table1.csv", "cohort/prevalence_activity.json",
        "cohort/cbp_mixed.svg", "cohort/cbp_by_osteoarthritis.csv", "cohort/cbp_by_osteoporosis.csv",
        "cohort/pain_nrs4_mixed.json", "meta/pain_pooled.svg", "meta/pain_duration.csv"}) {
    INFO(file);
    CHECK(std::filesystem::file_size(std::filesystem::path(out) / file) > 0);
  }
  // One HTML report per recipe: well-formed, nothing fetched from a network,
  // every step's title and command line, a plot per plotting step.
  for (const char* name : {"trial", "cohort", "meta"}) {
    const std::string path = out + "/" + name + ".html";
    INFO(path);
    CHECK(demo.out.find(path) != std::string::npos);
    const std::string html = Slurp(path);
    const auto problems = test::CheckHtml(html);
    for (const auto& p : problems) INFO(p);
    CHECK(problems.empty());
    const std::string source = std::string(COHORTDB_SOURCE_DIR) + "/examples/recipes/" + name + ".toml";
    const recipes::Recipe recipe = recipes::ParseRecipe(Slurp(source), source);
    CHECK(html.find("<h1>" + recipes::HtmlEscape(recipe.title) + "</h1>") != std::string::npos);
    std::size_t plots = 0;
    std::size_t index = 0;
    for (const recipes::RecipeStep& step : recipe.steps) {
      INFO(step.name);
      ++index;
      const auto at = html.find("<section class=\"step\" id=\"step-" + step.name + "\">");
      REQUIRE(at != std::string::npos);
      const auto end = html.find("</section>", at);
      const std::string section = html.substr(at, end - at);
      CHECK(section.find("<h2>" + std::to_string(index) + ". " + recipes::HtmlEscape(step.title) + "</h2>") !=
            std::string::npos);
      CHECK(section.find("<pre class=\"command\">cohortdb " + step.request.command + " ") != std::string::npos);
      CHECK(section.find("<table>") != std::string::npos);
      CHECK(section.find("rows used") != std::string::npos);
      CHECK((section.find("<svg") != std::string::npos) == step.plot);
      plots += step.plot;
    }
    CHECK(plots == (std::string(name) == "trial" ? 0U : std::string(name) == "cohort" ? 4U : 1U));
    CHECK(html.find("data fingerprint") != std::string::npos);
  }
  // The report of two recorded runs (results --report): both meta steps read
  // back from the store, the pooled one with its forest plot.
  {
    const std::string path = out + "/meta_pooled_vs_fixed.html";
    CHECK(demo.out.find(path) != std::string::npos);
    const std::string html = Slurp(path);
    const auto problems = test::CheckHtml(html);
    for (const auto& p : problems) INFO(p);
    CHECK(problems.empty());
    CHECK(html.find("<section class=\"step\" id=\"step-pain_pooled\">") != std::string::npos);
    CHECK(html.find("<section class=\"step\" id=\"step-pain_fixed\">") != std::string::npos);
    CHECK(html.find("<section class=\"step\" id=\"step-pain_duration\">") == std::string::npos);
    std::size_t svgs = 0;
    for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
    CHECK(svgs == 1U);
  }

  Store store = Store::Open(out + "/demo.cohortdb", OpenMode::kReadOnly);
  CHECK(Count(store, "recipe") == 3);
  CHECK(Count(store, "analysis_run") == 14);
  CHECK(Count(store, "analysis_run WHERE recipe_id IS NULL") == 0);
  const std::int64_t cohort = participants.empty() ? 30000 : std::stoll(participants);
  CHECK(Count(store, "participant") == cohort + 41);
  CHECK(demo.out.find("### Recipe cohort") != std::string::npos);
  CHECK(demo.out.find("Odds ratios") != std::string::npos);
  CHECK(demo.out.find("results changed:") != std::string::npos);
  if (!participants.empty()) RunHelpExamples(dir);  // once is enough; the cut is quicker
  if (!participants.empty()) CheckRecipesSameAsViews(dir, out + "/demo.cohortdb");
}

}  // namespace

// The demo as users run it: all 30,000 cohort participants (about 10 s on an
// idle 2-core machine).
TEST_CASE("tools/demo runs end to end", "[recipes][demo]") { RunDemo(""); }

// COHORTDB_DEMO_PARTICIPANTS cuts the cohort to its first N participants.
TEST_CASE("tools/demo runs on a smaller cut of the cohort", "[recipes][demo]") { RunDemo("3000"); }

}  // namespace cohortdb

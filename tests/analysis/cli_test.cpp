// The analysis commands through the built binary: options generated from the
// registry, output formats, --out, --plot, the provenance row of every run.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "analysis_fixture.h"
#include "store/store.h"

using Catch::Matchers::Contains;
using namespace cohortdb;
using namespace cohortdb::testing;

namespace {

struct Run {
  int code = 0;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("cohortdb_analysis_cli_" + std::to_string(std::rand()) + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

Run Cohortdb(const TempDir& dir, const std::string& args) {
  const auto out = dir.path() / "stdout.txt";
  const auto err = dir.path() / "stderr.txt";
  const std::string command = std::string("\"") + COHORTDB_BINARY + "\" " + args + " >\"" + out.string() +
                              "\" 2>\"" + err.string() + "\"";
  const int status = std::system(command.c_str());
  Run run;
  run.code = WEXITSTATUS(status);
  run.out = Slurp(out);
  run.err = Slurp(err);
  return run;
}

}  // namespace

TEST_CASE("cli: regress prints a paper table and records the run", "[analysis][cli]") {
  TempDir dir;
  const std::string store = (dir.path() / "trial.cohortdb").string();
  TrialStore(store);
  const Run run =
      Cohortdb(dir, "regress " + store +
                        " --study trial --derive \"pain_change=change(pain_nrs, baseline, week12)\""
                        " --derive \"il6_change=change(il6, baseline, week12)\""
                        " --outcome pain_change --predictors arm,il6_change --standardize");
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.out, Contains("| Arm "));
  CHECK_THAT(run.out, Contains("|   intervention "));
  CHECK_THAT(run.out, Contains("n = 37 rows used (3 excluded: missing il6_change 3)"));
  CHECK_THAT(run.err, Contains("recorded as run 1"));
  Store opened = Store::Open(store, OpenMode::kReadOnly);
  const auto runs = opened.Query("SELECT command, rows_used, rows_excluded FROM analysis_run");
  REQUIRE(runs.rows.size() == 1);
  CHECK(std::get<std::string>(runs.rows[0][0]) == "regress");
  CHECK(std::get<std::int64_t>(runs.rows[0][1]) == 37);
  const auto rows = opened.Query("SELECT count(*) FROM analysis_result WHERE run_id = 1");
  CHECK(std::get<std::int64_t>(rows.rows[0][0]) == 4);  // (Intercept), arm's reference row, armintervention, il6_change
  // results prints the stored run as the analysis printed it; --codes prints the codes
  const Run shown = Cohortdb(dir, "results " + store + " 1");
  REQUIRE(shown.code == 0);
  CHECK_THAT(shown.out, Contains("|   intervention "));
  CHECK_THAT(shown.out, !Contains("armintervention"));
  const Run coded = Cohortdb(dir, "results " + store + " 1 --codes");
  REQUIRE(coded.code == 0);
  CHECK_THAT(coded.out, Contains("| armintervention "));
  const Run direct = Cohortdb(dir, "regress " + store +
                                       " --study trial --derive \"pain_change=change(pain_nrs, baseline, week12)\""
                                       " --outcome pain_change --predictors arm --codes --no-record");
  REQUIRE(direct.code == 0);
  CHECK_THAT(direct.out, Contains("| armintervention "));
  CHECK_THAT(direct.out, Contains("Coefficients for pain_change"));
}

TEST_CASE("cli: logistic with --format csv --out / --plot and --no-record", "[analysis][cli][plot]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  const auto csv = dir.path() / "or.csv";
  const auto svg = dir.path() / "or.svg";
  const Run run = Cohortdb(dir, "logistic " + store +
                                    " --study cohort --outcome cbp --predictors lmm,intermat --predictors sex"
                                    " --per-sd 2 --format csv --no-record --out " +
                                    csv.string() + " --plot " + svg.string());
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.out.empty());
  const std::string text = Slurp(csv);
  CHECK(text.rfind("section,stratum,term,label,estimate", 0) == 0);
  CHECK_THAT(text, Contains("odds_ratios,,lmm,"));
  CHECK_THAT(Slurp(svg), Contains("lmm (per 2 SD = 9.4"));
  Store opened = Store::Open(store, OpenMode::kReadOnly);
  CHECK(std::get<std::int64_t>(opened.Query("SELECT count(*) FROM analysis_run").rows[0][0]) == 0);
}

TEST_CASE("cli: json and markdown formats / errors exit with the input-error code", "[analysis][cli]") {
  TempDir dir;
  const std::string store = (dir.path() / "meta.cohortdb").string();
  MetaStore(store);
  const Run json = Cohortdb(dir, "meta " + store + " --study meta --outcome pain --format json --no-record");
  REQUIRE(json.code == 0);
  const auto parsed = nlohmann::json::parse(json.out);
  CHECK(parsed["command"] == "meta");
  const Run markdown =
      Cohortdb(dir, "meta " + store + " --study meta --outcome pain --format markdown --no-record");
  REQUIRE(markdown.code == 0);
  CHECK_THAT(markdown.out, Contains("### Pooled"));
  const Run bad = Cohortdb(dir, "meta " + store + " --study meta --outcome pian --no-record");
  CHECK(bad.code == 3);
  CHECK_THAT(bad.err, Contains("no trial summaries for outcome 'pian'"));
  const Run usage = Cohortdb(dir, "meta " + store + " --study meta --outcome pain --bogus");
  CHECK(usage.code == 2);
}

TEST_CASE("cli: info --format json is one document / --schema shows the pivots / sql results stay apart",
          "[analysis][cli]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  const Run json = Cohortdb(dir, "info " + store + " --format json");
  REQUIRE(json.code == 0);
  const auto info = nlohmann::json::parse(json.out);
  CHECK(info["schema_version"] == info["current_version"]);
  CHECK(info["studies"][0]["study"] == "cohort");
  CHECK(info["studies"][0]["participants"] == 400);
  const Run csv = Cohortdb(dir, "info " + store + " --format csv");
  CHECK(csv.code == 2);
  CHECK_THAT(csv.err, Contains("use --format json"));
  const Run schema = Cohortdb(dir, "info " + store + " --schema");
  REQUIRE(schema.code == 0);
  CHECK_THAT(schema.out, Contains("CREATE VIEW wide_cohort"));

  // Non-finite reals stay apart from NULL in JSON; two results are two
  // documents, and two markdown tables have a blank line between them.
  const Run inf = Cohortdb(dir, "sql " + store + " \"SELECT 1e308 * 10 AS big, NULL AS empty\" --format json");
  REQUIRE(inf.code == 0);
  const auto rows = nlohmann::json::parse(inf.out);
  CHECK(rows[0]["big"] == "Inf");
  CHECK(rows[0]["empty"].is_null());
  // The sqlite3 shell's catalog commands.
  const Run tables = Cohortdb(dir, "sql " + store + " \".tables wide%\" --format csv");
  REQUIRE(tables.code == 0);
  CHECK(tables.out == "name\r\nwide_cohort\r\nwide_cohort_visit\r\n");
  const Run schema_of = Cohortdb(dir, "sql " + store + " \".schema participant\"");
  REQUIRE(schema_of.code == 0);
  CHECK(schema_of.out.rfind("CREATE TABLE participant (", 0) == 0);
  // Quotes and a trailing ';' as the shell takes them; a table's indexes
  // come with its schema.
  CHECK(Cohortdb(dir, "sql " + store + " \".tables 'wide%';\" --format csv").out == tables.out);
  const Run schema_indexes = Cohortdb(dir, "sql " + store + " \".schema biomarker\"");
  CHECK_THAT(schema_indexes.out, Contains("CREATE TABLE biomarker") && Contains("CREATE UNIQUE INDEX biomarker_current"));
  CHECK(Cohortdb(dir, "sql " + store + " \".indexes biomarker\" --format list").out ==
        "biomarker_current|biomarker\n");
  const Run mode = Cohortdb(dir, "sql " + store + " \".mode csv\"");
  CHECK(mode.code == 2);
  CHECK_THAT(mode.err, Contains(".mode is a sqlite3 shell command") && Contains("--format"));
  const Run two = Cohortdb(dir, "sql " + store + " \"SELECT 1 AS a; SELECT 2 AS b\" --format markdown");
  REQUIRE(two.code == 0);
  CHECK(two.out == "| a |\n| ---: |\n| 1 |\n\n| b |\n| ---: |\n| 2 |\n");
}

TEST_CASE("cli: usage errors name the mistyped command or option / option values typed are usage errors",
          "[analysis][cli]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  const Run command = Cohortdb(dir, "corelate " + store);
  CHECK(command.code == 2);
  CHECK_THAT(command.err, Contains("unknown command 'corelate' (did you mean correlate?)"));
  const Run sub = Cohortdb(dir, "recipe lst " + store);
  CHECK(sub.code == 2);
  CHECK_THAT(sub.err, Contains("usage error: recipe: unknown command 'lst' (did you mean list?)"));
  CHECK_THAT(command.err, Contains("cohortdb: usage error: unknown command"));
  const Run option = Cohortdb(dir, "correlate " + store + " --study cohort --x lmm --y pain_nrs --methd spearman");
  CHECK(option.code == 2);
  CHECK_THAT(option.err, Contains("unknown option --methd (did you mean --method?)") &&
                             Contains("(see cohortdb correlate --help)"));
  // A value outside an option's choices, and a missing --study, are usage
  // errors on the command line (exit 2), as CLI11's own checks are.
  const Run choice = Cohortdb(dir, "correlate " + store + " --study cohort --x lmm --y pain_nrs --method kendall "
                                   "--no-record");
  CHECK(choice.code == 2);
  CHECK_THAT(choice.err, Contains("--method: expected pearson or spearman, found 'kendall'"));
  const Run frame = Cohortdb(dir, "correlate " + store + " --x lmm --y pain_nrs --no-record");
  CHECK(frame.code == 2);
  CHECK_THAT(frame.err, Contains("correlate: give --study (its pivot is the default frame) or --frame"));

  // --plot belongs to the analyses that draw one.
  const Run plot = Cohortdb(dir, "describe " + store + " --study cohort --vars lmm --plot x.svg --no-record");
  CHECK(plot.code == 2);
  CHECK_THAT(plot.err, Contains("unknown option --plot"));
  CHECK_THAT(Cohortdb(dir, "regress --help").out, Contains("--plot"));
  // Each recipe subcommand shows its own example.
  CHECK_THAT(Cohortdb(dir, "recipe add --help").out, Contains("cohortdb recipe add demo-output/demo.cohortdb"));
  CHECK_THAT(Cohortdb(dir, "recipe rm --help").out, Contains("cohortdb recipe rm demo-output/demo.cohortdb"));
  CHECK_THAT(Cohortdb(dir, "describe --help").out, Contains("--derive TEXT ...") && !Contains("(repeatable) (repeatable"));

  const std::string missing = (dir.path() / "missing.cohortdb").string();
  const Run migrate = Cohortdb(dir, "migrate " + missing);
  CHECK(migrate.code == 4);
  CHECK_THAT(migrate.err, Contains("no such store; create it with `cohortdb init"));
  CHECK_FALSE(std::filesystem::exists(missing));
  const Run directory = Cohortdb(dir, "info " + dir.path().string());
  CHECK(directory.code == 4);
  CHECK_THAT(directory.err, Contains("is a directory, not a store file"));
}

TEST_CASE("cli: notes and numerical errors carry no C++ function names", "[analysis][cli]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  // One row in group 'b': the t tests cannot run.
  const Run one = Cohortdb(dir, "compare " + store +
                                    " --frame \"SELECT 'a' AS g, 1.0 AS y UNION ALL SELECT 'a', 2.0 UNION ALL "
                                    "SELECT 'a', 2.5 UNION ALL SELECT 'b', 3.0\" --vars y --group g --test welch "
                                    "--format csv --no-record");
  REQUIRE(one.code == 0);
  CHECK_THAT(one.out, Contains("has 1 non-missing values") && !Contains("WelchTTest"));
  const Run none = Cohortdb(dir, "regress " + store +
                                     " --frame \"SELECT 1.0 AS y, 2.0 AS x\" --outcome y --predictors x --no-record");
  CHECK(none.code == 5);
  CHECK_THAT(none.err, Contains("regress: ") && !Contains("FitOls"));
}

TEST_CASE("cli: sql streams csv / json and list in the same bytes as the buffered writer", "[analysis][cli]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  const std::string query =
      "\"SELECT participant_id, external_id, age_years, NULL AS n FROM participant ORDER BY participant_id LIMIT 3; "
      "SELECT 1 AS one WHERE 0\"";
  for (const char* format : {"csv", "json", "list"}) {
    INFO(format);
    // --write buffers every result before printing; read-only streams.
    const Run streamed = Cohortdb(dir, "sql " + store + " " + query + " --format " + format);
    const Run buffered = Cohortdb(dir, "sql " + store + " " + query + " --format " + format + " --write");
    REQUIRE(streamed.code == 0);
    REQUIRE(buffered.code == 0);
    CHECK(streamed.out == buffered.out);
    CHECK_FALSE(streamed.out.empty());
  }
  const auto parsed = nlohmann::json::parse(
      Cohortdb(dir, "sql " + store + " \"SELECT external_id FROM participant ORDER BY 1 LIMIT 2\" --format json").out);
  CHECK(parsed.size() == 2);
}

// Issue 13 items 3 and 7 through the binary: an UPDATE through sql --write
// changes the fingerprint and is listed by results --diff; --predictors a,b
// and a repeated --predictors are the same parameter.
TEST_CASE("cli: results --diff shows a sql --write edit between two runs", "[analysis][cli][provenance]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  const std::string logistic = "logistic " + store + " --study cohort --outcome cbp --per-sd 2 ";
  REQUIRE(Cohortdb(dir, logistic + "--predictors lmm,age_years").code == 0);
  const Run edit = Cohortdb(dir, "sql " + store +
                                     " --write \"UPDATE mri_metric SET value = value * 2 WHERE variable_id = 4\"");
  INFO(edit.err);
  REQUIRE(edit.code == 0);
  CHECK_THAT(edit.err, Contains("row(s) changed"));
  CHECK_THAT(edit.err, Contains("recorded as data edit 1"));
  REQUIRE(Cohortdb(dir, logistic + "--predictors lmm --predictors age_years").code == 0);

  const Run diff = Cohortdb(dir, "results " + store + " --diff 1 2");
  INFO(diff.out << diff.err);
  REQUIRE(diff.code == 0);
  CHECK_THAT(diff.out, Contains("data: changed"));
  CHECK_THAT(diff.out, Contains("data edits between the two runs"));
  CHECK_THAT(diff.out, Contains("UPDATE mri_metric SET value = value * 2 WHERE variable_id = 4"));
  CHECK_THAT(diff.out, Contains("parameters: unchanged"));
  CHECK_THAT(diff.out, Contains("results changed"));
  const Run json = Cohortdb(dir, "results " + store + " --diff 1 2 --format json");
  const auto parsed = nlohmann::json::parse(json.out);
  REQUIRE(parsed["edits"].size() == 1);
  CHECK(parsed["edits"][0]["statement"] == "UPDATE mri_metric SET value = value * 2 WHERE variable_id = 4");
  CHECK(parsed["fingerprint_changed"] == true);
  CHECK(parsed["parameters"].empty());

  Store opened = Store::Open(store, OpenMode::kReadOnly);
  CHECK(std::get<std::string>(opened.Query("SELECT parameters FROM analysis_run WHERE run_id = 1").rows[0][0]) ==
        R"({"outcome":"cbp","predictors":["lmm","age_years"],"per-sd":2.0,"study":"cohort"})");
  CHECK(std::get<std::int64_t>(opened.Query("SELECT rows_changed FROM data_edit").rows[0][0]) > 0);
}

TEST_CASE("cli: lmm and glm through the binary / a bad formula exits 3 with a caret under the place",
          "[analysis][cli][lmm]") {
  TempDir dir;
  const std::string store = (dir.path() / "trial.cohortdb").string();
  TrialStore(store);
  const Run lmm = Cohortdb(dir, "lmm " + store +
                                    " --study trial --frame wide_trial_visit"
                                    " --formula \"pain_nrs ~ arm * visit + (1 | participant_id)\" --format csv");
  INFO(lmm.err);
  REQUIRE(lmm.code == 0);
  CHECK_THAT(lmm.out, Contains("armintervention:visitweek12"));
  CHECK_THAT(lmm.out, Contains("sd((Intercept)) | participant_id"));
  const Run glm = Cohortdb(dir, "glm " + store + " --study trial --formula \"pain_nrs_week12 ~ arm\" --se robust");
  INFO(glm.err);
  REQUIRE(glm.code == 0);
  CHECK_THAT(glm.out, Contains("  intervention"));
  const Run bad = Cohortdb(dir, "lmm " + store +
                                    " --study trial --frame wide_trial_visit"
                                    " --formula \"pain_nrs ~ arm + (1 | )\"");
  CHECK(bad.code == 3);
  CHECK_THAT(bad.err, Contains("a random-effect term needs a grouping variable after '|'") &&
                          Contains("  pain_nrs ~ arm + (1 | )\n" + std::string(24, ' ') + "^"));
  const Run by = Cohortdb(dir, "glm " + store + " --study trial --formula \"pain_nrs_week12 ~ arm\" --by sex");
  CHECK(by.code == 3);
  CHECK_THAT(by.err, Contains("--by is not supported"));
}

TEST_CASE("cli: lmm with nested and crossed groupings through the binary", "[analysis][cli][lmm]") {
  TempDir dir;
  const std::string store = (dir.path() / "cohort.cohortdb").string();
  CohortStore(store);
  // analysis_lmm_multi.R: crossed.*
  const Run crossed = Cohortdb(dir, "lmm " + store +
                                        " --study cohort --formula \"pain_nrs ~ age_years + (1 | site) + (1 | sex)\""
                                        " --format csv");
  INFO(crossed.err);
  REQUIRE(crossed.code == 0);
  CHECK_THAT(crossed.out, Contains("sd((Intercept)) | site,0.32349") && Contains("sd((Intercept)) | sex,0.1906"));
  const Run worded = Cohortdb(dir, "lmm " + store +
                                       " --study cohort --formula \"pain_nrs ~ age_years + (1 | site) + (1 | sex)\"");
  REQUIRE(worded.code == 0);
  CHECK_THAT(worded.out, Contains("groups: site 6, sex 2") && Contains("only 2 groups of 'sex'"));
  const Run nested = Cohortdb(dir, "lmm " + store +
                                       " --study cohort --formula \"pain_nrs ~ age_years + lmm + (1 | site/sex)\"");
  INFO(nested.err);
  REQUIRE(nested.code == 0);
  CHECK_THAT(nested.out, Contains("groups: sex:site 12, site 6") && Contains("singular fit") &&
                             Contains("random effects of 'sex:site' is at the boundary"));
  const Run bad = Cohortdb(dir, "lmm " + store + " --study cohort --formula \"pain_nrs ~ age_years + (1 | site/)\"");
  CHECK(bad.code == 3);
  CHECK_THAT(bad.err, Contains("expected a grouping variable after '/'") &&
                          Contains("  pain_nrs ~ age_years + (1 | site/)\n" + std::string(34, ' ') + "^"));
}

TEST_CASE("cli: output that cannot be written is an output error and records no run", "[analysis][cli][output]") {
  TempDir dir;
  const std::string store = (dir.path() / "trial.cohortdb").string();
  TrialStore(store);
  const std::string regress = "regress " + store +
                              " --study trial --derive \"pain_change=change(pain_nrs, baseline, week12)\""
                              " --outcome pain_change --predictors arm";
  const auto err = dir.path() / "stderr.txt";
  auto run = [&](const std::string& args) {
    const std::string command =
        std::string("\"") + COHORTDB_BINARY + "\" " + args + " >/dev/full 2>\"" + err.string() + "\"";
    return WEXITSTATUS(std::system(command.c_str()));
  };
  CHECK(run(regress) == 6);
  CHECK(Slurp(err) == "cohortdb: standard output: write failed: No space left on device; the run was not recorded\n");
  CHECK(run(regress + " --out /dev/full") == 6);
  CHECK(Slurp(err) ==
        "cohortdb: --out: cannot write '/dev/full': No space left on device; the run was not recorded\n");
  CHECK(run(regress + " --out " + (dir.path() / "no" / "such" / "dir.csv").string()) == 6);
  CHECK_THAT(Slurp(err), Contains("No such file or directory; the run was not recorded"));
  Store opened = Store::Open(store, OpenMode::kReadOnly);
  CHECK(std::get<std::int64_t>(opened.Query("SELECT count(*) FROM analysis_run").rows[0][0]) == 0);
}

// `cohortdb results STORE RUN [RUN ...] --report FILE.html` through the
// binary: the report of a recorded recipe run is the one `recipe run
// --report` wrote; a report of plain analysis runs; hostile labels; every
// error with its exit code; the store is never changed. (With the recipe CLI
// tests: the binary is what is tested, not src/cli's objects.)
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "example_stores.h"
#include "html_check.h"
#include "support/run_binary.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

using test::Example;

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The report with the time it was written (footer "... at TIME. Self-contained")
// replaced wherever it appears.
std::string WithoutWrittenTime(const std::string& html) {
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex(" at (\\S+Z)\\. Self-contained")));
  const std::string written = m[1];
  std::string out = html;
  for (auto at = out.find(written); at != std::string::npos; at = out.find(written, at)) {
    out.replace(at, written.size(), "WRITTEN");
  }
  return out;
}

// "recipe NAME version 1: 3 steps recorded as runs 4..6" -> {4, 5, 6}.
std::vector<std::int64_t> RecordedRuns(const std::string& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("recorded as runs (\\d+)\\.\\.(\\d+)")));
  std::vector<std::int64_t> ids;
  for (std::int64_t id = std::stoll(m[1]); id <= std::stoll(m[2]); ++id) ids.push_back(id);
  return ids;
}

std::string Joined(const std::vector<std::int64_t>& ids, const char* separator) {
  std::string text;
  for (const std::int64_t id : ids) text += (text.empty() ? "" : separator) + std::to_string(id);
  return text;
}

std::string StoreDigest(const std::string& path) { return Sha256Hex(Slurp(path)); }

// HTML element text back to text (the report escapes & < > " ').
std::string Unescaped(std::string text) {
  const std::pair<const char*, const char*> kReferences[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [reference, character] : kReferences) {
    for (auto at = text.find(reference); at != std::string::npos; at = text.find(reference, at + 1)) {
      text.replace(at, std::string(reference).size(), character);
    }
  }
  return text;
}

// The text of the <pre class="command"> of the section with id "id".
std::string CommandOf(const std::string& html, const std::string& id) {
  const auto section = html.find("id=\"" + id + "\"");
  REQUIRE(section != std::string::npos);
  const std::string open = "<pre class=\"command\">";
  const auto start = html.find(open, section);
  REQUIRE(start != std::string::npos);
  const auto end = html.find("</pre>", start);
  return Unescaped(html.substr(start + open.size(), end - start - open.size()));
}

// A recipe over the example trial whose steps draw the model plots.
constexpr const char* kPlotsRecipe = R"toml(name = "plots"
title = "Trial models with forest plots"
description = "Regression, mixed model and Poisson model of the example trial"
[defaults]
study = "trial"
censored = "sqrt2"
derive = ["il6_change=change(il6, baseline, week12)", "pain_change=change(pain_nrs, baseline, week12)"]
[[step]]
name = "regression"
analysis = "regress"
title = "Pain change on allocation and IL-6 change"
[step.options]
outcome = "pain_change"
predictors = ["treatment_baseline", "il6_change"]
standardize = true
plot = true
[[step]]
name = "over_visits"
analysis = "lmm"
[step.options]
frame = "wide_trial_visit"
derive = []
formula = "pain_nrs ~ arm * visit + (1 | participant_id)"
plot = true
[[step]]
name = "counts"
analysis = "glm"
[step.options]
derive = []
formula = "pain_nrs_week12 ~ arm"
plot = true
)toml";

}  // namespace

TEST_CASE("results --report of a recorded recipe run is the report recipe run wrote",
          "[recipes][report][results]") {
  TempDir dir;
  const std::string store_path = dir.File("s.cohortdb");
  const std::string store = Quote(store_path);
  test::TrialStore(dir, store);
  test::AddMetaTrials(dir, store);
  std::ofstream(dir.File("plots.toml")) << kPlotsRecipe;
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Quote(dir.File("plots.toml"))).exit_code == 0);
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Example("recipes/meta.toml")).exit_code == 0);
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Example("recipes/trial.toml")).exit_code == 0);
  struct Case {
    const char* recipe;
    const char* flags;
  };
  for (const Case& c : {Case{"plots", ""}, Case{"plots", " --codes"}, Case{"meta", ""}, Case{"trial", ""}}) {
    INFO(c.recipe << c.flags);
    const Output ran = Cohortdb(
        dir, "recipe run " + store + " " + c.recipe + c.flags + " --report " + Quote(dir.File("live.html")));
    INFO(ran.err);
    REQUIRE(ran.exit_code == 0);
    const std::vector<std::int64_t> ids = RecordedRuns(ran.out);
    const std::string digest = StoreDigest(store_path);
    const Output again = Cohortdb(dir, "results " + store + " " + Joined(ids, " ") + c.flags + " --report " +
                                           Quote(dir.File("stored.html")));
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out == "report of recipe " + std::string(c.recipe) + " version 1 (runs " + Joined(ids, ", ") +
                           ") written to " + dir.File("stored.html") + "\n");
    CHECK(StoreDigest(store_path) == digest);
    const std::string live = Slurp(dir.File("live.html"));
    const std::string stored = Slurp(dir.File("stored.html"));
    CHECK(test::CheckHtml(stored).empty());
    if (std::string(c.recipe) != "trial") CHECK(Count(stored, "<svg") >= 1);
    CHECK(WithoutWrittenTime(stored) == WithoutWrittenTime(live));
  }
}

TEST_CASE("results --report of two analysis runs in the order given", "[recipes][report][results]") {
  TempDir dir;
  const std::string store_path = dir.File("s.cohortdb");
  const std::string store = Quote(store_path);
  test::TrialStore(dir, store);
  const Output regress = Cohortdb(
      dir, "regress " + store +
               " --study trial --censored sqrt2 --derive 'pain_change=change(pain_nrs, baseline, week12)'"
               " --derive 'il6_change=change(il6, baseline, week12)' --outcome pain_change"
               " --predictors treatment_baseline,il6_change --plot " +
               Quote(dir.File("live.svg")));
  INFO(regress.err);
  REQUIRE(regress.exit_code == 0);
  CHECK(regress.err == "recorded as run 1 (cohortdb results " + store_path + " 1)\n");
  const Output compare = Cohortdb(
      dir, "compare " + store +
               " --study trial --derive 'pain_change=change(pain_nrs, baseline, week12)' --vars pain_change"
               " --group arm --min-cell 3");
  INFO(compare.err);
  REQUIRE(compare.exit_code == 0);
  const std::string digest = StoreDigest(store_path);

  const Output made = Cohortdb(dir, "results " + store + " 2 1 --report " + Quote(dir.File("r.html")));
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK(made.out == "report of runs 2, 1 written to " + dir.File("r.html") + "\n");
  CHECK(StoreDigest(store_path) == digest);
  const std::string html = Slurp(dir.File("r.html"));
  const auto problems = test::CheckHtml(html);
  for (const auto& p : problems) INFO(p);
  CHECK(problems.empty());
  CHECK(html.find("<title>cohortdb runs 2, 1</title>") != std::string::npos);
  CHECK(html.find("<h1>cohortdb runs 2, 1</h1>") != std::string::npos);
  const auto second = html.find("<section class=\"step\" id=\"run-2\">");
  const auto first = html.find("<section class=\"step\" id=\"run-1\">");
  REQUIRE(second != std::string::npos);
  REQUIRE(first != std::string::npos);
  CHECK(second < first);
  CHECK(html.find("<h2>1. compare</h2>", second) < first);
  CHECK(html.find("<h2>2. regress</h2>", first) != std::string::npos);

  for (const int run : {1, 2}) {
    INFO("run " << run);
    const Output shown = Cohortdb(dir, "results " + store + " " + std::to_string(run) + " --format json");
    REQUIRE(shown.exit_code == 0);
    const auto recorded = nlohmann::ordered_json::parse(shown.out);
    const auto& provenance = recorded["provenance"];
    const std::size_t begin = html.find("id=\"run-" + std::to_string(run) + "\"");
    const std::size_t end = std::min(html.find("</section>", begin), html.size());
    const std::string section = html.substr(begin, end - begin);
    CHECK(section.find(provenance["data_fingerprint"].get<std::string>()) != std::string::npos);
    CHECK(section.find(provenance["started_at"].get<std::string>()) != std::string::npos);
    CHECK(section.find("cohortdb " + provenance["tool_version"].get<std::string>()) != std::string::npos);
    CHECK(section.find("from</th><td>the command line</td>") != std::string::npos);
    CHECK(section.find(fmt::format("<p class=\"meta\">{} &middot; run {} &middot;",
                                   recorded["command"].get<std::string>(), run)) != std::string::npos);
    // The notes are the footer lines `results RUN` prints under its tables.
    const Output terminal = Cohortdb(dir, "results " + store + " " + std::to_string(run));
    const auto used = terminal.out.find("n = ");
    REQUIRE(used != std::string::npos);
    const std::string footer_line = terminal.out.substr(used, terminal.out.find('\n', used) - used);
    CHECK(section.find("<li>" + footer_line + "</li>") != std::string::npos);
    // The command line reproduces the run's numbers.
    std::string line = CommandOf(html, "run-" + std::to_string(run));
    INFO(line);
    REQUIRE(line.rfind("cohortdb ", 0) == 0);
    const auto plot = line.find(" --plot run-1.svg");
    if (run == 1) {
      REQUIRE(plot != std::string::npos);
      line.replace(plot, std::string(" --plot run-1.svg").size(), " --plot " + Quote(dir.File("again.svg")));
    }
    const Output rerun = Shell(dir, Quote(COHORTDB_BINARY) + line.substr(8) + " --no-record --format json");
    INFO(rerun.err);
    REQUIRE(rerun.exit_code == 0);
    const auto alone = nlohmann::ordered_json::parse(rerun.out);
    CHECK(alone["parameters"] == recorded["parameters"]);
    REQUIRE(alone["rows"].size() == recorded["rows"].size());
    for (std::size_t i = 0; i < alone["rows"].size(); ++i) {
      CHECK(alone["rows"][i]["term"] == recorded["rows"][i]["term"]);
      CHECK(alone["rows"][i]["estimate"] == recorded["rows"][i]["estimate"]);
    }
  }
  // The plot is the one the live run wrote with --plot, inline.
  const std::string svg = Slurp(dir.File("live.svg"));
  REQUIRE(svg.find("<svg") != std::string::npos);
  CHECK(Count(html, "<svg") == 1);
  CHECK(html.find(svg.substr(svg.find("<svg"))) > first);
  CHECK(html.find("Forest plot of run 1 (also written by --plot run-1.svg)") != std::string::npos);
  CHECK(Slurp(dir.File("again.svg")) == svg);
  CHECK(html.find("--min-cell</th>") != std::string::npos);
  CHECK(html.find("<td class=\"l\">compare</td><td class=\"l\">the command line</td>") != std::string::npos);
}

TEST_CASE("hostile labels and step titles stay text in the report of recorded runs",
          "[recipes][report][results]") {
  constexpr const char* kHostile = "<script>alert(1)</script> & \"x\"";
  TempDir dir;
  const std::string store = Quote(dir.File("s.cohortdb"));
  test::TrialStore(dir, store);
  const Output edited = Cohortdb(dir, "sql " + store + " --write " +
                                          Quote(std::string("UPDATE variable SET label = '") + kHostile +
                                                "' WHERE code IN ('il6', 'treatment')"));
  INFO(edited.err);
  REQUIRE(edited.exit_code == 0);
  std::ofstream(dir.File("hostile.toml"))
      << "name = \"hostile\"\n"
      << "title = " << nlohmann::json(std::string("Title ") + kHostile).dump() << "\n"
      << "[defaults]\nstudy = \"trial\"\ncensored = \"sqrt2\"\n"
      << "derive = [\"il6_change=change(il6, baseline, week12)\", \"pain_change=change(pain_nrs, baseline, "
         "week12)\"]\n"
      << "[[step]]\nname = \"model\"\nanalysis = \"regress\"\n"
      << "title = " << nlohmann::json(std::string("Step ") + kHostile).dump() << "\n"
      << "[step.options]\noutcome = \"pain_change\"\npredictors = [\"treatment_baseline\", \"il6_change\"]\n"
      << "plot = true\n";
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Quote(dir.File("hostile.toml"))).exit_code == 0);
  REQUIRE(Cohortdb(dir, "recipe run " + store + " hostile").exit_code == 0);  // run 1
  const Output plain = Cohortdb(
      dir, "compare " + store + " --study trial --vars il6_baseline --group treatment_baseline");  // run 2
  INFO(plain.err);
  REQUIRE(plain.exit_code == 0);

  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;";
  const Output made = Cohortdb(dir, "results " + store + " 1 2 --report " + Quote(dir.File("r.html")));
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const std::string html = Slurp(dir.File("r.html"));
  CHECK(test::CheckHtml(html).empty());
  CHECK(test::Lower(html).find("<script") == std::string::npos);
  CHECK(html.find("<h1>cohortdb runs 1, 2</h1>") != std::string::npos);  // not one recipe run
  CHECK(html.find("<h2>1. Step " + escaped + "</h2>") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  // The label is in both runs' tables and in the plot; "alert(1)" always
  // follows an escaped tag.
  CHECK(Count(html, "&lt;script&gt;alert(1)") >= 4);
  CHECK(Count(html, "alert(1)") == Count(html, "&lt;script&gt;alert(1)"));

  const Output coded =
      Cohortdb(dir, "results " + store + " 1 2 --codes --report " + Quote(dir.File("c.html")));
  REQUIRE(coded.exit_code == 0);
  const std::string codes = Slurp(dir.File("c.html"));
  CHECK(test::CheckHtml(codes).empty());
  CHECK(Count(codes, "alert(1)") == 1);                          // the step's title only
  CHECK(codes.find(">il6_change</text>") != std::string::npos);  // the plot by codes
}

TEST_CASE("results --report errors and their exit codes", "[recipes][report][results]") {
  TempDir dir;
  const std::string store_path = dir.File("s.cohortdb");
  const std::string store = Quote(store_path);
  test::TrialStore(dir, store);
  REQUIRE(Cohortdb(dir, "compare " + store + " --study trial --vars il6_baseline --group treatment_baseline")
              .exit_code == 0);  // run 1
  const std::string digest = StoreDigest(store_path);
  const std::string report = dir.File("r.html");
  struct Case {
    std::string args;
    int exit_code;
    std::string err;
  };
  const std::vector<Case> cases = {
      {"results " + store + " 1 7 --report " + Quote(report), 3,
       "cohortdb: no analysis run 7 in " + store_path + " (`cohortdb results " + store_path +
           "` lists them)\n"},
      {"results " + store + " 0 --report " + Quote(report), 3,
       "cohortdb: no analysis run 0 in " + store_path + ": run ids start at 1 (`cohortdb results " +
           store_path + "` lists them)\n"},
      {"results " + store + " --report " + Quote(report), 2,
       "cohortdb: results: --report needs one or more RUN (`cohortdb results " + store_path +
           "` lists them)\n"},
      {"results " + store + " --diff 1 1 --report " + Quote(report), 2,
       "cohortdb: results: --report writes the runs given as RUN; it does not take --diff\n"},
      {"results " + store + " 1 --diff 1 1 --report " + Quote(report), 2,
       "cohortdb: results: --report writes the runs given as RUN; it does not take --diff\n"},
      {"results " + store + " 1 --format json --report " + Quote(report), 2,
       "cohortdb: results: --report writes HTML; it does not take --format\n"},
      {"results " + store + " 1 1 --report " + Quote(report), 2, "cohortdb: results: run 1 is given twice\n"},
      {"results " + store + " 1 1", 2,
       "cohortdb: results: give one RUN, or several with --report FILE.html (found 2)\n"},
      {"results " + store + " 1 --report " + Quote(dir.File("no/such/dir/r.html")), 6,
       "cohortdb: --report: cannot write '" + dir.File("no/such/dir/r.html") +
           "': No such file or directory; no report was written\n"},
      {"results " + store + " 1 --report " + Quote(dir.path().string()), 6,
       "cohortdb: --report: cannot write '" + dir.path().string() +
           "': it is a directory; no report was written\n"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const Output out = Cohortdb(dir, c.args);
    CHECK(out.exit_code == c.exit_code);
    CHECK(out.err == c.err);
    CHECK(out.out.empty());
    CHECK(!std::filesystem::exists(report));
  }
  // A missing store is a store error; nothing is created.
  const Output missing =
      Cohortdb(dir, "results " + Quote(dir.File("none.cohortdb")) + " 1 --report " + Quote(report));
  CHECK(missing.exit_code == 4);
  CHECK(!std::filesystem::exists(dir.File("none.cohortdb")));
  CHECK(!std::filesystem::exists(report));
  // A write that fails after the report was made: output error, store unchanged.
  if (std::filesystem::exists("/dev/full")) {
    const Output full = Cohortdb(dir, "results " + store + " 1 --report /dev/full");
    CHECK(full.exit_code == 6);
    CHECK(full.err ==
          "cohortdb: --report: cannot write '/dev/full': No space left on device; the store is unchanged\n");
  }
  // An existing file that the unknown run leaves as it was.
  std::ofstream(report) << "kept";
  CHECK(Cohortdb(dir, "results " + store + " 9 --report " + Quote(report)).exit_code == 3);
  CHECK(Slurp(report) == "kept");
  CHECK(StoreDigest(store_path) == digest);
}

}  // namespace cohortdb

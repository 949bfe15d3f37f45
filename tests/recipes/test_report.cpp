// recipe run --report: the HTML report through the cohortdb binary (the demo
// recipes' reports are checked in test_recipe_cli.cpp's demo test), escaping
// of hostile store text, output errors, the command lines it prints, and
// rendering to PDF in headless Chromium when Chromium is installed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "example_stores.h"
#include "html_check.h"
#include "recipes/html_report.h"
#include "support/run_binary.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

using test::Example;
using test::TrialStore;

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

constexpr const char* kHostile = "<script>alert(1)</script> & \"x\"";

}  // namespace

TEST_CASE("the HTML checker finds unbalanced tags external URLs and scripts", "[recipes][report]") {
  CHECK(test::CheckHtml("<html><body><p>a &amp; b<br></p><svg><rect/></svg></body></html>").empty());
  CHECK_FALSE(test::CheckHtml("<html><body><p>open</body></html>").empty());
  CHECK_FALSE(test::CheckHtml("<div><span></div></span>").empty());
  CHECK_FALSE(test::CheckHtml("<p>a < b</p>").empty());
  CHECK_FALSE(test::CheckHtml("<img src=\"https://example.org/x.png\">").empty());
  CHECK_FALSE(test::CheckHtml("<a href='//example.org/'>x</a>").empty());
  CHECK_FALSE(test::CheckHtml("<link rel=\"stylesheet\" href=\"a.css\">").empty());
  CHECK_FALSE(test::CheckHtml("<script src=\"a.js\"></script>").empty());
  CHECK_FALSE(test::CheckHtml("<style>body { background: url(x.png) }</style>").empty());
  CHECK(test::CheckHtml("<style>p > a { color: red }</style><p>x</p>").empty());
}

TEST_CASE("HtmlEscape keeps store text as text", "[recipes][report]") {
  CHECK(recipes::HtmlEscape(kHostile) == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;");
  CHECK(recipes::HtmlEscape("it's") == "it&#39;s");
  CHECK(recipes::HtmlEscape("Größe µg/L – ≥ 4") == "Größe µg/L – ≥ 4");  // UTF-8 kept
  CHECK(recipes::HtmlEscape("a\xff" "b") == "a\xEF\xBF\xBD" "b");      // invalid byte: U+FFFD
  CHECK(recipes::HtmlEscape("a\x01" "b") == "a\xEF\xBF\xBD" "b");      // control character
  CHECK(recipes::HtmlEscape("\xC3") == "\xEF\xBF\xBD");                 // truncated sequence
}

TEST_CASE("a step's command line quotes for the shell and repeats derive cut and ref", "[recipes][report]") {
  const auto parameters = nlohmann::ordered_json::parse(R"json({
    "study": "trial", "censored": "sqrt2",
    "derive": ["il6_change=change(il6, baseline, week12)", "pain_change=change(pain_nrs, baseline, week12)"],
    "outcome": "pain_change", "predictors": ["treatment_baseline", "il6_change"], "standardize": true,
    "cut": ["met_min_week=500,5000"], "ref": [], "boot": 2000, "per-sd": 2.5, "plot": true, "no-thing": false
  })json");
  CHECK(recipes::StepCommandLine("my store.cohortdb", "regress", "pain_regression", parameters) ==
        "cohortdb regress 'my store.cohortdb' --study trial --censored sqrt2"
        " --derive 'il6_change=change(il6, baseline, week12)' --derive 'pain_change=change(pain_nrs, baseline, week12)'"
        " --outcome pain_change --predictors treatment_baseline,il6_change --standardize"
        " --cut met_min_week=500,5000 --boot 2000 --per-sd 2.5 --plot pain_regression.svg");
  CHECK(recipes::ShellWord("it's") == "'it'\\''s'");
  CHECK(recipes::ShellWord("") == "''");
  CHECK(recipes::ShellWord("SELECT * FROM x") == "'SELECT * FROM x'");
}

TEST_CASE("the command line of a recipe step reproduces its numbers", "[recipes][report]") {
  TempDir dir;
  const std::string store = dir.File("trial.cohortdb");
  TrialStore(dir, Quote(store));
  REQUIRE(Cohortdb(dir, "recipe add " + Quote(store) + " " + Example("recipes/trial.toml")).exit_code == 0);
  const Output ran = Cohortdb(dir, "recipe run " + Quote(store) + " trial --format json");
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  const auto document = nlohmann::ordered_json::parse(ran.out);
  int compared = 0;
  for (const auto& step : document["steps"]) {
    const std::string name = step["step"].get<std::string>();
    if (name != "pain_regression" && name != "pain_over_visits") continue;
    const std::string line =
        recipes::StepCommandLine(store, step["command"].get<std::string>(), name, step["parameters"]);
    INFO(line);
    REQUIRE(line.rfind("cohortdb ", 0) == 0);
    const Output again = Shell(dir, Quote(COHORTDB_BINARY) + line.substr(8) + " --no-record --format json");
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    const auto alone = nlohmann::ordered_json::parse(again.out);
    // The same parameters, but for an empty list the command line leaves out
    // (derive = [] in the recipe clears the defaults' derive).
    nlohmann::ordered_json expected = nlohmann::ordered_json::object();
    for (const auto& [key, value] : step["parameters"].items()) {
      if (!(value.is_array() && value.empty())) expected[key] = value;
    }
    CHECK(alone["parameters"] == expected);
    REQUIRE(alone["rows"].size() == step["rows"].size());
    for (std::size_t i = 0; i < alone["rows"].size(); ++i) {
      CHECK(alone["rows"][i]["term"] == step["rows"][i]["term"]);
      CHECK(alone["rows"][i]["estimate"] == step["rows"][i]["estimate"]);
    }
    ++compared;
  }
  CHECK(compared == 2);
}

TEST_CASE("a hostile label and recipe title stay text in the report", "[recipes][report]") {
  TempDir dir;
  const std::string store = Quote(dir.File("trial.cohortdb"));
  TrialStore(dir, store);
  const Output edited = Cohortdb(
      dir, "sql " + store + " --write " +
               Quote(std::string("UPDATE variable SET label = '") + kHostile + "' WHERE code IN ('il6', 'treatment')"));
  INFO(edited.err);
  REQUIRE(edited.exit_code == 0);
  std::ofstream(dir.File("hostile.toml"))
      << "name = \"hostile\"\n"
      << "title = " << nlohmann::json(std::string("Title ") + kHostile).dump() << "\n"
      << "description = " << nlohmann::json(std::string("Ünïcode ≥ 4 µg/L ") + kHostile).dump() << "\n"
      << "[defaults]\nstudy = \"trial\"\ncensored = \"sqrt2\"\n"
      << "derive = [\"il6_change=change(il6, baseline, week12)\", \"pain_change=change(pain_nrs, baseline, week12)\"]\n"
      << "[[step]]\nname = \"model\"\nanalysis = \"regress\"\n"
      << "title = " << nlohmann::json(std::string("Step ") + kHostile).dump() << "\n"
      << "[step.options]\noutcome = \"pain_change\"\npredictors = [\"treatment_baseline\", \"il6_change\"]\n"
      << "plot = true\n";
  const Output added = Cohortdb(dir, "recipe add " + store + " " + Quote(dir.File("hostile.toml")));
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  const Output ran = Cohortdb(dir, "recipe run " + store + " hostile --report " + Quote(dir.File("r.html")));
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  CHECK(ran.out.find("report written to " + dir.File("r.html")) != std::string::npos);
  const std::string html = Slurp(dir.File("r.html"));
  const auto problems = test::CheckHtml(html);
  for (const auto& p : problems) INFO(p);
  CHECK(problems.empty());
  CHECK(test::Lower(html).find("<script") == std::string::npos);
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;";
  CHECK(html.find("<title>Title " + escaped + "</title>") != std::string::npos);
  CHECK(html.find("<h1>Title " + escaped + "</h1>") != std::string::npos);
  CHECK(html.find("Ünïcode ≥ 4 µg/L " + escaped) != std::string::npos);
  CHECK(html.find("1. Step " + escaped) != std::string::npos);
  // Wherever the label or titles appear (tables, plot), "alert(1)" follows an
  // escaped tag, never a live one.
  CHECK(Count(html, "alert(1)") == Count(html, "&lt;script&gt;alert(1)"));
  CHECK(html.find("<svg") != std::string::npos);
  // --codes: tables, notes and plot name the variables by their codes, so the
  // labels (here the hostile text) appear nowhere but in the recipe's titles.
  const Output coded = Cohortdb(dir, "recipe run " + store + " hostile --codes --report " + Quote(dir.File("c.html")));
  INFO(coded.err);
  REQUIRE(coded.exit_code == 0);
  const std::string codes = Slurp(dir.File("c.html"));
  CHECK(test::CheckHtml(codes).empty());
  const std::size_t in_titles = Count(codes, "Title " + escaped) + Count(codes, "Step " + escaped) +
                                 Count(codes, "µg/L " + escaped);
  CHECK(in_titles >= 3);
  CHECK(Count(codes, "alert(1)") == in_titles);
  CHECK(Count(html, "alert(1)") > in_titles);  // with labels: also in the tables and the plot
  CHECK(codes.find(">il6_change<") != std::string::npos);
  CHECK(codes.find(">il6_change</text>") != std::string::npos);  // in the plot too
}

TEST_CASE("recipe run --report to a path that cannot be written is an output error", "[recipes][report]") {
  TempDir dir;
  const std::string store = Quote(dir.File("meta.cohortdb"));
  REQUIRE(Cohortdb(dir, "init " + store).exit_code == 0);
  REQUIRE(Cohortdb(dir, "import " + store + " --spec " + Example("meta/trials_summary.toml") + " " +
                            Example("meta/trials_summary.csv"))
              .exit_code == 0);
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Example("recipes/meta.toml")).exit_code == 0);
  const Output missing_dir =
      Cohortdb(dir, "recipe run " + store + " meta --report " + Quote(dir.File("no/such/dir/r.html")));
  CHECK(missing_dir.exit_code == 6);
  CHECK(missing_dir.err == "cohortdb: --report: cannot write '" + dir.File("no/such/dir/r.html") +
                               "': No such file or directory; nothing was recorded\n");
  const Output directory = Cohortdb(dir, "recipe run " + store + " meta --report " + Quote(dir.File("")));
  CHECK(directory.exit_code == 6);
  CHECK(directory.err.find("it is a directory; nothing was recorded") != std::string::npos);
  CHECK(Cohortdb(dir, "sql " + store + " 'SELECT count(*) FROM analysis_run' --format list").out == "0\n");
  // A full disk: the steps are recorded, the report is lost, exit code 6.
  if (std::filesystem::exists("/dev/full")) {
    const Output full = Cohortdb(dir, "recipe run " + store + " meta --report /dev/full");
    CHECK(full.exit_code == 6);
    CHECK(full.err.find("only the report was lost") != std::string::npos);
  }
}

// Renders a report in headless Chromium and checks the PDF has pages. Runs
// when chromium is installed (tools/test installs it through tools/setup); otherwise
// it only warns.
TEST_CASE("the report prints to PDF in headless Chromium", "[recipes][report][chromium]") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    WARN("chromium is not installed: the PDF rendering of the report was not checked");
    return;
  }
  TempDir dir;
  const std::string store = Quote(dir.File("trial.cohortdb"));
  TrialStore(dir, store);
  REQUIRE(Cohortdb(dir, "recipe add " + store + " " + Example("recipes/trial.toml")).exit_code == 0);
  REQUIRE(Cohortdb(dir, "recipe run " + store + " trial --report " + Quote(dir.File("trial.html"))).exit_code == 0);
  const std::string pdf = dir.File("out.pdf");
  const Output rendered =
      Shell(dir, "cd " + Quote(dir.File("")) + " && HOME=" + Quote(dir.File("")) +
                     " timeout 180 chromium --headless --disable-gpu --no-sandbox --no-first-run"
                     " --user-data-dir=" + Quote(dir.File("profile")) + " --print-to-pdf=" + Quote(pdf) +
                     " " + Quote("file://" + dir.File("trial.html")));
  INFO(rendered.err);
  REQUIRE(std::filesystem::exists(pdf));
  const std::string bytes = Slurp(pdf);
  CHECK(bytes.rfind("%PDF", 0) == 0);
  // Page objects: "/Type /Page" not followed by "s" (that is the page tree).
  const std::regex page("/Type\\s*/Page[^s]");
  const auto pages = std::distance(std::sregex_iterator(bytes.begin(), bytes.end(), page), std::sregex_iterator());
  INFO("pages: " << pages);
  CHECK(pages >= 5);  // a title page and one page per step at least (5 steps)
}

}  // namespace cohortdb

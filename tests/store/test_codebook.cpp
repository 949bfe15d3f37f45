// The codebook (store/codebook.h and `cohortdb codebook`) on the example trial,
// with every count worked out from the export files themselves.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "store/codebook.h"
#include "store/store.h"
#include "support/run_binary.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

std::string Example(const std::string& path) { return std::string(COHORTDB_SOURCE_DIR) + "/examples/" + path; }

// The rows of a CSV file without quoted fields (the trial exports have none),
// as maps from header name to cell.
std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::map<std::string, std::string>> rows;
  std::vector<std::string> header;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    if (header.empty()) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < header.size(); ++c) row[header[c]] = c < cells.size() ? cells[c] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

// What the codebook should say of one variable, counted from a file.
struct Expected {
  std::int64_t values = 0;
  std::set<std::string> participants;
  std::int64_t censored = 0;
  double min = INFINITY, max = -INFINITY, sum = 0;
  std::int64_t numeric = 0;
  void Add(const std::string& id, const std::string& text) {
    ++values;
    participants.insert(id);
    if (text[0] == '<' || text[0] == '>') {
      ++censored;
      return;
    }
    const double v = std::stod(text);
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    ++numeric;
  }
};

const std::vector<SqlValue>& Row(const QueryResult& codebook, const std::string& variable) {
  for (const auto& row : codebook.rows) {
    if (std::get<std::string>(row[1]) == variable) return row;
  }
  FAIL("no codebook row for " << variable);
  static const std::vector<SqlValue> kNone;
  return kNone;
}

std::size_t Column(const QueryResult& codebook, const std::string& name) {
  for (std::size_t c = 0; c < codebook.columns.size(); ++c) {
    if (codebook.columns[c] == name) return c;
  }
  FAIL("no column " << name);
  return 0;
}

}  // namespace

TEST_CASE("the codebook counts what the trial exports hold", "[store][codebook]") {
  TempDir dir;
  const std::string store_path = dir.File("trial.cohortdb");
  REQUIRE(Cohortdb(dir, "init " + Quote(store_path)).exit_code == 0);
  REQUIRE(Cohortdb(dir, "import " + Quote(store_path) + " --spec " + Quote(Example("trial/trial.toml")) + " " +
                            Quote(Example("trial/trial_redcap.csv")))
              .exit_code == 0);
  REQUIRE(Cohortdb(dir, "import " + Quote(store_path) + " --spec " + Quote(Example("trial/trial_labs.toml")) +
                            " " + Quote(Example("trial/trial_labs.csv")))
              .exit_code == 0);

  // Independent counts from the files: pain_nrs from the REDCap export (both
  // events), TNF-alpha from the lab file (V1, V2; "<0.15" is censored).
  Expected pain;
  std::set<std::string> people;
  for (const auto& row : ReadCsv(Example("trial/trial_redcap.csv"))) {
    people.insert(row.at("record_id"));
    if (!row.at("pain_nrs").empty()) pain.Add(row.at("record_id"), row.at("pain_nrs"));
  }
  Expected tnf;
  for (const auto& row : ReadCsv(Example("trial/trial_labs.csv"))) {
    if (row.at("analyte") == "TNF-alpha" && !row.at("value").empty()) tnf.Add(row.at("subject"), row.at("value"));
  }
  REQUIRE(people.size() == 41);
  REQUIRE(pain.values > 0);
  REQUIRE(tnf.censored > 0);

  Store store = Store::Open(store_path, OpenMode::kReadOnly);
  const QueryResult codebook = Codebook(store, "trial");
  CHECK(codebook.columns == std::vector<std::string>{"study", "variable", "label", "type", "unit", "levels", "range",
                                                     "table", "visits", "values", "participants", "missing",
                                                     "censored", "min", "max", "mean"});
  // Every catalog variable of the trial, and only those.
  const auto catalog = store.Query(
      "SELECT count(*) FROM variable JOIN study USING (study_id) WHERE study.code = 'trial'");
  CHECK(static_cast<std::int64_t>(codebook.rows.size()) == std::get<std::int64_t>(catalog.rows[0][0]));

  using Catch::Matchers::WithinRel;
  auto check = [&](const std::string& variable, const Expected& e, const char* table) {
    INFO(variable);
    const auto& row = Row(codebook, variable);
    CHECK(std::get<std::string>(row[Column(codebook, "table")]) == table);
    CHECK(std::get<std::string>(row[Column(codebook, "visits")]) == "baseline,week12");
    CHECK(std::get<std::int64_t>(row[Column(codebook, "values")]) == e.values);
    CHECK(std::get<std::int64_t>(row[Column(codebook, "participants")]) ==
          static_cast<std::int64_t>(e.participants.size()));
    CHECK(std::get<std::int64_t>(row[Column(codebook, "missing")]) == 41 * 2 - e.values);
    CHECK(std::get<std::int64_t>(row[Column(codebook, "censored")]) == e.censored);
    CHECK_THAT(std::get<double>(row[Column(codebook, "min")]), WithinRel(e.min, 1e-12));
    CHECK_THAT(std::get<double>(row[Column(codebook, "max")]), WithinRel(e.max, 1e-12));
    CHECK_THAT(std::get<double>(row[Column(codebook, "mean")]), WithinRel(e.sum / e.numeric, 1e-12));
  };
  check("pain_nrs", pain, "outcome");
  check("tnf_alpha", tnf, "biomarker");
  const auto& pain_row = Row(codebook, "pain_nrs");
  CHECK(std::get<std::string>(pain_row[Column(codebook, "label")]) == "Pain intensity (NRS 0-10)");
  CHECK(std::get<std::string>(pain_row[Column(codebook, "unit")]) == "NRS");
  CHECK(std::get<std::string>(pain_row[Column(codebook, "range")]) == "0.0..10.0");
  CHECK(std::get<std::string>(pain_row[Column(codebook, "type")]) == "real");

  // A boolean: its levels, no numeric summary.
  const auto& treatment = Row(codebook, "treatment");
  CHECK(std::holds_alternative<std::monostate>(treatment[Column(codebook, "mean")]));

  // The command: every format, --study, an unknown study.
  const Output csv = Cohortdb(dir, "codebook " + Quote(store_path) + " --study trial --format csv");
  INFO(csv.err);
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("study,variable,label,type,unit,levels,range,table,visits,values,participants,missing,"
                      "censored,min,max,mean\r\n",
                      0) == 0);
  CHECK(csv.out.find(",pain_nrs,Pain intensity (NRS 0-10),real,NRS,,0.0..10.0,outcome,\"baseline,week12\"," +
                     std::to_string(pain.values) + "," + std::to_string(pain.participants.size()) + "," +
                     std::to_string(82 - pain.values) + ",0,") != std::string::npos);
  const Output json = Cohortdb(dir, "codebook " + Quote(store_path) + " --format json");
  REQUIRE(json.exit_code == 0);
  const auto document = nlohmann::json::parse(json.out);
  CHECK(document.size() == codebook.rows.size());
  const Output markdown = Cohortdb(dir, "codebook " + Quote(store_path) + " --format markdown");
  CHECK(markdown.out.rfind("| study | variable | label |", 0) == 0);
  const Output unknown = Cohortdb(dir, "codebook " + Quote(store_path) + " --study trail");
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err == "cohortdb: codebook: --study: no study 'trail' in the store (its studies: trial)\n");
  CHECK_THROWS_AS(Codebook(store, "trail"), InputError);
}

TEST_CASE("the codebook of an empty store has no rows", "[store][codebook]") {
  Store store = Store::Create(":memory:");
  const QueryResult codebook = Codebook(store, "");
  CHECK(codebook.rows.empty());
  CHECK(codebook.columns.size() == 16);
  CHECK_THROWS_WITH(Codebook(store, "x"), "codebook: --study: no study 'x' in the store (it holds no study yet)");
}

}  // namespace cohortdb

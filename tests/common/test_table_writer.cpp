// Output formats of the sql command and of analysis tables.
#include <catch2/catch.hpp>

#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/table_writer.h"
#include "common/value.h"

namespace cohortdb {
namespace {

QueryResult Sample() {
  QueryResult t;
  t.columns = {"id", "name", "value"};
  t.rows = {{std::int64_t{1}, std::string("a, \"b\""), 0.1},
            {std::int64_t{2}, std::monostate{}, 3.0},
            {std::int64_t{3}, std::string("z|é"), 1e-20}};
  return t;
}

std::string Render(OutputFormat format) {
  std::ostringstream out;
  WriteTable(out, Sample(), format);
  return out.str();
}

}  // namespace

TEST_CASE("reals print so they read back to the same double", "[common][format]") {
  CHECK(FormatReal(0.1) == "0.1");
  CHECK(FormatReal(3.0) == "3.0");
  CHECK(FormatReal(1e-20) == "1e-20");
  CHECK(FormatReal(0.30000000000000004) == "0.30000000000000004");
  const double awkward = 2.0 / 3.0;
  CHECK(std::stod(FormatReal(awkward)) == awkward);
  CHECK(FormatSqlValue(std::monostate{}) == "NULL");
}

TEST_CASE("table format is an ASCII grid with numbers right-aligned", "[common][format]") {
  CHECK(Render(OutputFormat::kTable) ==
        "+----+--------+---------+\n"
        "| id | name   | value   |\n"
        "+----+--------+---------+\n"
        "|  1 | a, \"b\" |     0.1 |\n"
        "|  2 | NULL   |     3.0 |\n"
        "|  3 | z|é    | 1.0e-20 |\n"
        "+----+--------+---------+\n");
}

TEST_CASE("box format uses Unicode rules", "[common][format]") {
  const std::string box = Render(OutputFormat::kBox);
  CHECK(box.rfind("┌────┬────────┬─────────┐\n", 0) == 0);
  CHECK(box.find("│  2 │ NULL   │     3.0 │\n") != std::string::npos);
}

TEST_CASE("csv quotes per RFC 4180 and leaves NULL empty", "[common][format]") {
  CHECK(Render(OutputFormat::kCsv) == "id,name,value\r\n1,\"a, \"\"b\"\"\",0.1\r\n2,,3.0\r\n3,z|é,1e-20\r\n");
}

TEST_CASE("json is an array of objects with null and numbers", "[common][format]") {
  CHECK(Render(OutputFormat::kJson) ==
        "[\n {\n  \"id\": 1,\n  \"name\": \"a, \\\"b\\\"\",\n  \"value\": 0.1\n },\n"
        " {\n  \"id\": 2,\n  \"name\": null,\n  \"value\": 3.0\n },\n"
        " {\n  \"id\": 3,\n  \"name\": \"z|é\",\n  \"value\": 1e-20\n }\n]\n");
}

TEST_CASE("markdown escapes pipes and right-aligns numeric columns", "[common][format]") {
  CHECK(Render(OutputFormat::kMarkdown) ==
        "| id | name | value |\n| ---: | --- | ---: |\n| 1 | a, \"b\" | 0.1 |\n| 2 | NULL | 3.0 |\n"
        "| 3 | z\\|é | 1.0e-20 |\n");
}

// Expected texts: the sqlite3 shell 3.40.1 on this machine,
//   sqlite3 :memory: ".mode box" "SELECT 45.599999999999994, 0.1 + 0.2, 1e20, 1e-7, 100.0, -0.0, ..."
// (its table, box, markdown and list modes print reals alike, with "%!.15g").
TEST_CASE("grids print reals as the sqlite3 shell does with 15 significant digits", "[common][format]") {
  const std::vector<std::pair<double, const char*>> cases = {
      {45.599999999999994, "45.6"},
      {0.1 + 0.2, "0.3"},
      {1e20, "1.0e+20"},
      {1e-7, "1.0e-07"},
      {1e-5, "1.0e-05"},
      {100.0, "100.0"},
      {-0.0, "0.0"},
      {1e15, "1.0e+15"},
      {1e16, "1.0e+16"},
      {123456789012345678.0, "1.23456789012346e+17"},
      {12345678901234567890.0, "1.23456789012346e+19"},
      {2.5e-300, "2.5e-300"},
      {1.0 / 3.0, "0.333333333333333"},
      {0.000123, "0.000123"},
      {123456789.123, "123456789.123"},
      {-1.5, "-1.5"},
      {std::numeric_limits<double>::infinity(), "Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const auto& [value, shell] : cases) {
    INFO(shell);
    CHECK(FormatRealShell(value) == shell);
    QueryResult t;
    t.columns = {"x"};
    t.rows = {{value}};
    std::ostringstream list;
    WriteTable(list, t, OutputFormat::kList);
    CHECK(list.str() == std::string(shell) + "\n");
    std::ostringstream markdown;
    WriteTable(markdown, t, OutputFormat::kMarkdown);
    CHECK(markdown.str().find(std::string("| ") + shell + " |") != std::string::npos);
    std::ostringstream box;
    WriteTable(box, t, OutputFormat::kBox);
    CHECK(box.str().find(std::string(" ") + shell + " │") != std::string::npos);
  }
}

TEST_CASE("csv and json keep reals that read back to the same double", "[common][format]") {
  QueryResult t;
  t.columns = {"x"};
  t.rows = {{45.599999999999994}, {0.1 + 0.2}, {1e20}};
  std::ostringstream csv;
  WriteTable(csv, t, OutputFormat::kCsv);
  CHECK(csv.str() == "x\r\n45.599999999999994\r\n0.30000000000000004\r\n1e+20\r\n");
  std::ostringstream json;
  WriteTable(json, t, OutputFormat::kJson);
  const auto parsed = nlohmann::json::parse(json.str());
  CHECK(parsed[0]["x"].get<double>() == 45.599999999999994);
  CHECK(parsed[1]["x"].get<double>() == 0.1 + 0.2);
  CHECK(json.str().find("45.599999999999994") != std::string::npos);
}

TEST_CASE("format names parse", "[common][format]") {
  CHECK(ParseOutputFormat("markdown") == OutputFormat::kMarkdown);
  CHECK_FALSE(ParseOutputFormat("xml").has_value());
}

}  // namespace cohortdb

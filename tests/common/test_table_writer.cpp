// Output formats of the sql command and of analysis tables.
#include <catch2/catch.hpp>

#include <sstream>

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
        "+----+--------+-------+\n"
        "| id | name   | value |\n"
        "+----+--------+-------+\n"
        "|  1 | a, \"b\" |   0.1 |\n"
        "|  2 | NULL   |   3.0 |\n"
        "|  3 | z|é    | 1e-20 |\n"
        "+----+--------+-------+\n");
}

TEST_CASE("box format uses Unicode rules", "[common][format]") {
  const std::string box = Render(OutputFormat::kBox);
  CHECK(box.rfind("┌────┬────────┬───────┐\n", 0) == 0);
  CHECK(box.find("│  2 │ NULL   │   3.0 │\n") != std::string::npos);
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
        "| 3 | z\\|é | 1e-20 |\n");
}

TEST_CASE("format names parse", "[common][format]") {
  CHECK(ParseOutputFormat("markdown") == OutputFormat::kMarkdown);
  CHECK_FALSE(ParseOutputFormat("xml").has_value());
}

}  // namespace cohortdb

// CsvReader and cell parsing: RFC 4180 quoting, line numbers across quoted
// line breaks and chunk boundaries, BOM, CRLF, TSV, UTF-8 checks, and the
// number/censoring parser.
#include <catch2/catch.hpp>
#include <fmt/format.h>


#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "import/csv_reader.h"
#include "import/value_parser.h"
#include "test_support.h"

using cohortdb::CsvReader;
using cohortdb::CsvRecord;
using cohortdb::InputError;

namespace {

struct Row {
  long long line;
  std::vector<std::string> fields;
  std::string problem;
};

std::vector<Row> ReadAll(const std::string& content, char delimiter = ',',
                         std::size_t chunk_size = CsvReader::kDefaultChunkSize) {
  cohortdb::test::ScratchDir dir;
  const std::string path = dir / "in.csv";
  std::ofstream(path, std::ios::binary) << content;
  CsvReader reader(path, delimiter, "in.csv", chunk_size);
  std::vector<Row> rows;
  while (const CsvRecord* r = reader.Next()) {
    Row row{r->line(), {}, r->problem()};
    for (std::size_t i = 0; i < r->size(); ++i) row.fields.emplace_back((*r)[i]);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("csv: quoted fields with delimiters / doubled quotes and line breaks", "[import][csv]") {
  auto rows = ReadAll("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,end\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].fields == std::vector<std::string>{"x,y", "say \"hi\"", "two\nlines"});
  CHECK(rows[1].line == 2);
  CHECK(rows[2].line == 4);  // the quoted line break moved it down one line
  CHECK(rows[2].fields == std::vector<std::string>{"last", "", "end"});
}

TEST_CASE("csv: BOM / CRLF / blank lines and a missing final newline", "[import][csv]") {
  auto rows = ReadAll("\xEF\xBB\xBFid,v\r\n1, a \r\n\r\n2,b");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].fields[0] == "id");
  CHECK(rows[1].fields[1] == " a ");  // delivered bytes are kept
  CHECK(rows[2].line == 4);
  CHECK(rows[2].fields == std::vector<std::string>{"2", "b"});
}

TEST_CASE("csv: lone CR line ends (old Mac files) count as lines", "[import][csv]") {
  auto rows = ReadAll("a,b\r1,2\r3,4\r\n5,6\n");
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].line == 2);
  CHECK(rows[2].line == 3);
  CHECK(rows[3].line == 4);
  CHECK(rows[3].fields == std::vector<std::string>{"5", "6"});
}

TEST_CASE("csv: a lone CR that ends a read chunk counts as a line", "[import][csv]") {
  // Rows of 8 bytes ("nnnnn,x\r") after an 8-byte header: a CR falls on the
  // last byte of the 1 MiB chunk.
  std::string content = "aaa,bbb\r";
  int rows_written = 0;
  while (content.size() < (1u << 20) + 1000) content += fmt::format("{:05},x\r", ++rows_written % 100000);
  REQUIRE(content[(1u << 20) - 1] == '\r');
  auto rows = ReadAll(content);
  REQUIRE(rows.size() == static_cast<std::size_t>(rows_written + 1));
  for (int i = 1; i <= rows_written; ++i) REQUIRE(rows[i].line == i + 1);
}

TEST_CASE("csv: records and line numbers do not depend on where the reads split the file", "[import][csv]") {
  const std::vector<std::string> contents = {
      "\xEF\xBB\xBFid,text\r\n1,\"a\r\nb\"\r\n\r\n2,\"x\"\"y\"\r\n3,z",
      "id,text\r1,a\r\r2,\"q\rr\"\r3,b\r",
      "id,text\n1,\"multi\nline\nfield\"\n\n\n2,\"\"\n3,\"\r\"\r\n4,e\n",
      "id,text\r\n1,a\r2,b\n3,c\r\n\r4,d\r\r\n5,e",
  };
  for (const std::string& content : contents) {
    const std::vector<Row> whole = ReadAll(content);
    for (std::size_t chunk = 4; chunk <= content.size() + 1; ++chunk) {
      INFO("chunk " << chunk << " of " << content);
      const std::vector<Row> split = ReadAll(content, ',', chunk);
      REQUIRE(split.size() == whole.size());
      for (std::size_t i = 0; i < whole.size(); ++i) {
        CHECK(split[i].line == whole[i].line);
        CHECK(split[i].fields == whole[i].fields);
      }
    }
  }
}

TEST_CASE("csv: Peek shows parsed records ahead without consuming them, whatever the chunk size", "[import][csv]") {
  const std::string content = "id\nr1\nr2\n\"r\n3\"\nr4\n";
  for (std::size_t chunk : {std::size_t{4}, std::size_t{7}, CsvReader::kDefaultChunkSize}) {
    INFO("chunk " << chunk);
    cohortdb::test::ScratchDir dir;
    const std::string path = dir / "in.csv";
    std::ofstream(path, std::ios::binary) << content;
    CsvReader reader(path, ',', "in.csv", chunk);
    CHECK(reader.Peek(0) == nullptr);
    std::vector<std::string> read, peeked;
    while (const CsvRecord* r = reader.Next()) {
      read.emplace_back((*r)[0]);
      const std::size_t at = read.size();
      for (std::size_t ahead = 1; ahead <= 3; ++ahead) {
        const CsvRecord* p = reader.Peek(ahead);
        if (p != nullptr) peeked.push_back(fmt::format("{}+{}={}", at, ahead, (*p)[0]));
      }
      CHECK(reader.Peek(0) == nullptr);
    }
    CHECK(read == std::vector<std::string>{"id", "r1", "r2", "r\n3", "r4"});
    // Whatever Peek showed is what Next returned at that place.
    for (const std::string& p : peeked) {
      const std::size_t plus = p.find('+'), eq = p.find('=');
      const std::size_t index = std::stoul(p.substr(0, plus)) + std::stoul(p.substr(plus + 1, eq - plus - 1)) - 1;
      REQUIRE(index < read.size());
      CHECK(p.substr(eq + 1) == read[index]);
    }
    // With the whole file in one chunk, every record ahead is shown.
    if (chunk == CsvReader::kDefaultChunkSize) CHECK(peeked.size() == 3 + 3 + 2 + 1);
  }
}

TEST_CASE("csv: tab-separated values", "[import][csv]") {
  auto rows = ReadAll("a\tb\n\"1\t2\"\t3\n", '\t');
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].fields == std::vector<std::string>{"1\t2", "3"});
}

TEST_CASE("csv: invalid UTF-8 is reported on the record with its column", "[import][csv]") {
  auto rows = ReadAll("a,b\nok,bad\xC3(\nfine,\xE2\x82\xAC\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].problem == "expected UTF-8 text, found the invalid byte 0xC3 at byte 4 of the field");
  CHECK(rows[2].problem.empty());  // the euro sign is valid
}

TEST_CASE("csv: structural errors name the line", "[import][csv]") {
  CHECK_THROWS_WITH(ReadAll("a,b\n1,2\n3,\"open\n"),
                    "in.csv:3: unterminated quoted field: expected a closing quote before the end of the file");
  CHECK_THROWS_WITH(ReadAll("a,b\n1,\"x\"y\n"),
                    "in.csv:2: malformed quoting: expected quotes only around a whole field (a quote inside a quoted "
                    "field written as \"\"), found a stray quote");
  CHECK_THROWS_AS(ReadAll(std::string("\xFF\xFE" "a\0", 4)), InputError);
}

TEST_CASE("csv: records spanning the 1 MiB read chunk keep fields and lines", "[import][csv]") {
  std::string content = "id,text\n";
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    content += std::to_string(i) + ",\"line one of " + std::to_string(i) + "\nline two, with comma\"\n";
  }
  auto rows = ReadAll(content);
  REQUIRE(rows.size() == static_cast<std::size_t>(n + 1));
  for (int i = 0; i < n; ++i) {
    REQUIRE(rows[i + 1].line == 2 + 2 * i);
    REQUIRE(rows[i + 1].fields[1] == "line one of " + std::to_string(i) + "\nline two, with comma");
  }
}

TEST_CASE("values: numbers / integers and censored cells", "[import][values]") {
  using namespace cohortdb;
  CHECK(ParseNumber(" 2.5 ") == 2.5);
  CHECK(ParseNumber("+1e3") == 1000.0);
  CHECK_FALSE(ParseNumber("2,5"));
  CHECK_FALSE(ParseNumber("nan"));
  CHECK_FALSE(ParseNumber("inf"));
  CHECK_FALSE(ParseNumber(""));
  CHECK(ParseNumber("-0.5") == -0.5);
  CHECK_FALSE(ParseNumber("+-5"));  // one sign only
  CHECK_FALSE(ParseNumber("+"));
  CHECK(ParseInteger("42") == 42);
  CHECK(ParseInteger("+42") == 42);
  CHECK_FALSE(ParseInteger("+-5"));
  CHECK_FALSE(ParseNumericCell("<+-3"));
  CHECK_FALSE(ParseInteger("4.2"));
  auto left = ParseNumericCell("<0.15");
  REQUIRE(left);
  CHECK(left->censoring == '<');
  CHECK(left->number == 0.15);
  auto right = ParseNumericCell("> 500");
  REQUIRE(right);
  CHECK(right->censoring == '>');
  CHECK(right->number == 500);
  CHECK_FALSE(ParseNumericCell("<"));
  CHECK_FALSE(ParseNumericCell("<<1"));
  CHECK(IsValidUtf8("plain ascii and \xC3\xA9"));
  CHECK_FALSE(IsValidUtf8("\xC0\x80"));      // overlong
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK(JsonQuote("a\"b\n") == "\"a\\\"b\\n\"");
}

// Import edge cases (issue 16), each pinned to its decision: an error with
// FILE:LINE:COLUMN that leaves the store unchanged, or a normalisation that
// keeps the source value as delivered and is counted in the import summary
// (docs/IMPORT.md, "Normalisation").
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "common/error.h"
#include "import/csv_reader.h"
#include "import/spec.h"
#include "import/value_parser.h"
#include "test_support.h"

using namespace cohortdb;
using namespace cohortdb::test;

namespace {

// A long file of study "edge" that creates its participants: x is real,
// n an integer, t text.
const char* kLongSpec = R"(study = "edge"
shape = "long"
defines_participants = true
missing = ["", "2.0"]

[participant]
id = "id"

[visit]
column = "visit"

[long]
variable = "name"
value = "value"

[variables.x]
names = ["x", "IL-6"]
unit = "u"

[variables.n]
type = "integer"

[variables.one]
min = 3
max = 3

[variables.t]
type = "text"
)";

struct EdgeStore {
  ScratchDir dir;
  std::string store = dir / "s.cohortdb";
  EdgeStore() {
    std::ofstream(dir / "edge.toml") << kLongSpec;
    RunResult r = Cohortdb("init '" + store + "'");
    REQUIRE(r.exit_code == 0);
  }
  RunResult Import(const std::string& csv, const std::string& extra = "") {
    std::ofstream(dir / "edge.csv", std::ios::binary) << csv;
    return Cohortdb("import '" + store + "' --spec edge.toml edge.csv " + extra, dir.path().string());
  }
};

std::string SpecError(const std::string& text) {
  try {
    ParseSpec(text, "s.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("import: numbers written other than plainly are normalised and counted", "[import][edge]") {
  EdgeStore s;
  RunResult r = s.Import(
      "id,visit,name,value\n"
      "P1,v1,x,+5\n"
      "P2,v1,x,.5\n"
      "P3,v1,x,5.\n"
      "P4,v1,x, 5 \n"
      "P5,v1,x,1e3\n"
      "P6,v1,x,-0\n"
      "P7,v1,n,6200.0\n"
      "P8,v1,x,0.80\n"   // plain: trailing zeros are a precision, not a rewrite
      "P9,v1,n,-12\n"    // plain
      "P10,v1,x,007\n"
      "P11,v1,x,<0.15\n"   // plain censored
      "P12,v1,x,< 0.15\n"  // a blank inside
      "P13,v1,t, kept as is \n");  // text is stored as delivered: no normalisation
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "edge.csv: 13 rows read, 13 loaded, 0 rejected; 13 values, 13 new participants (batch 1)\n"
        "edge.csv: 9 cells normalised, first at line 2, column 4: '+5' (read as a number or code, or trimmed; docs/IMPORT.md, "
        "\"Normalisation\")\n");
  CHECK(QueryOne(s.store, "SELECT group_concat(external_id || '=' || ifnull(value, censoring || ' ' || detection_limit) "
                          "|| ' [' || source_value || ']', '; ') FROM (SELECT * FROM record_all "
                          "WHERE variable IN ('x', 'n') ORDER BY participant_id)") ==
        "P1=5.0 [+5]; P2=0.5 [.5]; P3=5.0 [5.]; P4=5.0 [ 5 ]; P5=1000.0 [1e3]; P6=0.0 [-0]; P7=6200.0 [6200.0]; "
        "P8=0.8 [0.80]; P9=-12.0 [-12]; P10=7.0 [007]; P11=left 0.15 [<0.15]; P12=left 0.15 [< 0.15]");
  // "-0" is stored as 0, not as the negative zero (1/value would be -Inf).
  CHECK(QueryOne(s.store, "SELECT printf('%+.1f', value) FROM record_all WHERE external_id = 'P6'") == "+0.0");
  CHECK(QueryOne(s.store, "SELECT value_text FROM record_all WHERE external_id = 'P13'") == " kept as is ");
}

TEST_CASE("import: a number beyond the range of a double is an error / not 0 or Inf", "[import][edge]") {
  EdgeStore s;
  REQUIRE(s.Import("id,visit,name,value\nP1,v1,x,1\n").exit_code == 0);
  const std::string before = StoreHash(s.store);
  RunResult r = s.Import("id,visit,name,value\nP1,v2,x,1e-400\nP2,v1,x,-1e400\nP3,v1,x,<1e-400\nP4,v1,x,1e-320\n");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: edge.csv:2:4: expected a number (or <limit, >limit) for variable 'x', found '1e-400', too close to "
        "0 to be stored as a double (it would read as 0; the smallest is 4.9e-324)\n"
        "edge.csv:3:4: expected a number (or <limit, >limit) for variable 'x', found '-1e400', too large to be stored "
        "as a double (at most 1.8e308 in magnitude)\n"
        "edge.csv:4:4: expected a number (or <limit, >limit) for variable 'x', found '<1e-400', too close to 0 to be "
        "stored as a double (it would read as 0; the smallest is 4.9e-324)\n"
        "import failed: 3 errors; the store is unchanged\n");
  CHECK(StoreHash(s.store) == before);
  // A zero written as such stays one; "inf" is no number at all.
  CHECK(ParseNumber("0e-400") == 0.0);
  CHECK(ParseNumber("0.000") == 0.0);
  CHECK_FALSE(ParseNumber("inf"));
  CHECK(NumberOutOfRange("inf") == nullptr);
}

TEST_CASE("import: an id or name with blanks around is trimmed / never a second participant", "[import][edge]") {
  EdgeStore s;
  REQUIRE(s.Import("id,visit,name,value\nP2,v1,x,1\n").exit_code == 0);
  RunResult r = s.Import(
      "id ,visit,name,value\n"
      " P2,v2,x,2\n"      // the participant of the first import
      "P3 ,v1,IL-6 ,3\n"  // analyte name with a trailing blank
      "P3,v2,x,4\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "edge.csv: 3 rows read, 3 loaded, 0 rejected; 3 values, 1 new participants (batch 2)\n"
        "edge.csv: 4 cells normalised, first at line 1, column 1: 'id ' (read as a number or code, or trimmed; docs/IMPORT.md, "
        "\"Normalisation\")\n");
  CHECK(QueryOne(s.store, "SELECT group_concat(external_id, ',') FROM (SELECT external_id FROM participant "
                          "ORDER BY external_id)") == "P2,P3");
  CHECK(QueryOne(s.store, "SELECT count(*) FROM record_current WHERE external_id = 'P3'") == "2");
}

TEST_CASE("import: missing codes match the cell's text / not its number", "[import][edge]") {
  EdgeStore s;  // missing = ["", "2.0"]
  RunResult r = s.Import("id,visit,name,value\nP1,v1,x,2.0\nP2,v1,x,2\nP3,v1,x,2.00\nP4,v1,x, 2.0 \n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // "2.0" (blanks trimmed) is no value; "2" and "2.00" are the number 2.
  CHECK(QueryOne(s.store, "SELECT group_concat(external_id || '=' || value, '; ') FROM (SELECT * FROM record_all "
                          "ORDER BY participant_id)") == "P2=2.0; P3=2.0");
}

TEST_CASE("import: min = max admits exactly that value", "[import][edge]") {
  EdgeStore s;
  RunResult r = s.Import("id,visit,name,value\nP1,v1,one,3\nP2,v1,one,3.5\n");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: edge.csv:3:4: expected a value between 3 and 3 for variable 'one', found '3.5'\n"
        "import failed: 1 error; the store is unchanged\n");
  REQUIRE(s.Import("id,visit,name,value\nP1,v1,one,3\n").exit_code == 0);
}

TEST_CASE("import: --quarantine with rejected rows exits 7 / without them 0", "[import][edge]") {
  EdgeStore s;
  RunResult r = s.Import("id,visit,name,value\nP1,v1,x,1\nP2,v1,x,abc\nP3,v1,n,1.5\n", "--quarantine");
  CHECK(r.exit_code == 7);
  CHECK(r.out == "edge.csv: 3 rows read, 1 loaded, 2 rejected; 1 values, 1 new participants (batch 1)\n");
  CHECK(r.err == "cohortdb: 2 rows rejected and kept in import_error; the other rows loaded (exit code 7)\n");
  CHECK(QueryOne(s.store, "SELECT count(*) FROM import_error") == "2");
  CHECK(QueryOne(s.store, "SELECT count(*) FROM record_current") == "1");
  // Nothing rejected: 0, as without --quarantine.
  r = s.Import("id,visit,name,value\nP4,v1,x,1\n", "--quarantine");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  // A dry run says what would happen, with the same code.
  r = s.Import("id,visit,name,value\nP5,v1,x,1\nP6,v1,x,abc\n", "--quarantine --dry-run");
  CHECK(r.exit_code == 7);
  CHECK(r.err == "cohortdb: 1 row rejected and would be kept in import_error; the other rows are valid (exit code 7)\n");
}

TEST_CASE("import: a 4 MiB quoted text field loads whole", "[import][edge]") {
  EdgeStore s;
  std::string big;
  for (int i = 0; big.size() < (std::size_t{4} << 20); ++i) big += "line " + std::to_string(i) + " \"q\", more\n";
  std::string quoted;
  for (char c : big) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  RunResult r = s.Import("id,visit,name,value\nP1,v1,t,\"" + quoted + "\"\nP2,v1,x,1\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(s.store, "SELECT length(value_text) = length(source_value) FROM record_all WHERE variable = 't'") == "1");
  CHECK(QueryOne(s.store, "SELECT length(value_text) FROM record_all WHERE variable = 't'") == std::to_string(big.size()));
  CHECK(QueryOne(s.store, "SELECT value_text FROM record_all WHERE variable = 't'") == big);
}

TEST_CASE("csv: a long quoted field grows the parser's buffer geometrically", "[import][csv][edge]") {
  // libcsv grows by a fixed 128 bytes by default: a 16 MiB field took
  // 131,072 reallocations, each copying the field so far (quadratic).
  ScratchDir dir;
  const std::string path = dir / "big.csv";
  const std::size_t size = std::size_t{16} << 20;
  {
    std::ofstream out(path, std::ios::binary);
    out << "a,b\n1,\"" << std::string(size, 'x') << "\"\n";
  }
  const std::uint64_t before = CsvFieldBufferReallocations();
  CsvReader reader(path, ',');
  REQUIRE(reader.Next() != nullptr);
  const CsvRecord* rec = reader.Next();
  REQUIRE(rec != nullptr);
  CHECK((*rec)[1].size() == size);
  CHECK(CsvFieldBufferReallocations() - before < 64);
}

TEST_CASE("spec: a range check that can never fail is refused", "[import][spec][edge]") {
  const std::string head = "study = \"s\"\nshape = \"wide\"\n[participant]\nid = \"id\"\n[variables.x]\n";
  CHECK(SpecError(head + "min = nan\n") ==
        "s.toml:6:7: variables.x.min: expected a finite number, found nan (leave the key out for no limit)");
  CHECK(SpecError(head + "max = inf\n") ==
        "s.toml:6:7: variables.x.max: expected a finite number, found inf (leave the key out for no limit)");
  CHECK(SpecError(head + "min = -inf\n") ==
        "s.toml:6:7: variables.x.min: expected a finite number, found -inf (leave the key out for no limit)");
  // min = max is a range of one value (pinned by the import test above).
  ImportSpec spec = ParseSpec(head + "min = 3\nmax = 3.0\n", "s.toml");
  CHECK(spec.variables.at(0).min_value == 3.0);
  CHECK(spec.variables.at(0).max_value == 3.0);
}

TEST_CASE("spec: empty units / repeated visits / ignored used columns / misplaced checkboxes / long titles",
          "[import][spec][edge]") {
  const std::string head = "study = \"s\"\nshape = \"wide\"\n[participant]\nid = \"id\"\n";
  CHECK(SpecError(head + "[variables.x]\nunit = \"\"\n") ==
        "s.toml:6:8: variables.x.unit: expected a unit such as \"mg/L\", found an empty string (leave the key out "
        "for none)");
  CHECK(SpecError(head + "[variables.x]\nsource_unit = \"\"\n") ==
        "s.toml:6:15: variables.x.source_unit: expected a unit such as \"mg/dL\", found an empty string (leave the "
        "key out for none)");
  CHECK(SpecError(head + "[[visits]]\ncode = \"baseline\"\norder = 1\n[[visits]]\ncode = \"baseline\"\norder = 2\n") ==
        "s.toml:9:8: visits.code: expected each visit code once, found 'baseline' again");
  CHECK(SpecError("study = \"s\"\nshape = \"wide\"\nignore = [\"note\", \"id\"]\n[participant]\nid = \"id\"\n") ==
        "s.toml:3:10: ignore: expected columns the spec does not read, found 'id', the column of [participant] id");
  CHECK(SpecError("study = \"s\"\nshape = \"wide\"\nignore = [\"pain\"]\n[participant]\nid = \"id\"\n"
                  "[variables.x]\ncolumn = \"pain\"\n") ==
        "s.toml:3:10: ignore: expected columns the spec does not read, found 'pain', the column of [variables.x]");
  CHECK(SpecError("study = \"s\"\nshape = \"long\"\n[participant]\nid = \"id\"\n[long]\nvariable = \"v\"\n"
                  "value = \"x\"\n[checkboxes.comorb]\n\"1\" = \"diabetes\"\n") ==
        "s.toml:8:1: checkboxes: expected only in a spec with shape = \"redcap\" (REDCap's checkbox columns "
        "field___code), found shape = \"long\"; map a 0/1 column as a boolean variable instead");
  CHECK(SpecError("study = \"s\"\nshape = \"wide\"\ntitle = \"" + std::string(1 << 20, 'T') +
                  "\"\n[participant]\nid = \"id\"\n") ==
        "s.toml:3:9: spec.title: expected at most 1000 characters, found 1048576");
  // 1000 characters of UTF-8 are 1000, whatever their bytes.
  std::string umlauts;
  for (int i = 0; i < 1000; ++i) umlauts += "\xC3\xBC";
  CHECK(ParseSpec("study = \"s\"\nshape = \"wide\"\ntitle = \"" + umlauts + "\"\n[participant]\nid = \"id\"\n", "s.toml")
            .title == umlauts);
}

TEST_CASE("spec: a byte order mark and CRLF line ends are accepted", "[import][spec][edge]") {
  const std::string crlf = "study = \"s\"\r\nshape = \"wide\"\r\ntitle = \"T\"\r\n[participant]\r\nid = \"id\"\r\n";
  ImportSpec spec = ParseSpec("\xEF\xBB\xBF" + crlf, "s.toml");
  CHECK(spec.study == "s");
  CHECK(spec.title == "T");
  CHECK(spec.participant_column == "id");
  // Errors keep their line and column.
  CHECK(SpecError("\xEF\xBB\xBF" + crlf + "[variables.x]\r\nmin = nan\r\n") ==
        "s.toml:7:7: variables.x.min: expected a finite number, found nan (leave the key out for no limit)");
}

TEST_CASE("import: trial summaries count their numbers written other than plainly", "[import][edge]") {
  ScratchDir dir;
  std::ofstream(dir / "m.toml") << "study = \"m\"\nshape = \"trial_summary\"\n[trial_summary]\nyear = \"year\"\n";
  std::ofstream(dir / "m.csv") << "trial,year,outcome,arm,n,mean,sd\n"
                                  "T1,2014,pain,treatment,62,4.7,1.57\n"
                                  "T1,2014,pain,control,+59,5.51e0,1.55\n";
  const std::string store = dir / "s.cohortdb";
  REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
  RunResult r = Cohortdb("import '" + store + "' --spec m.toml m.csv", dir.path().string());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "m.csv: 2 rows read, 2 loaded, 0 rejected; 2 values, 0 new participants (batch 1)\n"
        "m.csv: 2 cells normalised, first at line 3, column 5: '+59' (read as a number or code, or trimmed; docs/IMPORT.md, "
        "\"Normalisation\")\n");
  CHECK(QueryOne(store, "SELECT n || ' ' || mean FROM meta_arm_summary WHERE arm = 'control'") == "59 5.51");
}

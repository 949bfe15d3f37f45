// `cohortdb import` and `import-dictionary` through the built binary: every
// shape and spec feature, unit conversion and censoring, provenance,
// idempotent re-import, --replace, --dry-run and --quarantine.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.h"

using namespace cohortdb::test;

namespace {

// A new store in a scratch directory.
std::string NewStore(const ScratchDir& dir) {
  const std::string store = dir / "s.cohortdb";
  RunResult r = Cohortdb("init '" + store + "'");
  REQUIRE(r.exit_code == 0);
  return store;
}

void Import(const std::string& store, const std::string& args, const std::string& cwd = kDataDir) {
  RunResult r = Cohortdb("import '" + store + "' " + args, cwd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string Value(const std::string& store, const std::string& study, const std::string& participant,
                  const std::string& visit, const std::string& variable, const std::string& column = "value") {
  std::string visit_clause = visit.empty() ? "visit IS NULL" : "visit = '" + visit + "'";
  return QueryOne(store, "SELECT " + column + " FROM record_current WHERE study = '" + study + "' AND external_id = '" +
                             participant + "' AND " + visit_clause + " AND variable = '" + variable + "'");
}

}  // namespace

TEST_CASE("import: wide file defining participants / with code maps and a fixed visit", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml import/people.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "import/people.csv: 3 rows read, 3 loaded, 0 rejected; 8 values, 3 new participants (batch 1)\n");
  CHECK(r.err.empty());  // no progress line when stderr is not a terminal
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ':' || sex || ':' || age_years || ':' || s.code, ' ') "
                        "FROM participant p JOIN site s USING (site_id)") ==
        "P1:female:34.0:berlin P2:male:51.0:berlin P3:female:47.0:munich");
  CHECK(Value(store, "lab", "P2", "baseline", "pain") == "7.5");
  CHECK(Value(store, "lab", "P3", "baseline", "pain").empty());  // empty cell: no record
  CHECK(Value(store, "lab", "P2", "baseline", "arm_group") == "2.0");
  CHECK(Value(store, "lab", "P2", "baseline", "arm_group", "value_text") == "placebo");
  CHECK(Value(store, "lab", "P1", "baseline", "smoker") == "1.0");
  CHECK(Value(store, "lab", "P1", "baseline", "smoker", "source_value") == "yes");
  // Provenance.
  CHECK(QueryOne(store, "SELECT file_name || '|' || spec_name || '|' || rows_read || '|' || rows_loaded || '|' || "
                        "rows_rejected || '|' || status || '|' || length(file_sha256) || '|' || tool_version FROM import_batch") ==
        "import/people.csv|import/people.toml|3|3|0|loaded|64|0.1.0");
  CHECK(QueryOne(store, "SELECT count(*) FROM import_batch WHERE finished_at >= started_at") == "1");
  CHECK(QueryOne(store, "SELECT file_sha256 FROM import_batch") ==
        RunShell("sha256sum import/people.csv | cut -c1-64", kDataDir).out.substr(0, 64));
}

TEST_CASE("import: long lab file with visit map / unit conversion / censoring and extras", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  Import(store, "--spec import/labs.toml import/labs.csv");
  // hs-CRP 0.31 mg/dL -> 3.1 mg/L through unit_conversion; source kept.
  CHECK(QueryDouble(store, "SELECT value FROM record_current WHERE external_id = 'P1' AND variable = 'hscrp'") ==
        Approx(3.1).epsilon(1e-12));
  CHECK(Value(store, "lab", "P1", "baseline", "hscrp", "source_value || ' ' || source_unit") == "0.31 mg/dL");
  // <0.15: left censored, value NULL, limit kept; > 20: right censored.
  CHECK(Value(store, "lab", "P2", "baseline", "il6", "censoring || ' ' || detection_limit || ' ' || ifnull(value, 'NULL')") ==
        "left 0.15 NULL");
  CHECK(Value(store, "lab", "P2", "baseline", "hscrp", "censoring || ' ' || detection_limit") == "right 20.0");
  // Missing code NA: no record. Empty unit: the canonical unit.
  CHECK(Value(store, "lab", "P3", "week12", "il6").empty());
  CHECK(Value(store, "lab", "P1", "week12", "il6") == "1.8");
  CHECK(Value(store, "lab", "P3", "week12", "wbc") == "6200.0");
  // [extra]: lab is a biomarker column, kit goes into the metadata JSON.
  CHECK(QueryOne(store, "SELECT lab || ' ' || metadata FROM biomarker WHERE metadata IS NOT NULL") ==
        "central {\"kit\":\"K1\"}");
  CHECK(QueryOne(store, "SELECT record_kind FROM import_batch WHERE batch_id = 2") == "biomarker");
}

TEST_CASE("import: whole numbers and ranges (detection limits too) are checked in the catalog's unit", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "checks.toml";
  std::ofstream(spec) << "study = \"chk\"\nshape = \"long\"\nrecord_kind = \"covariate\"\n"
                         "defines_participants = true\n[participant]\nid = \"id\"\n"
                         "[long]\nvariable = \"name\"\nvalue = \"value\"\nunit = \"unit\"\n"
                         "[variables.duration]\ntype = \"integer\"\nunit = \"years\"\n"
                         "[variables.il6]\nkind = \"biomarker\"\nunit = \"pg/mL\"\nmin = 0\nmax = 1000\n"
                         "[variables.smoker]\ntype = \"boolean\"\ncodes = { \"2\" = 1, \"1\" = 0 }\n";
  const std::string file = dir / "checks.csv";
  std::ofstream(file) << "id,name,value,unit\n"
                         "P1,duration,24,months\n"   // 2 years
                         "P2,duration,18,months\n"   // 1.5 years: not whole
                         "P1,il6,<0.15,pg/mL\n"      // a limit in range
                         "P2,il6,>2,ng/mL\n"         // 2000 pg/mL: above the range
                         "P3,il6,<-1,pg/mL\n"        // below it
                         "P1,smoker,2,\n"
                         "P2,smoker,0,\n"            // not one of the codes
                         "P3,duration,+-1,years\n";  // one sign only
  RunResult r = Cohortdb("import '" + store + "' --spec checks.toml checks.csv", dir.path().string());
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: checks.csv:3:3: expected a whole number for integer variable 'duration', found 18 months = 1.5 years\n"
        "checks.csv:5:3: expected a limit between 0 and 1000 pg/mL for variable 'il6', found >2 ng/mL = 2000 pg/mL\n"
        "checks.csv:6:3: expected a limit between 0 and 1000 pg/mL for variable 'il6', found '<-1'\n"
        "checks.csv:8:3: expected one of the codes 1, 2 of variable 'smoker', found '0'\n"
        "checks.csv:9:3: expected a number (or <limit, >limit) for variable 'duration', found '+-1'\n"
        "import failed: 5 errors; the store is unchanged\n");
  r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "' --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ' ' || variable || ' ' || ifnull(value, censoring || ' ' || "
                        "detection_limit), '; ') FROM (SELECT * FROM record_current ORDER BY external_id, variable)") ==
        "P1 duration 2.0; P1 il6 left 0.15; P1 smoker 1.0");
  // Each kept error names its column as the header does.
  CHECK(QueryOne(store, "SELECT group_concat(line || ':' || column_index || ' ' || column_name, '; ') FROM "
                        "(SELECT * FROM import_error ORDER BY error_id)") ==
        "3:3 value; 5:3 value; 6:3 value; 8:3 value; 9:3 value");
}

TEST_CASE("import: missing codes apply to the participant attribute columns too", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "people.toml";
  std::ofstream(spec) << "study = \"lab\"\nshape = \"wide\"\nrecord_kind = \"outcome\"\n"
                         "defines_participants = true\nmissing = [\"\", \"NA\", \"-999\"]\n"
                         "[participant]\nid = \"id\"\nsite = \"site\"\nsex = \"sex\"\n"
                         "sex_codes = { F = \"female\", M = \"male\" }\nage = \"age\"\n"
                         "birth_year = \"born\"\narm = \"arm\"\narm_codes = { a = \"active\" }\n"
                         "[variables.pain]\nmin = 0\nmax = 10\n";
  const std::string file = dir / "people.csv";
  std::ofstream(file) << "id,site,sex,age,born,arm,pain\n"
                         "P1,berlin,F,40,1986,a,3\n"
                         "P2,NA,NA,-999,NA,-999,NA\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT ifnull(site_id, '-') || ifnull(sex, '-') || ifnull(age_years, '-') || "
                        "ifnull(birth_year, '-') || ifnull(arm, '-') FROM participant WHERE external_id = 'P2'") ==
        "-----");
  CHECK(QueryOne(store, "SELECT count(*) FROM site") == "1");
  CHECK(QueryOne(store, "SELECT count(*) FROM outcome") == "1");
}

TEST_CASE("import: TSV and RFC 4180 quoting with BOM and CRLF", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  Import(store, "--spec import/labs_tsv.toml import/labs.tsv");
  CHECK(Value(store, "lab", "P2", "week12", "wbc") == "7000.0");
  CHECK(QueryOne(store, "SELECT lab FROM biomarker WHERE value = 7000") == "lab, central");
  Import(store, "--spec import/notes.toml import/notes.csv");
  CHECK(Value(store, "lab", "P1", "week12", "note", "value_text") == "plain, with comma");
  CHECK(Value(store, "lab", "P2", "week12", "note", "value_text") == "she said \"ouch\"");
  CHECK(Value(store, "lab", "P3", "week12", "note", "value_text") == "two\r\nlines");
  CHECK(Value(store, "lab", "P3", "week12", "score") == "3.0");
}

TEST_CASE("import: REDCap longitudinal export with repeats / checkboxes and access groups", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/redcap.toml import/redcap.csv");
  CHECK(Value(store, "rc", "1", "week12", "pain") == "2.0");
  CHECK(Value(store, "rc", "1", "diary1", "pain") == "3.0");
  CHECK(Value(store, "rc", "1", "diary2", "pain") == "5.0");
  CHECK(QueryOne(store, "SELECT metadata FROM outcome o JOIN visit v USING (visit_id) WHERE v.code = 'diary2'") ==
        "{\"redcap_repeat_instrument\":\"pain_diary\",\"redcap_repeat_instance\":\"2\"}");
  CHECK(Value(store, "rc", "1", "baseline", "numbness") == "1.0");
  CHECK(Value(store, "rc", "1", "week12", "stiffness") == "1.0");
  CHECK(QueryOne(store, "SELECT group_concat(p.external_id || '@' || s.code || ':' || p.sex, ' ') FROM participant p "
                        "JOIN site s USING (site_id)") == "1@site_a:female 2@site_b:male");
  CHECK(QueryOne(store, "SELECT count(*) FROM variable WHERE code LIKE '%complete%'") == "0");
}

TEST_CASE("import: a checkbox choice declared in [variables] for its label needs no column of its own",
          "[import][e2e][labels]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  std::ifstream in(std::string(kDataDir) + "/import/redcap.toml");
  std::stringstream spec_text;
  spec_text << in.rdbuf();
  const std::string spec = dir / "labelled.toml";
  std::ofstream(spec) << spec_text.str()
                      << "\n[variables.numbness]\ntype = \"boolean\"\nlabel = \"Symptoms: Numbness\"\n";
  Import(store, "--spec '" + spec + "' import/redcap.csv");
  CHECK(QueryOne(store, "SELECT label || ':' || value_type FROM variable WHERE code = 'numbness'") ==
        "Symptoms: Numbness:boolean");
  // the values still come from symptoms___1, as without the declaration
  CHECK(Value(store, "rc", "1", "baseline", "numbness") == "1.0");
  CHECK(QueryOne(store, "SELECT label FROM variable WHERE code = 'stiffness'") == "symptoms = 2");
}

TEST_CASE("import: REDCap flat export with a repeating instrument", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  // No redcap_event_name: the repeat rows are looked up as "#<instance>".
  const std::string spec = dir / "flat.toml";
  std::ofstream(spec) << "study = \"rf\"\nshape = \"redcap\"\nrecord_kind = \"outcome\"\n"
                         "defines_participants = true\n[visit]\nmap = { \"#1\" = \"diary1\", \"#2\" = \"diary2\" }\n"
                         "[variables.age]\nkind = \"covariate\"\n[variables.pain]\nmin = 0\nmax = 10\n";
  const std::string file = dir / "flat.csv";
  std::ofstream(file) << "record_id,redcap_repeat_instrument,redcap_repeat_instance,age,pain,pain_diary_complete\n"
                         "1,,,50,,\n1,pain_diary,1,,3,2\n1,pain_diary,2,,5,2\n2,,,61,,\n2,pain_diary,3,,4,2\n";
  RunResult r = Cohortdb("import '" + store + "' --spec flat.toml flat.csv", dir.path().string());
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cohortdb: flat.csv:6:3: expected a visit of the visit map (#1, #2), found '#3'\n"
                 "import failed: 1 error; the store is unchanged\n");
  r = Cohortdb("import '" + store + "' --spec flat.toml flat.csv --quarantine", dir.path().string());
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ' ' || ifnull(visit, '-') || ' ' || variable || '=' || "
                        "value, '; ') FROM (SELECT * FROM record_current ORDER BY external_id, visit_order, variable)") ==
        "1 - age=50.0; 1 diary1 pain=3.0; 1 diary2 pain=5.0; 2 - age=61.0");
  CHECK(QueryOne(store, "SELECT o.metadata FROM outcome o JOIN visit v USING (visit_id) WHERE v.code = 'diary2'") ==
        "{\"redcap_repeat_instrument\":\"pain_diary\",\"redcap_repeat_instance\":\"2\"}");
}

TEST_CASE("import: REDCap repeating event rows keep their instance", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  std::ofstream(dir / "ev.toml") << "study = \"ev\"\nshape = \"redcap\"\nrecord_kind = \"outcome\"\n"
                                    "defines_participants = true\n"
                                    "[visit]\nmap = { \"fu_arm_1#1\" = \"fu1\", \"fu_arm_1#2\" = \"fu2\" }\n"
                                    "[variables.pain]\nmin = 0\nmax = 10\n";
  std::ofstream(dir / "ev.csv") << "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,pain\n"
                                   "1,fu_arm_1,,1,3\n1,fu_arm_1,,2,4\n";
  Import(store, "--spec ev.toml ev.csv", dir.path().string());
  CHECK(QueryOne(store, "SELECT group_concat(v.code || ' ' || o.metadata, '; ') FROM outcome o JOIN visit v "
                        "USING (visit_id)") ==
        "fu1 {\"redcap_repeat_instance\":\"1\"}; fu2 {\"redcap_repeat_instance\":\"2\"}");
}

TEST_CASE("import: trial summaries into meta_trial and meta_arm_summary", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/summary.toml import/summary.csv");
  CHECK(QueryOne(store, "SELECT group_concat(label || ':' || year || ':' || duration_weeks || ':' || attributes, ' ') "
                        "FROM meta_trial") ==
        "Smith 2010:2010:12.0:{\"country\":\"UK\"} Lee 2015:2015:8.0:{\"country\":\"Korea\"}");
  CHECK(QueryOne(store, "SELECT group_concat(outcome || '/' || arm || '/' || n || '/' || ifnull(mean, '-') || '/' || "
                        "ifnull(events, '-'), ' ') FROM (SELECT * FROM meta_arm_summary WHERE trial_id = 1 ORDER BY outcome, arm DESC)") ==
        "pain/treatment/30/4.1/- pain/control/31/5.2/- responder/treatment/30/-/12");
}

TEST_CASE("import-dictionary: REDCap data dictionaries become catalog variables", "[import][e2e][dictionary]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study dict import/dictionary.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "import/dictionary.csv: 10 variables created, 0 updated, 2 fields skipped (study dict)\n");
  auto var = [&](const std::string& code) {
    return QueryOne(store, "SELECT value_type || '|' || record_kind || '|' || ifnull(unit, '') || '|' || "
                           "ifnull(min_value, '') || '|' || ifnull(max_value, '') FROM variable WHERE code = '" +
                               code + "'");
  };
  CHECK(var("sex") == "categorical|covariate|||");
  CHECK(var("age") == "integer|covariate|years|18.0|100.0");
  CHECK(var("diabetes") == "boolean|covariate|||");
  CHECK(var("comorb___2") == "boolean|covariate|||");
  CHECK(var("pain_nrs") == "real|outcome|NRS|0.0|10.0");
  CHECK(var("bmi") == "real|covariate|||");
  CHECK(var("comments") == "text|covariate|||");
  CHECK(var("intro").empty());
  CHECK(QueryOne(store, "SELECT group_concat(source_code || '=' || level || ':' || variable_level.label, ' ') FROM variable_level "
                        "JOIN variable USING (variable_id) WHERE code = 'sex'") == "1=1:Female 2=2:Male");
  // Same dictionary again: nothing to do.
  r = Cohortdb("import-dictionary '" + store + "' --study dict import/dictionary.csv");
  CHECK(r.out == "import/dictionary.csv: already imported for study dict; nothing to do\n");
  // An export whose columns are all catalog variables needs no [variables].
  Import(store, "--spec import/dict_export.toml import/dict_export.csv");
  CHECK(Value(store, "dict", "1", "", "sex", "value_text") == "Female");
  CHECK(Value(store, "dict", "1", "", "comorb___3") == "1.0");
  CHECK(Value(store, "dict", "2", "", "met").empty());  // -999 is a missing code
  CHECK(Value(store, "dict", "1", "", "comments", "value_text") == "back pain, mostly mornings");
  // Legacy dictionary: "Choices OR Calculations", line-separated choices, no spaces.
  r = Cohortdb("import-dictionary '" + store + "' --study leg import/dictionary_legacy.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(source_code || ':' || variable_level.label, ' ') FROM variable_level JOIN variable v "
                        "USING (variable_id) JOIN study s ON s.study_id = v.study_id WHERE s.code = 'leg' AND v.code = 'smoker'") ==
        "0:never 1:former 2:current");
  CHECK(QueryOne(store, "SELECT group_concat(source_code || ':' || variable_level.label, ' ') FROM variable_level JOIN variable v "
                        "USING (variable_id) JOIN study s ON s.study_id = v.study_id WHERE s.code = 'leg' AND v.code = 'sex'") ==
        "1:Female 2:Male");
}

namespace {

// A REDCap data dictionary with the header of tests/data/import/dictionary.csv
// and these rows ("name,type,label,choices,validation,min,max,annotation").
std::string Dictionary(const std::vector<std::string>& fields) {
  std::string out = ReadText(kDataDir + "/import/dictionary.csv");
  out = out.substr(0, out.find('\n') + 1) + "record_id,f,,text,ID,,,,,,,,,,,,,\n";
  for (const std::string& f : fields) {
    std::vector<std::string> c;
    std::string cell;
    bool quoted = false;
    for (char ch : f + ",") {
      if (ch == '"') quoted = !quoted;
      if (ch == ',' && !quoted) {
        c.push_back(cell);
        cell.clear();
      } else {
        cell += ch;
      }
    }
    out += c[0] + ",f,," + c[1] + "," + c[2] + "," + c[3] + ",," + c[4] + "," + c[5] + "," + c[6] + ",,,,,,,," +
           c[7] + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("import-dictionary: levels / sliders and an empty dictionary", "[import][e2e][dictionary]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  // A non-integer code before integer ones takes a level no integer code uses.
  std::ofstream(dir / "d.csv") << Dictionary({"severity,dropdown,Severity,\"NA, Not applicable | 1, Mild | 2, Severe\",,,,",
                                              "vas,slider,VAS,low | high,number,,,"});
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study dd d.csv", dir.path().string());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(source_code || '=' || level, ' ') FROM (SELECT * FROM variable_level "
                        "JOIN variable USING (variable_id) WHERE code = 'severity' ORDER BY level)") == "1=1 2=2 NA=3");
  // A slider is 0-100 whether or not REDCap shows its number ("number").
  CHECK(QueryOne(store, "SELECT value_type || ' ' || min_value || ' ' || max_value FROM variable WHERE code = 'vas'") ==
        "integer 0.0 100.0");
  // A header without fields is an error and changes nothing.
  std::ofstream(dir / "empty.csv") << Dictionary({}).substr(0, Dictionary({}).find('\n') + 1);
  const std::string before = StoreHash(store);
  r = Cohortdb("import-dictionary '" + store + "' --study other empty.csv", dir.path().string());
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cohortdb: empty.csv:1: expected at least one field after the header, found none\n"
                 "import-dictionary failed: 1 error; the store is unchanged\n");
  CHECK(StoreHash(store) == before);
}

TEST_CASE("import-dictionary: a variable holding values keeps its unit / levels and range", "[import][e2e][dictionary]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const auto dictionary = [&](const std::string& sex_choices, const std::string& crp_max, const std::string& unit) {
    std::ofstream(dir / "d.csv") << Dictionary({"sex,radio,Sex,\"" + sex_choices + "\",,,,",
                                                "crp,text,CRP,,number,0," + crp_max + ",@UNIT=" + unit});
    return Cohortdb("import-dictionary '" + store + "' --study r d.csv", dir.path().string());
  };
  REQUIRE(dictionary("1, Female | 2, Male", "300", "mg/L").exit_code == 0);
  std::ofstream(dir / "r.toml") << "study = \"r\"\nshape = \"redcap\"\ndefines_participants = true\n";
  std::ofstream(dir / "x.csv") << "record_id,sex,crp\n1,1,250\n2,2,5\n";
  REQUIRE(Cohortdb("import '" + store + "' --spec r.toml x.csv", dir.path().string()).exit_code == 0);
  const std::string before = StoreHash(store);
  RunResult r = dictionary("1, Female | 2, Male", "300", "mg/dL");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("d.csv:4:18: variable 'crp' already holds values in 'mg/L', the dictionary says 'mg/dL' (values "
                   "are not converted)") != std::string::npos);
  r = dictionary("1, Male | 2, Female", "300", "mg/L");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("d.csv:3:6: variable 'sex' already holds values with code '1' = 'Female', the dictionary says "
                   "'Male'") != std::string::npos);
  r = dictionary("1, Female | 2, Male", "3", "mg/L");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("d.csv:4:10: variable 'crp' already holds values in the range 0 to 300, the dictionary narrows it "
                   "to 0 to 3") != std::string::npos);
  CHECK(StoreHash(store) == before);
  // A wider range and a new level are fine.
  r = dictionary("1, Female | 2, Male | 3, Other", "400", "mg/L");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT max_value FROM variable WHERE code = 'crp'") == "400.0");
}

TEST_CASE("import: REDCap fields named like REDCap's own columns / and missing codes in [extra] columns",
          "[import][e2e][dictionary]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  std::ofstream(dir / "d.csv") << Dictionary({"rehab_complete,yesno,Rehab completed,,,,,"});
  REQUIRE(Cohortdb("import-dictionary '" + store + "' --study ts d.csv", dir.path().string()).exit_code == 0);
  std::ofstream(dir / "ts.toml") << "study = \"ts\"\nshape = \"redcap\"\ndefines_participants = true\n";
  std::ofstream(dir / "x.csv") << "record_id,rehab_complete,baseline_complete\n1,1,2\n";
  Import(store, "--spec ts.toml x.csv", dir.path().string());
  CHECK(QueryOne(store, "SELECT group_concat(variable || '=' || value) FROM record_current") == "rehab_complete=1.0");
  // The file's missing codes are no value in [extra] columns either.
  std::ofstream(dir / "lg.toml") << "study = \"ts\"\nshape = \"long\"\nrecord_kind = \"biomarker\"\n"
                                    "missing = [\"\", \"NA\", \"-999\"]\n[participant]\nid = \"id\"\n"
                                    "[long]\nvariable = \"analyte\"\nvalue = \"value\"\n"
                                    "[extra]\nlab = \"lab\"\ncomment = \"comment\"\n[variables.crp]\n";
  std::ofstream(dir / "lg.csv") << "id,analyte,value,lab,comment\n1,crp,2.5,NA,-999\n";
  Import(store, "--spec lg.toml lg.csv", dir.path().string());
  CHECK(QueryOne(store, "SELECT ifnull(lab, 'NULL') || ' ' || ifnull(metadata, 'NULL') FROM biomarker") ==
        "NULL NULL");
}

TEST_CASE("import: re-importing the same file with the same spec does nothing", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  const std::string before = StoreHash(store);
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml import/people.csv");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "import/people.csv: already imported with this spec (batch 1, 3 rows); nothing to do\n");
  CHECK(StoreHash(store) == before);
}

TEST_CASE("import: --dry-run validates and writes nothing", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string before = StoreHash(store);
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml import/people.csv --dry-run");
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "import/people.csv: 3 rows read, 3 valid, 0 rejected; 8 values, 3 new participants (dry run: nothing written)\n");
  CHECK(StoreHash(store) == before);
  // Errors are still found.
  r = Cohortdb("import '" + store + "' --spec bad/long.toml bad/17_unknown_participant.csv --dry-run");
  CHECK(r.exit_code == 3);
  CHECK(StoreHash(store) == before);
}

TEST_CASE("import: --replace supersedes earlier values and records by which batch", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  const std::string file = dir / "people_fix.csv";
  std::ofstream(file) << "id,site,sex,age,pain,smoker,group\nP2,berlin,M,51,6,no,b\n";
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml '" + file + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("people_fix.csv:2:7: expected a new value, found participant 'P2', visit 'baseline', variable "
                   "'arm_group' already loaded by batch 1 (use --replace to supersede it)") != std::string::npos);
  r = Cohortdb("import '" + store + "' --spec import/people.toml '" + file + "' --replace");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("3 superseded (batch 2)") != std::string::npos);
  CHECK(Value(store, "lab", "P2", "baseline", "pain") == "6.0");
  CHECK(QueryOne(store, "SELECT group_concat(value || '@' || batch_id || '>' || ifnull(superseded_by, '-'), ' ') "
                        "FROM record_all WHERE external_id = 'P2' AND variable = 'pain'") ==
        "7.5@1>2 6.0@2>-");
}

TEST_CASE("import: --replace across the files of one command supersedes the earlier file", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string first = dir / "first.csv";
  const std::string second = dir / "second.csv";
  std::ofstream(first) << "id,site,sex,age,pain,smoker,group\nP1,berlin,F,34,5,yes,a\nP2,berlin,M,51,7,no,b\n";
  std::ofstream(second) << "id,site,sex,age,pain,smoker,group\nP2,berlin,M,51,6,no,b\n";
  // Without --replace the second file's value collides with the first file's.
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml '" + first + "' '" + second + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("second.csv:2:7: expected a new value, found participant 'P2', visit 'baseline', variable "
                   "'arm_group' already loaded by batch 1 (use --replace to supersede it)") != std::string::npos);
  CHECK(QueryOne(store, "SELECT count(*) FROM outcome") == "0");
  r = Cohortdb("import '" + store + "' --spec import/people.toml '" + first + "' '" + second + "' --replace");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("second.csv: 1 rows read, 1 loaded, 0 rejected; 3 values, 0 new participants, 3 superseded") !=
        std::string::npos);
  CHECK(QueryOne(store, "SELECT group_concat(value || '@' || batch_id || '>' || ifnull(superseded_by, '-'), ' ') "
                        "FROM (SELECT * FROM record_all WHERE external_id = 'P2' AND variable = 'pain' "
                        "ORDER BY batch_id)") == "7.0@1>2 6.0@2>-");
}

TEST_CASE("import: a row rejected after part of it was queued leaves none of its values", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  // 150 participants (more than one multi-row chunk of records), P100 without
  // a group; then P100 again, now with a group: arm_group (the first value
  // the row writes) is new and queued, the next one collides.
  const std::string file = dir / "many.csv";
  {
    std::ofstream out(file);
    out << "id,site,sex,age,pain,smoker,group\n";
    for (int i = 1; i <= 150; ++i) out << "P" << i << ",berlin,F,40,3,no," << (i == 100 ? "" : "a") << "\n";
    out << "P100,berlin,F,40,4,no,a\n";
  }
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml '" + file + "' --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("151 rows read, 150 loaded, 1 rejected; 449 values, 150 new participants") != std::string::npos);
  CHECK(QueryOne(store, "SELECT message FROM import_error") ==
        "expected one value per participant, visit and variable, found a second value for participant 'P100', "
        "visit 'baseline', variable 'pain' in this file");
  CHECK(QueryOne(store, "SELECT count(*) FROM record_all WHERE external_id = 'P100'") == "2");
  CHECK(QueryOne(store, "SELECT count(*) FROM record_all") == "449");
}

TEST_CASE("import: an unsorted long file larger than the sort window keeps every value", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  // 40,000 participants; then IL-6 and hs-CRP at V1 and V2 for each, 160,000
  // rows in a scattered order (more than two of the writer's sort windows),
  // and at the end a repeat of an early key, which must still be reported.
  constexpr int kPeople = 40000;
  const std::string people = dir / "people.csv";
  {
    std::ofstream out(people);
    out << "id,site,sex,age,pain,smoker,group\n";
    for (int i = 1; i <= kPeople; ++i) out << "P" << i << ",berlin,F,40,3,no,a\n";
  }
  Import(store, "--spec import/people.toml '" + people + "'");
  const std::string labs = dir / "labs.csv";
  {
    std::ofstream out(labs);
    out << "subject,visit,analyte,value,unit,lab,kit\n";
    constexpr long kRows = 4L * kPeople;
    for (long k = 0; k < kRows; ++k) {
      const long j = (k * 7919) % kRows;  // 7919 is prime to kRows: each key once
      const long i = j / 4 + 1;
      const bool crp = j % 2 == 1, week12 = (j / 2) % 2 == 1;
      out << "P" << i << "," << (week12 ? "V2" : "V1") << "," << (crp ? "hs-CRP," : "IL-6,") << (i % 283) << "."
          << (crp ? 5 : 0) << (week12 ? 5 : 0) << "," << (crp ? "mg/L" : "pg/mL") << ",central,\n";
    }
    out << "P17,V2,hs-CRP,1.0,mg/L,central,\n";
  }
  RunResult r = Cohortdb("import '" + store + "' --spec bad/long.toml '" + labs + "' --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("160001 rows read, 160000 loaded, 1 rejected; 160000 values") != std::string::npos);
  CHECK(QueryOne(store, "SELECT message FROM import_error") ==
        "expected one value per participant, visit and variable, found a second value for participant 'P17', "
        "visit 'V2', variable 'hscrp' in this file");
  CHECK(QueryOne(store, "SELECT count(*) FROM biomarker") == "160000");
  // Every value is the one its row carried.
  CHECK(QueryOne(store, "SELECT count(*) FROM record_current WHERE variable IN ('il6', 'hscrp') AND abs(value - "
                        "(CAST(substr(external_id, 2) AS INTEGER) % 283 + (variable = 'hscrp') * 0.5 + "
                        "(visit = 'week12') * 0.05)) < 1e-9") == "160000");
  CHECK(QueryOne(store, "SELECT count(DISTINCT participant_id || '/' || variable_id || '/' || visit_id) FROM "
                        "biomarker") == "160000");
  CHECK(QueryOne(store, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("import: record ids follow participant / variable and visit in a file smaller than the sort window",
          "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  const std::string file = dir / "reversed.csv";
  std::ofstream(file) << "subject,visit,analyte,value,unit,lab,kit\nP3,V2,IL-6,1,pg/mL,,\nP2,V1,IL-6,2,pg/mL,,\n"
                         "P1,V2,IL-6,3,pg/mL,,\nP1,V1,hs-CRP,4,mg/L,,\nP1,V1,IL-6,5,pg/mL,,\n";
  Import(store, "--spec import/labs.toml '" + file + "'");
  const std::string by_id =
      QueryOne(store, "SELECT group_concat(value, ' ') FROM (SELECT value FROM biomarker ORDER BY record_id)");
  CHECK(by_id == QueryOne(store, "SELECT group_concat(value, ' ') FROM (SELECT value FROM biomarker "
                                 "ORDER BY participant_id, variable_id, visit_id)"));
  CHECK(by_id != "1.0 2.0 3.0 4.0 5.0");  // not the line order
}

TEST_CASE("import: a later row of the same file completes a new participant's attributes", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  // The participant is created (and queued) by the baseline row; the week 12
  // row brings the age the baseline row left empty.
  const std::string file = dir / "events.csv";
  std::ofstream(file) << "record_id,redcap_event_name,arm,sex,age,pain_nrs,sf36_pcs,sf36_mcs,baseline_complete,"
                         "followup_complete\n"
                         "1001,baseline_arm_1,1,1,,6,40.0,45.0,2,\n"
                         "1001,week_12_arm_1,,,47,3,44.0,46.0,,2\n";
  const std::string root = COHORTDB_SOURCE_DIR;
  RunResult r = Cohortdb("import '" + store + "' --spec examples/trial/trial.toml '" + file + "'", root);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT external_id || ' ' || arm || ' ' || sex || ' ' || age_years FROM participant") ==
        "1001 exercise female 47.0");
}

TEST_CASE("import: a rejected row of a --replace --quarantine import supersedes nothing", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  // Row 2 replaces P2's pain and smoker. Row 3 repeats P2's pain in this
  // file, so it is rejected: its group, site and age must not replace
  // anything, although group alone would be a valid replacement.
  const std::string file = dir / "fix.csv";
  std::ofstream(file) << "id,site,sex,age,pain,smoker,group\nP2,berlin,M,51,6,no,\nP2,munich,M,52,5,,a\n";
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml '" + file + "' --replace --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("2 rows read, 1 loaded, 1 rejected; 2 values, 0 new participants, 2 superseded") !=
        std::string::npos);
  CHECK(QueryOne(store, "SELECT line || ':' || column_index || ' ' || message FROM import_error") ==
        "3:5 expected one value per participant, visit and variable, found a second value for participant 'P2', "
        "visit 'baseline', variable 'pain' in this file");
  CHECK(QueryOne(store, "SELECT group_concat(value_text || '@' || batch_id || '>' || ifnull(superseded_by, '-'), ' ') "
                        "FROM record_all WHERE external_id = 'P2' AND variable = 'arm_group'") == "placebo@1>-");
  CHECK(Value(store, "lab", "P2", "baseline", "pain") == "6.0");
  CHECK(QueryOne(store, "SELECT s.code || ' ' || p.age_years FROM participant p JOIN site s USING (site_id) "
                        "WHERE external_id = 'P2'") == "berlin 51.0");
}

TEST_CASE("import: a quarantined row creates no site or visit and changes no participant", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  // A long file whose visits are created as they come: row 3 is rejected
  // (a bad number) at a visit and site nobody else uses; row 4 repeats row
  // 2's key with new attributes for P1.
  const std::string spec = dir / "visits.toml";
  std::ofstream(spec) << "study = \"lab\"\nshape = \"long\"\nrecord_kind = \"outcome\"\n"
                         "[participant]\nid = \"id\"\nsite = \"site\"\nage = \"age\"\n"
                         "[visit]\ncolumn = \"visit\"\n[long]\nvariable = \"test\"\nvalue = \"result\"\n"
                         "[variables.pain]\nmin = 0\nmax = 10\n";
  const std::string file = dir / "visits.csv";
  std::ofstream(file) << "id,site,age,visit,test,result\nP1,berlin,34,week4,pain,3\nP3,hamburg,47,week99,pain,abc\n"
                         "P1,munich,35,week4,pain,2\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "' --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out.find("3 rows read, 1 loaded, 2 rejected; 1 values") != std::string::npos);
  CHECK(QueryOne(store, "SELECT group_concat(code, ' ') FROM (SELECT code FROM visit ORDER BY visit_order)") ==
        "baseline week12 week4");
  CHECK(QueryOne(store, "SELECT group_concat(code, ' ') FROM (SELECT code FROM site ORDER BY code)") == "berlin munich");
  CHECK(QueryOne(store, "SELECT s.code || ' ' || p.age_years FROM participant p JOIN site s USING (site_id) "
                        "WHERE external_id = 'P1'") == "berlin 34.0");
  // The next visit created takes the order the rejected one had left free.
  const std::string more = dir / "more.csv";
  std::ofstream(more) << "id,site,age,visit,test,result\nP3,munich,47,week8,pain,1\n";
  Import(store, "--spec '" + spec + "' '" + more + "'");
  CHECK(QueryOne(store, "SELECT visit_order FROM visit WHERE code = 'week8'") == "4");
}

TEST_CASE("import: two cells of one row for the same variable are a row error", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "cb.toml";
  std::ofstream(spec) << "study = \"cb\"\nshape = \"redcap\"\nrecord_kind = \"covariate\"\n"
                         "defines_participants = true\n[checkboxes.comorb]\n\"1\" = \"diabetes\"\n"
                         "\"2\" = \"diabetes\"\n";
  const std::string file = dir / "cb.csv";
  std::ofstream(file) << "record_id,comorb___1,comorb___2\nC1,0,1\nC2,,1\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("cb.csv:2:3: expected one value per participant, visit and variable, found a second value for "
                   "participant 'C1', no visit, variable 'diabetes' in this row") != std::string::npos);
  r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "' --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(QueryOne(store, "SELECT group_concat(external_id || '=' || value, ' ') FROM record_current") == "C2=1.0");
}

TEST_CASE("import: checkbox codes as the dictionary writes them match REDCap's column names", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "race.toml";
  // REDCap exports the choices -99 and NA as race____99 and race___na.
  std::ofstream(spec) << "study = \"cb\"\nshape = \"redcap\"\nrecord_kind = \"covariate\"\n"
                         "defines_participants = true\n[checkboxes.race]\n\"1\" = \"race_white\"\n"
                         "\"-99\" = \"race_unknown\"\n\"NA\" = \"race_na\"\n";
  const std::string file = dir / "race.csv";
  std::ofstream(file) << "record_id,race___1,race____99,race___na,demographics_complete\nR1,1,0,0,2\nR2,0,1,0,2\n"
                         "R3,0,0,1,0\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ' ' || variable, '; ') FROM (SELECT * FROM record_current "
                        "WHERE value = 1 ORDER BY external_id)") == "R1 race_white; R2 race_unknown; R3 race_na");
}

TEST_CASE("import: --quarantine loads good rows and keeps rejected ones in import_error", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  RunResult r = Cohortdb("import '" + store + "' --spec bad/long.toml bad/36_max_errors.csv bad/ok_long.csv --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  CHECK(r.out ==
        "bad/36_max_errors.csv: 3 rows read, 0 loaded, 3 rejected; 0 values, 0 new participants (batch 2)\n"
        "bad/ok_long.csv: 1 rows read, 1 loaded, 0 rejected; 1 values, 0 new participants (batch 3)\n");
  CHECK(QueryOne(store, "SELECT status || ' ' || rows_rejected FROM import_batch WHERE batch_id = 2") == "quarantined 3");
  CHECK(QueryOne(store, "SELECT line || ':' || column_index || ' ' || message || ' | ' || raw_row FROM import_error "
                        "ORDER BY line LIMIT 1") ==
        "2:4 expected a number (or <limit, >limit) for variable 'il6', found 'a' | P2,V2,IL-6,a,pg/mL,central,");
  CHECK(Value(store, "lab", "P2", "week12", "il6") == "2.0");
  RunResult info = Cohortdb("info '" + store + "'");
  CHECK(info.out.find("quarantined") != std::string::npos);
}

TEST_CASE("import: several files in one command load all or nothing", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Import(store, "--spec import/people.toml import/people.csv");
  const std::string before = StoreHash(store);
  RunResult r = Cohortdb("import '" + store + "' --spec bad/long.toml bad/ok_long.csv bad/13_unknown_unit.csv");
  CHECK(r.exit_code == 3);
  CHECK(StoreHash(store) == before);  // ok_long.csv was valid but is not kept
}

TEST_CASE("import: unreadable files are reported with the other errors / row errors in column order", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  std::ofstream(dir / "bad.csv") << "id,site,sex,age,pain,smoker,group\nP9,berlin,F,40,abc,no,z\n";
  std::filesystem::create_directory(dir / "adir");
  const std::string spec = kDataDir + "/import/people.toml";
  const std::string before = StoreHash(store);
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' bad.csv nothere.csv adir", dir.path().string());
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: bad.csv:2:5: column 'pain': expected a number (or <limit, >limit) for variable 'pain', found 'abc'\n"
        "bad.csv:2:7: column 'group': expected one of the codes a, b of variable 'arm_group', found 'z'\n"
        "nothere.csv: cannot open file for reading: No such file or directory\n"
        "adir: cannot open file for reading: it is a directory\n"
        "import failed: 4 errors; the store is unchanged\n");
  r = Cohortdb("import '" + store + "' --spec adir bad.csv", dir.path().string());
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cohortdb: adir: cannot open the spec file: it is a directory\n");
  // The row that reaches the limit is reported whole.
  r = Cohortdb("import '" + store + "' --spec '" + spec + "' bad.csv --max-errors 1", dir.path().string());
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: bad.csv:2:5: column 'pain': expected a number (or <limit, >limit) for variable 'pain', found 'abc'\n"
        "bad.csv:2:7: column 'group': expected one of the codes a, b of variable 'arm_group', found 'z'\n"
        "import failed: stopped after 2 errors (--max-errors 1); the store is unchanged\n");
  for (const char* limit : {"0", "-1"}) {
    r = Cohortdb("import '" + store + "' --spec '" + spec + "' bad.csv --max-errors " + limit, dir.path().string());
    CHECK(r.exit_code == 2);
    CHECK(r.err == "cohortdb: import: --max-errors must be at least 1\n");
  }
  CHECK(StoreHash(store) == before);
}

TEST_CASE("import: the demo exports load with the committed specs", "[import][e2e][examples]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string root = COHORTDB_SOURCE_DIR;
  Import(store, "--spec examples/trial/trial.toml examples/trial/trial_redcap.csv", root);
  Import(store, "--spec examples/trial/trial_labs.toml examples/trial/trial_labs.csv", root);
  Import(store, "--spec examples/meta/trials_summary.toml examples/meta/trials_summary.csv", root);
  CHECK(QueryOne(store, "SELECT group_concat(arm || '=' || n, ' ') FROM (SELECT arm, count(*) AS n FROM participant "
                        "GROUP BY arm ORDER BY arm)") == "control=20 exercise=21");
  CHECK(QueryOne(store, "SELECT count(*) FROM record_current WHERE study = 'trial' AND variable IN ('il6', 'hscrp', "
                        "'tnf_alpha')") == "246");
  CHECK(QueryOne(store, "SELECT count(*) FROM biomarker WHERE source_unit = 'mg/dL'") != "0");
  CHECK(QueryOne(store, "SELECT count(*) FROM biomarker WHERE censoring = 'left'") != "0");
  CHECK(QueryOne(store, "SELECT count(DISTINCT label) FROM meta_trial") == "20");
}

TEST_CASE("import: the cohort demo (30 / 000 participants / unsorted imaging file)", "[import][e2e][examples][.slow]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string root = COHORTDB_SOURCE_DIR;
  Import(store, "--spec examples/cohort/cohort.toml examples/cohort/cohort_redcap.csv", root);
  Import(store, "--spec examples/cohort/cohort_imaging.toml examples/cohort/cohort_imaging.csv", root);
  CHECK(QueryOne(store, "SELECT count(*) FROM site") == "18");
  CHECK(QueryOne(store, "SELECT count(*) FROM participant") == "30000");
}

TEST_CASE("import-dictionary: the example dictionaries describe the example exports", "[import][e2e][examples][dictionary]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string root = COHORTDB_SOURCE_DIR;
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study trial --design trial examples/trial/trial_dictionary.csv", root);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "examples/trial/trial_dictionary.csv: 6 variables created, 0 updated, 1 field skipped (study trial)\n");
  const std::string spec = dir / "trial_by_dictionary.toml";
  std::ofstream(spec) << "study = \"trial\"\nshape = \"redcap\"\ndefines_participants = true\n[participant]\narm = \"arm\"\n"
                         "[visit]\nmap = { baseline_arm_1 = \"baseline\", week_12_arm_1 = \"week12\" }\n";
  Import(store, "--spec '" + spec + "' examples/trial/trial_redcap.csv", root);
  CHECK(QueryOne(store, "SELECT count(*) FROM outcome") == "246");  // pain, PCS, MCS at two visits
  CHECK(Value(store, "trial", "1001", "baseline", "arm", "value_text") == "Exercise + education");
  r = Cohortdb("import-dictionary '" + store + "' --study cohort examples/cohort/cohort_dictionary.csv", root);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(code, ' ') FROM variable WHERE code LIKE 'comorb%'") ==
        "comorb___1 comorb___2 comorb___3 comorb___4");
}

TEST_CASE("import: a quarantined import's rejected rows load once corrected / as IMPORT.md shows",
          "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string file = dir / "people.csv";
  std::ofstream(file) << "id,site,sex,age,pain,smoker,group\n"
                         "P1,berlin,F,40,3,no,a\n"
                         "P2,\"berlin, mitte\",F,41,11,no,a\n"  // pain above 10; a quoted site
                         "P3,berlin,X,42,12,no,a\n";           // unknown sex code, pain above 10
  RunResult r = Cohortdb("import '" + store + "' --spec import/people.toml '" + file + "' --quarantine");
  INFO(r.err);
  REQUIRE(r.exit_code == 7);  // loaded, with rejected rows kept
  // info counts rejected rows (2), not their errors (3).
  const auto info = nlohmann::json::parse(Cohortdb("info '" + store + "' --format json").out);
  CHECK(info["quarantined_rows"][0]["rejected_rows"] == 2);
  CHECK(info["quarantined_rows"][0]["errors"] == 3);
  // IMPORT.md's commands: the header, then each rejected row as it was.
  const std::string fixes = dir / "fixes.csv";
  r = Cohortdb("sql '" + store + "' \"SELECT raw_row FROM import_error WHERE batch_id = 1 GROUP BY line ORDER BY "
               "line\" --format list");
  REQUIRE(r.exit_code == 0);
  REQUIRE("id,site,sex,age,pain,smoker,group\n" + r.out == "id,site,sex,age,pain,smoker,group\n"
                        "P2,\"berlin, mitte\",F,41,11,no,a\n"
                        "P3,berlin,X,42,12,no,a\n");
  std::ofstream(fixes) << "id,site,sex,age,pain,smoker,group\n"
                          "P2,\"berlin, mitte\",F,41,10,no,a\n"
                          "P3,berlin,M,42,2,no,a\n";
  r = Cohortdb("import '" + store + "' --spec import/people.toml '" + fixes + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ' ' || sex, '; ') FROM "
                        "(SELECT * FROM participant ORDER BY external_id)") == "P1 female; P2 female; P3 male");
}

TEST_CASE("import: REDCap labels exports / visit codes that start with a digit / legacy dictionary units",
          "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "rc.toml";
  std::ofstream(spec) << "study = \"rc\"\nshape = \"redcap\"\nrecord_kind = \"covariate\"\n"
                         "defines_participants = true\n[variables.score]\n";
  // A "CSV (labels)" export: one error saying so, not one per column.
  const std::string labels = dir / "labels.csv";
  std::ofstream(labels) << "Record ID,Event Name,Score,Complete?\n1,Baseline (Arm 1: A),3,Complete\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + labels + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err == "cohortdb: " + labels + ":1: expected a REDCap raw-data export, found a labels export (its header "
                 "has 'Record ID' / 'Event Name'): export the data again as 'CSV / Microsoft Excel (raw data)'\n"
                 "import failed: 1 error; the store is unchanged\n");
  // REDCap derives event names from labels: "12 month follow-up" gives
  // 12_month_followup_arm_1, which needs a [visit] map entry.
  const std::string events = dir / "events.csv";
  std::ofstream(events) << "record_id,redcap_event_name,score\n1,12_month_followup_arm_1,3\n";
  r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + events + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find(events + ":2:2: expected a visit code (a-z first, then a-z, 0-9 and _; at most 32 characters) or a "
                   "[visit] map entry, found '12_month_followup_arm_1'") != std::string::npos);
  // A legacy dictionary's Field Units column gives the unit.
  const std::string dictionary = dir / "legacy.csv";
  std::ofstream(dictionary)
      << "Variable / Field Name,Form Name,Field Units,Section Header,Field Type,Field Label,\"Choices, Calculations, OR "
         "Slider Labels\",Field Note,Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation "
         "Max,Identifier?,Branching Logic (Show field only if...),Required Field?\n"
         "record_id,labs,,,text,Record ID,,,,,,,,\nhb,labs,g/dL,,text,Haemoglobin,,,float,5,20,,,\n";
  r = Cohortdb("import-dictionary '" + store + "' --study lab '" + dictionary + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == dictionary + ": 1 variable created, 0 updated, 1 field skipped (study lab)\n");
  CHECK(QueryOne(store, "SELECT unit || ' ' || min_value || '..' || max_value FROM variable WHERE code = 'hb'") ==
        "g/dL 5.0..20.0");
}

TEST_CASE("import-dictionary: a new choice moves no held code's level", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string header =
      "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,\"Choices, Calculations, OR Slider "
      "Labels\",Field Note,Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,"
      "Identifier?,Branching Logic (Show field only if...),Required Field?,Custom Alignment,Question Number (surveys "
      "only),Matrix Group Name,Matrix Ranking?,Field Annotation\nrecord_id,f,,text,Record ID,,,,,,,,,,,,,\n";
  const std::string first = dir / "d1.csv", second = dir / "d2.csv";
  std::ofstream(first) << header << "resp,f,,radio,Response,\"-1, Refused | 0, No | 1, Yes | NA, N/A\",,,,,,,,,,,,\n";
  std::ofstream(second) << header
                        << "resp,f,,radio,Response,\"-1, Refused | 0, No | 1, Yes | NA, N/A | 2, Maybe\",,,,,,,,,,,,\n";
  const std::string spec = dir / "e.toml";
  std::ofstream(spec) << "study = \"lv\"\nshape = \"redcap\"\nrecord_kind = \"covariate\"\ndefines_participants = true\n";
  const std::string data = dir / "e.csv", more = dir / "e2.csv";
  std::ofstream(data) << "record_id,resp\n1,NA\n2,1\n";
  std::ofstream(more) << "record_id,resp\n3,2\n";
  REQUIRE(Cohortdb("import-dictionary '" + store + "' --study lv '" + first + "'").exit_code == 0);
  Import(store, "--spec '" + spec + "' '" + data + "'");
  // NA (level 2) holds a value; the new integer code 2 cannot take level 2.
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study lv '" + second + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Import(store, "--spec '" + spec + "' '" + more + "'");
  CHECK(QueryOne(store, "SELECT group_concat(level || '=' || source_code, ' ') FROM (SELECT * FROM variable_level "
                        "ORDER BY level)") == "-1=-1 0=0 1=1 2=NA 3=2");
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ' ' || value_text, '; ') FROM (SELECT * FROM "
                        "record_current ORDER BY external_id)") == "1 N/A; 2 Yes; 3 Maybe");
}

TEST_CASE("import: decimal = \",\" reads REDCap's comma-decimal numbers", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "dc.toml";
  std::ofstream(spec) << "study = \"dc\"\nshape = \"redcap\"\nrecord_kind = \"biomarker\"\ndecimal = \",\"\n"
                         "defines_participants = true\n[variables.crp]\nunit = \"mg/L\"\nmin = 0\nmax = 300\n";
  const std::string file = dir / "dc.csv";
  std::ofstream(file) << "record_id,crp\n1,\"2,5\"\n2,\"<0,15\"\n3,12\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ' ' || ifnull(value, censoring || ' ' || detection_limit) "
                        "|| ' ' || source_value, '; ') FROM (SELECT * FROM record_current ORDER BY external_id)") ==
        "1 2.5 2,5; 2 left 0.15 <0,15; 3 12.0 12");
  const std::string bad = dir / "bad.toml";
  std::ofstream(bad) << "study = \"dc\"\nshape = \"redcap\"\nrecord_kind = \"biomarker\"\ndecimal = \";\"\n";
  r = Cohortdb("import '" + store + "' --spec '" + bad + "' '" + file + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("decimal: expected \".\" or \",\", found ';'") != std::string::npos);
}

TEST_CASE("import: a repeat row without a visit map entry says how to map it", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec = dir / "rep.toml";
  std::ofstream(spec) << "study = \"rep\"\nshape = \"redcap\"\nrecord_kind = \"covariate\"\n"
                         "defines_participants = true\n[variables.dose]\n";
  const std::string file = dir / "rep.csv";
  std::ofstream(file) << "record_id,redcap_repeat_instrument,redcap_repeat_instance,dose\n1,,,\n1,meds,1,20\n";
  RunResult r = Cohortdb("import '" + store + "' --spec '" + spec + "' '" + file + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find(file + ":3:3: expected a [visit] map entry for the repeat rows, found the key '#1' (a repeating "
                   "instrument or event row is keyed '<event>#<instance>', or '#<instance>' in a flat export: map it, "
                   "e.g. \"#1\" = \"visit1\")") != std::string::npos);
}

TEST_CASE("import-dictionary: file and sql fields become text variables an export can fill", "[import][e2e]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string dictionary = dir / "d.csv";
  std::ofstream(dictionary)
      << "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,\"Choices, Calculations, OR Slider "
         "Labels\",Field Note,Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,"
         "Identifier?,Branching Logic (Show field only if...),Required Field?,Custom Alignment,Question Number (surveys "
         "only),Matrix Group Name,Matrix Ranking?,Field Annotation\n"
         "record_id,f,,text,Record ID,,,,,,,,,,,,,\nconsent_form,f,,file,Signed consent,,,,,,,,,,,,,\n"
         "clinic,f,,sql,Clinic,\"select id, name from clinics\",,,,,,,,,,,,\nnote,f,,descriptive,Read this,,,,,,,,,,,,,\n";
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study fs '" + dictionary + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == dictionary + ": 2 variables created, 0 updated, 2 fields skipped (study fs)\n");
  const std::string spec = dir / "e.toml";
  std::ofstream(spec) << "study = \"fs\"\nshape = \"redcap\"\nrecord_kind = \"covariate\"\ndefines_participants = true\n";
  const std::string file = dir / "e.csv";
  std::ofstream(file) << "record_id,consent_form,clinic,f_complete\n1,[document],7,2\n";
  Import(store, "--spec '" + spec + "' '" + file + "'");
  CHECK(QueryOne(store, "SELECT group_concat(variable || '=' || value_text, ' ') FROM (SELECT * FROM record_current "
                        "ORDER BY variable)") == "clinic=7 consent_form=[document]");
}

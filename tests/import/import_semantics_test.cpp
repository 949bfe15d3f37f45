// Issue 13 through the built binary: REDCap longitudinal exports store
// nothing for a form not collected at an event (checkbox zeros included);
// date variables are validated and stored as ISO text with a day number;
// a spec declares the unit conversions it needs, each batch records the
// conversions it used, and a missing one is reported once with its count.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "test_support.h"

using namespace cohortdb::test;

namespace {

void Write(const ScratchDir& dir, const std::string& name, const std::string& text) {
  std::ofstream out(dir / name, std::ios::binary);
  out << text;
}

// A new store "s.cohortdb" in "dir"; commands run with "dir" as working directory.
std::string NewStore(const ScratchDir& dir) {
  RunResult r = Cohortdb("init s.cohortdb", dir.path().string());
  REQUIRE(r.exit_code == 0);
  return dir / "s.cohortdb";
}

RunResult Run(const ScratchDir& dir, const std::string& args) { return Cohortdb(args, dir.path().string()); }

// Every current record as "participant/visit/variable=value" lines, ordered.
std::string Records(const std::string& store) {
  return QueryOne(store,
                  "SELECT group_concat(r, ' ') FROM (SELECT external_id || '/' || ifnull(visit, '-') || '/' || variable || "
                  "'=' || ifnull(value_text, value) AS r FROM record_current ORDER BY external_id, visit_order, variable)");
}

const char* kLongitudinalSpec = R"(study = "lg"
shape = "redcap"
defines_participants = true

[visit]
map = { baseline_arm_1 = "baseline", m6_arm_1 = "m6", m12_arm_1 = "m12" }

[variables.pain]
kind = "outcome"
min = 0
max = 10

[checkboxes.comorb]
"1" = "diabetes"
"2" = "osteoporosis"
)";

// As REDCap exports it: the comorbidities form is designated for baseline
// only, yet its checkboxes export 0 on every event row.
const char* kLongitudinalExport =
    "record_id,redcap_event_name,comorb___1,comorb___2,comorbidities_complete,pain,followup_complete\n"
    "1,baseline_arm_1,1,0,2,,\n"
    "1,m6_arm_1,0,0,,4,2\n"
    "1,m12_arm_1,0,0,,3,2\n"
    "2,baseline_arm_1,0,0,2,,\n"
    "2,m6_arm_1,0,0,,5,2\n";

}  // namespace

TEST_CASE("import: checkbox zeros of a REDCap form not saved at an event store nothing", "[import][redcap][forms]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Write(dir, "lg.toml", kLongitudinalSpec);
  Write(dir, "lg.csv", kLongitudinalExport);
  RunResult r = Run(dir, "import s.cohortdb --spec lg.toml lg.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // Before: 1/m6/diabetes=0.0 and 1/m12/diabetes=0.0 ("not diabetic at 6 months").
  CHECK(Records(store) ==
        "1/baseline/diabetes=1.0 1/baseline/osteoporosis=0.0 1/m6/pain=4.0 1/m12/pain=3.0 "
        "2/baseline/diabetes=0.0 2/baseline/osteoporosis=0.0 2/m6/pain=5.0");
  // A blank status with a ticked box: the form was entered, its zeros are data.
  Write(dir, "late.csv",
        "record_id,redcap_event_name,comorb___1,comorb___2,comorbidities_complete,pain,followup_complete\n"
        "3,m6_arm_1,0,1,,2,\n");
  r = Run(dir, "import s.cohortdb --spec lg.toml late.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(variable || '=' || value, ' ') FROM (SELECT * FROM record_current "
                        "WHERE external_id = '3' ORDER BY variable)") == "diabetes=0.0 osteoporosis=1.0 pain=2.0");
}

TEST_CASE("import: REDCap's instrument-event mapping says which forms an event collects", "[import][redcap][forms]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Write(dir, "designations.csv",
        "arm_num,unique_event_name,form\n"
        "1,baseline_arm_1,comorbidities\n"
        "1,m6_arm_1,followup\n"
        "1,m12_arm_1,followup\n");
  Write(dir, "lg.toml", std::string(kLongitudinalSpec) + "\n[redcap]\ninstrument_events = \"designations.csv\"\n");
  // The status columns say nothing here (a report without them behaves so too).
  Write(dir, "lg.csv",
        "record_id,redcap_event_name,comorb___1,comorb___2,comorbidities_complete,pain,followup_complete\n"
        "1,baseline_arm_1,1,0,2,,\n"
        "1,m6_arm_1,0,0,2,4,2\n"
        "1,m12_arm_1,0,0,2,3,2\n");
  RunResult r = Run(dir, "import s.cohortdb --spec lg.toml lg.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Records(store) == "1/baseline/diabetes=1.0 1/baseline/osteoporosis=0.0 1/m6/pain=4.0 1/m12/pain=3.0");

  // A value of a form the event does not collect, and an event the mapping
  // does not list, are errors; the store is unchanged.
  const std::string before = StoreHash(store);
  Write(dir, "bad.csv",
        "record_id,redcap_event_name,comorb___1,comorb___2,comorbidities_complete,pain,followup_complete\n"
        "2,baseline_arm_1,0,1,2,,\n"
        "2,m6_arm_1,1,0,,4,2\n"
        "2,m12_arm_1,0,0,,7,2\n");
  Write(dir, "lg2.toml", std::string(kLongitudinalSpec) +
                             "\n[redcap]\nevents = { baseline_arm_1 = [\"comorbidities\"], m6_arm_1 = [\"followup\"] }\n");
  r = Run(dir, "import s.cohortdb --spec lg.toml bad.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: bad.csv:3:3: column 'comorb___1': expected no value, as form 'comorbidities' is not collected at event "
        "'m6_arm_1' ([redcap] instrument_events), found '1'\n"
        "import failed: 1 error; the store is unchanged\n");
  r = Run(dir, "import s.cohortdb --spec lg2.toml bad.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: bad.csv:3:3: column 'comorb___1': expected no value, as form 'comorbidities' is not collected at event "
        "'m6_arm_1' ([redcap] events), found '1'\n"
        "bad.csv:4:2: expected an event of [redcap] events (baseline_arm_1, m6_arm_1), found 'm12_arm_1'\n"
        "import failed: 2 errors; the store is unchanged\n");
  CHECK(StoreHash(store) == before);
}

TEST_CASE("import: [redcap] forms assign columns to forms when the export has no status columns",
          "[import][redcap][forms]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Write(dir, "lg.toml", std::string(kLongitudinalSpec) +
                            "\n[redcap]\n"
                            "events = { baseline_arm_1 = [\"comorbidities\", \"followup\"], m6_arm_1 = [\"followup\"] }\n"
                            "forms = { comorbidities = [\"comorb\"], followup = [\"pain\"] }\n");
  Write(dir, "lg.csv",
        "record_id,redcap_event_name,pain,comorb___1,comorb___2\n"
        "1,baseline_arm_1,6,0,1\n"
        "1,m6_arm_1,4,0,0\n");
  RunResult r = Run(dir, "import s.cohortdb --spec lg.toml lg.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Records(store) == "1/baseline/diabetes=0.0 1/baseline/osteoporosis=1.0 1/baseline/pain=6.0 1/m6/pain=4.0");
}

TEST_CASE("import: [redcap] keys are checked", "[import][redcap][forms]") {
  ScratchDir dir;
  NewStore(dir);
  Write(dir, "lg.csv", kLongitudinalExport);
  const auto fails = [&](const std::string& extra, const std::string& files = "") {
    Write(dir, "x.toml", std::string(kLongitudinalSpec) + extra);
    for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{{"m.csv", files}}) {
      if (!text.empty()) Write(dir, name, text);
    }
    RunResult r = Run(dir, "import s.cohortdb --spec x.toml lg.csv");
    CHECK(r.exit_code == 3);
    return r.err;
  };
  CHECK(fails("\n[redcap]\nevents = {}\ninstrument_events = \"m.csv\"\n") ==
        "cohortdb: x.toml:18:10: redcap: expected either instrument_events (the mapping file) or events, found both\n");
  CHECK(fails("\n[redcap]\ninstrument_events = \"m.csv\"\n", "arm_num,unique_event_name,instrument\n1,a,b\n") ==
        "cohortdb: m.csv:1: expected REDCap's instrument-event mapping with the columns unique_event_name and form "
        "(arm_num, unique_event_name, form), found no form column\n");
  CHECK(fails("\n[redcap]\ninstrument_events = \"m.csv\"\n", "unique_event_name,form\nbaseline_arm_1,\n") ==
        "cohortdb: m.csv:2:2: expected a form name, found an empty field\n");
  CHECK(fails("\n[redcap]\ninstrument_events = \"nosuch.csv\"\n") ==
        "cohortdb: x.toml:18:21: redcap.instrument_events: expected REDCap's instrument-event mapping (a CSV file; a "
        "relative path is read from the spec's folder), found no file 'nosuch.csv'\n");
  CHECK(fails("\n[redcap]\nforms = { a = [\"pain\"], b = [\"pain\"] }\n") ==
        "cohortdb: x.toml:18:29: redcap.forms.b: expected each field in one form, found 'pain' also in form 'a'\n");
  Write(dir, "w.toml", "study = \"w\"\nshape = \"wide\"\n[participant]\nid = \"id\"\n[redcap]\nevents = {}\n");
  RunResult r = Run(dir, "import s.cohortdb --spec w.toml lg.csv");
  CHECK(r.err == "cohortdb: w.toml:5:1: [redcap]: expected only with shape = \"redcap\", found shape = \"wide\"\n");
  // Columns whose form is unknown cannot be matched against events.
  Write(dir, "noforms.csv", "record_id,redcap_event_name,comorb___1,comorb___2,pain\n1,baseline_arm_1,0,0,3\n");
  Write(dir, "ev.toml", std::string(kLongitudinalSpec) + "\n[redcap]\nevents = { baseline_arm_1 = [\"comorbidities\"] }\n");
  r = Run(dir, "import s.cohortdb --spec ev.toml noforms.csv");
  CHECK(r.err ==
        "cohortdb: noforms.csv:1: expected <form>_complete columns (or [redcap] forms in the spec) to tell which form "
        "each column belongs to, as [redcap] events needs, found none\nimport failed: 1 error; the store is unchanged\n");
  // A flat export cannot be matched against events.
  Write(dir, "flat.csv", "record_id,comorb___1,comorb___2,comorbidities_complete,pain\n1,0,0,2,3\n");
  Write(dir, "flat.toml", "study = \"lg\"\nshape = \"redcap\"\ndefines_participants = true\n"
                          "[checkboxes.comorb]\n\"1\" = \"diabetes\"\n\"2\" = \"osteoporosis\"\n"
                          "[variables.pain]\n[redcap]\nevents = { baseline_arm_1 = [\"comorbidities\"] }\n");
  r = Run(dir, "import s.cohortdb --spec flat.toml flat.csv");
  CHECK(r.err ==
        "cohortdb: flat.csv:1: expected the event column 'redcap_event_name' that [redcap] events refers to, found no "
        "such column in the header\nimport failed: 1 error; the store is unchanged\n");
}

TEST_CASE("import: dates are checked calendar dates / stored as ISO text with R's day number", "[import][dates]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Write(dir, "dt.toml",
        "study = \"dt\"\nshape = \"wide\"\ndefines_participants = true\n"
        "[participant]\nid = \"id\"\n"
        "[variables.visit_date]\ntype = \"date\"\nmin = 2000-01-01\n"
        "[variables.birth]\ntype = \"date\"\ndate_format = \"dmy\"\n"
        "[variables.seen_at]\ntype = \"datetime\"\n");
  Write(dir, "bad.csv",
        "id,visit_date,birth,seen_at\n"
        "P1,2023-02-30,28/02/1960,2023-03-01 14:30\n"
        "P2,2023/03/01,1960-02-28,2023-03-01 25:00\n"
        "P3,1999-12-31,31.01.1960,2023-03-01\n");
  const std::string before = StoreHash(store);
  RunResult r = Run(dir, "import s.cohortdb --spec dt.toml bad.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: bad.csv:2:2: column 'visit_date': expected a valid calendar date for variable 'visit_date', found "
        "'2023-02-30' (February 2023 has 28 days)\n"
        "bad.csv:3:3: column 'birth': expected a date DD-MM-YYYY for variable 'birth', found '1960-02-28'\n"
        "bad.csv:3:4: column 'seen_at': expected a valid calendar datetime for variable 'seen_at', found "
        "'2023-03-01 25:00' (there is no hour 25)\n"
        "bad.csv:4:2: column 'visit_date': expected a date on or after 2000-01-01 for variable 'visit_date', found "
        "'1999-12-31'\n"
        "bad.csv:4:3: column 'birth': expected a date DD-MM-YYYY for variable 'birth', found '31.01.1960'\n"
        "bad.csv:4:4: column 'seen_at': expected a datetime YYYY-MM-DD HH:MM[:SS] for variable 'seen_at', found "
        "'2023-03-01'\n"
        "import failed: 6 errors; the store is unchanged\n");
  CHECK(StoreHash(store) == before);

  Write(dir, "ok.csv",
        "id,visit_date,birth,seen_at\n"
        "P1,2023-03-01,28/02/1960,2023-03-01 14:30\n"
        "P2,2024-2-29,1-3-1960,1969-12-31 12:00:00\n");
  r = Run(dir, "import s.cohortdb --spec dt.toml ok.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Run(dir, "sql s.cohortdb \"SELECT value_type FROM variable WHERE code = 'birth'\" --format list").out == "date\n");
  // value: days since 1970-01-01 (tests/reference/common_dates.R); value_text: ISO 8601.
  CHECK(QueryOne(store, "SELECT group_concat(external_id || ':' || variable || ':' || value || ':' || value_text || ':' "
                        "|| source_value, ' ') FROM (SELECT * FROM record_current ORDER BY external_id, variable)") ==
        "P1:birth:-3595.0:1960-02-28:28/02/1960 P1:seen_at:19417.6041666667:2023-03-01 14:30:2023-03-01 14:30 "
        "P1:visit_date:19417.0:2023-03-01:2023-03-01 "
        "P2:birth:-3593.0:1960-03-01:1-3-1960 P2:seen_at:-0.5:1969-12-31 12:00:00:1969-12-31 12:00:00 "
        "P2:visit_date:19782.0:2024-02-29:2024-2-29");
  // The pivot shows dates as ISO text; intervals are differences of value.
  CHECK(QueryOne(store, "SELECT group_concat(visit_date, ' ') FROM wide_dt") == "2023-03-01 2024-02-29");
  r = Run(dir, "describe s.cohortdb --study dt --derive \"age_days=days(visit_date, birth)\" --vars age_days "
               "--no-record --format csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // R: as.numeric(as.Date(c("2023-03-01", "2024-02-29")) - as.Date(c("1960-02-28", "1960-03-01"))): 23012 23375
  CHECK(r.out.find("table1,,age_days,age_days,23193.5,") != std::string::npos);  // term, label (a days() variable is its name)
}

TEST_CASE("import-dictionary: REDCap date validations make date variables", "[import][dates][dictionary]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Write(dir, "dict.csv",
        "Variable / Field Name,Form Name,Field Type,Field Label,Text Validation Type OR Show Slider Number,"
        "Text Validation Min,Text Validation Max\n"
        "record_id,visit,text,Record ID,,,\n"
        "visit_date,visit,text,Visit date,date_ymd,2015-01-01,\n"
        "dob,visit,text,Birth date,date_dmy,,\n"
        "drawn_at,visit,text,Blood drawn,datetime_seconds_mdy,,\n");
  RunResult r = Run(dir, "import-dictionary s.cohortdb --study dd dict.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(code || ':' || value_type || ':' || ifnull(min_value, '-'), ' ') FROM "
                        "(SELECT * FROM variable ORDER BY variable_id)") ==
        "visit_date:date:16436.0 dob:date:- drawn_at:datetime:-");
  // Before issue 13 a date field was text and took '2023-02-30'.
  Write(dir, "export.csv", "record_id,visit_date,dob,drawn_at\n1,2023-02-30,1960-02-28,2023-03-01 08:15:00\n");
  Write(dir, "export.toml", "study = \"dd\"\nshape = \"redcap\"\ndefines_participants = true\n");
  r = Run(dir, "import s.cohortdb --spec export.toml export.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: export.csv:2:2: column 'visit_date': expected a valid calendar date for variable 'visit_date', "
        "found '2023-02-30' (February 2023 has 28 days)\n"
        "import failed: 1 error; the store is unchanged\n");
}

TEST_CASE("import: [units] declares conversions / checked and recorded with the batch", "[import][units]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  const std::string spec =
      "study = \"un\"\nshape = \"long\"\nrecord_kind = \"biomarker\"\ndefines_participants = true\n"
      "[participant]\nid = \"subject\"\n"
      "[long]\nvariable = \"analyte\"\nvalue = \"value\"\nunit = \"unit\"\n"
      "[variables.crp]\nunit = \"mg/L\"\n[variables.glucose]\nunit = \"mg/dL\"\n[variables.temp]\nunit = \"degF\"\n";
  Write(dir, "labs.csv",
        "subject,analyte,value,unit\n"
        "A1,crp,1.2,mg/dL\n"
        "A2,crp,<0.5,nmol/L\n"
        "A3,crp,0.7,nmol/L\n"
        "A4,glucose,5.5,mmol/L\n"
        "A5,glucose,90,mg/dL\n"
        "A6,temp,37,degC\n");
  // Without [units]: one error per variable and unit, with the rows it affects.
  Write(dir, "plain.toml", spec);
  RunResult r = Run(dir, "import s.cohortdb --spec plain.toml labs.csv --max-errors 2");
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "cohortdb: labs.csv:3:3: expected a unit convertible to 'mg/L' for variable 'crp', found unit 'nmol/L' in 2 rows "
        "(lines 3 to 4) (no conversion in unit_conversion or the spec's [units], e.g. \"nmol/L -> mg/L\" = FACTOR)\n"
        "labs.csv:5:3: expected a unit convertible to 'mg/dL' for variable 'glucose', found unit 'mmol/L' (no conversion "
        "in unit_conversion or the spec's [units], e.g. \"mmol/L -> mg/dL\" = FACTOR)\n"
        "import failed: stopped after 2 errors (--max-errors 2); the store is unchanged\n");

  Write(dir, "units.toml", spec +
                               "[units]\n"
                               "\"nmol/L -> mg/L\" = 0.1\n"
                               "\"mmol/L -> mg/dL\" = { factor = 18.016, variable = \"glucose\" }\n"
                               "\"degC -> degF\" = { factor = 1.8, offset = 32 }\n"
                               "\"mg/dL -> mg/L\" = 10\n");
  r = Run(dir, "import s.cohortdb --spec units.toml labs.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(external_id || '=' || ifnull(value, 'NULL') || '/' || "
                        "ifnull(detection_limit, '-'), ' ') FROM (SELECT * FROM record_current ORDER BY external_id)") ==
        "A1=12.0/- A2=NULL/0.05 A3=0.07/- A4=99.088/- A5=90.0/- A6=98.6/-");
  // Provenance: each conversion the batch applied, where it came from and how often.
  CHECK(QueryOne(store, "SELECT group_concat(x, ' ') FROM (SELECT v.code || ':' || c.from_unit || '->' || c.to_unit || "
                        "':' || c.factor || '+' || c.offset || ':' || c.origin || ':' || c.values_converted AS x FROM "
                        "import_batch_conversion c JOIN variable v USING (variable_id) ORDER BY v.code, c.from_unit)") ==
        "crp:mg/dL->mg/L:10.0+0.0:spec:1 crp:nmol/L->mg/L:0.1+0.0:spec:2 "
        "glucose:mmol/L->mg/dL:18.016+0.0:spec:1 temp:degC->degF:1.8+32.0:spec:1");
}

TEST_CASE("import: [units] entries are checked", "[import][units]") {
  ScratchDir dir;
  NewStore(dir);
  Write(dir, "labs.csv", "subject,analyte,value,unit\nA1,crp,1.2,mg/dL\n");
  const auto fails = [&](const std::string& units) {
    Write(dir, "x.toml",
          "study = \"un\"\nshape = \"long\"\ndefines_participants = true\n[participant]\nid = \"subject\"\n"
          "[long]\nvariable = \"analyte\"\nvalue = \"value\"\nunit = \"unit\"\n[variables.crp]\nunit = \"mg/L\"\n"
          "[units]\n" +
              units);
    RunResult r = Run(dir, "import s.cohortdb --spec x.toml labs.csv");
    CHECK(r.exit_code == 3);
    return r.err;
  };
  CHECK(fails("\"mg/dL -> mg/L\" = 100\n") ==
        "cohortdb: x.toml:13:19: units.\"mg/dL -> mg/L\": expected the conversion the store holds in unit_conversion "
        "(factor 10, offset 0) or none, found factor 100, offset 0\n");
  CHECK(fails("\"mg/dL -> mg/L\" = 0\n") == "cohortdb: x.toml:13:19: units.\"mg/dL -> mg/L\": expected a factor > 0, found 0\n");
  CHECK(fails("\"a -> b\" = -2.5\n") == "cohortdb: x.toml:13:12: units.\"a -> b\": expected a factor > 0, found -2.5\n");
  CHECK(fails("\"a -> b\" = inf\n") == "cohortdb: x.toml:13:12: units.\"a -> b\": expected a finite factor, found inf\n");
  CHECK(fails("\"a -> b\" = { factor = 2, offset = nan }\n") ==
        "cohortdb: x.toml:13:35: units.\"a -> b\": expected a finite offset, found nan\n");
  CHECK(fails("\"a -> b\" = { offset = 2 }\n") ==
        "cohortdb: x.toml:13:12: units.\"a -> b\": expected factor = NUMBER (and optionally offset, variable)\n");
  CHECK(fails("\"a to b\" = 2\n") ==
        "cohortdb: x.toml:13:12: units.\"a to b\": expected a key \"FROM -> TO\" such as \"mg/dL -> mg/L\"\n");
  CHECK(fails("\"a -> a\" = 2\n") ==
        "cohortdb: x.toml:13:12: units.\"a -> a\": expected two different units, found the same twice\n");
  CHECK(fails("\"a -> b\" = \"2\"\n") ==
        "cohortdb: x.toml:13:12: units.\"a -> b\": expected factor (a number, or a table { factor = F, offset = O }), "
        "found a string\n");
  CHECK(fails("\"a->b\" = 2\n\"a -> b\" = 2\n") ==
        "cohortdb: x.toml:13:10: units.\"a->b\": expected each conversion once, found a -> b again\n");
  CHECK(fails("\"a -> b\" = { factor = 2, variable = \"crpp\" }\n") ==
        "cohortdb: x.toml:13:12: units.\"a -> b\": expected a variable of study 'un' (in the spec or the catalog), found "
        "variable = 'crpp'\n");
  CHECK(fails("\"a -> b\" = { factor = 2, unit = \"x\" }\n") ==
        "cohortdb: x.toml:13:33: unknown key 'unit' in [units.\"a -> b\"]: expected one of factor, offset, variable\n");
}

// Participant attributes are loaded only for a spec that can carry them,
// and kept only once known: a participant stored without any gets them from
// a later file, which then checks its further rows against them.
TEST_CASE("import: attributes of a participant stored without any are added and then checked", "[import][participants]") {
  ScratchDir dir;
  const std::string store = NewStore(dir);
  Write(dir, "ids.toml",
        "study = \"at\"\nshape = \"long\"\ndefines_participants = true\nrecord_kind = \"outcome\"\n"
        "[participant]\nid = \"id\"\n[long]\nvariable = \"variable\"\nvalue = \"value\"\n[variables.pain]\n");
  Write(dir, "ids.csv", "id,variable,value\nP1,pain,3\nP2,pain,5\n");
  REQUIRE(Run(dir, "import s.cohortdb --spec ids.toml ids.csv").exit_code == 0);
  CHECK(QueryOne(store, "SELECT count(*) FROM participant WHERE sex IS NOT NULL") == "0");

  Write(dir, "sex.toml",
        "study = \"at\"\nshape = \"wide\"\nrecord_kind = \"outcome\"\nmissing = [\"\"]\n"
        "[participant]\nid = \"id\"\nsex = \"sex\"\nsex_codes = { F = \"female\", M = \"male\" }\n"
        "[visit]\ncolumn = \"visit\"\n[variables.score]\n");
  // P1 is female in its first row and male in its second: the second row is
  // checked against what the first one added.
  Write(dir, "conflict.csv", "id,visit,sex,score\nP1,v1,F,1\nP1,v2,M,2\n");
  const std::string before = QueryOne(store, "SELECT group_concat(ifnull(sex, '-')) FROM participant");
  const RunResult conflict = Run(dir, "import s.cohortdb --spec sex.toml conflict.csv");
  CHECK(conflict.exit_code == 3);
  CHECK(conflict.err.find("conflict.csv:3:3: expected sex 'female' for participant 'P1' as loaded before, found "
                          "'male'") != std::string::npos);
  CHECK(QueryOne(store, "SELECT group_concat(ifnull(sex, '-')) FROM participant") == before);

  Write(dir, "sex.csv", "id,visit,sex,score\nP1,v1,F,1\nP2,v1,,4\n");
  REQUIRE(Run(dir, "import s.cohortdb --spec sex.toml sex.csv").exit_code == 0);
  CHECK(QueryOne(store, "SELECT group_concat(external_id || '=' || ifnull(sex, '-'), ' ') FROM "
                        "(SELECT * FROM participant ORDER BY external_id)") == "P1=female P2=-");
  // A later command loads the stored sex and refuses a different one.
  Write(dir, "later.csv", "id,visit,sex,score\nP1,v3,M,2\n");
  const RunResult later = Run(dir, "import s.cohortdb --spec sex.toml later.csv");
  CHECK(later.exit_code == 3);
  CHECK(later.err.find("expected sex 'female' for participant 'P1' as loaded before, found 'male'") !=
        std::string::npos);
}

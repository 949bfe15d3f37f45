// The malformed-input corpus (tests/data/bad/): every case fails with exit
// code 3 and exactly the message below, and leaves the store's content hash
// (sqlite3 .sha3sum) unchanged. The base store holds import/people.csv and
// import/labs.csv, so duplicates against the store can be tested.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "test_support.h"

using namespace cohortdb::test;

namespace {

struct BadCase {
  const char* args;     // after `cohortdb import STORE`
  const char* message;  // the exact standard error
};

const BadCase kCases[] = {
    {"--spec bad/long.toml bad/01_ragged_short.csv",
     R"msg(cohortdb: bad/01_ragged_short.csv:2:7: expected 7 fields as in the header, found 6
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/02_ragged_long.csv",
     R"msg(cohortdb: bad/02_ragged_long.csv:2:8: expected 7 fields as in the header, found 8
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/03_unterminated_quote.csv",
     R"msg(cohortdb: bad/03_unterminated_quote.csv:2: unterminated quoted field: expected a closing quote before the end of the file
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/04_stray_quote.csv",
     R"msg(cohortdb: bad/04_stray_quote.csv:2: malformed quoting: expected quotes only around a whole field (a quote inside a quoted field written as ""), found a stray quote
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/05_bad_utf8.csv",
     R"msg(cohortdb: bad/05_bad_utf8.csv:2:6: expected UTF-8 text, found the invalid byte 0xE9 at byte 6 of the field
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/06_utf16_bom.csv",
     R"msg(cohortdb: bad/06_utf16_bom.csv:1: expected UTF-8 text, found a UTF-16 byte order mark (save the file as UTF-8)
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/07_empty_file.csv",
     R"msg(cohortdb: bad/07_empty_file.csv:1: expected a header line, found an empty file
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/08_header_only.csv",
     R"msg(cohortdb: bad/08_header_only.csv:1: expected at least one data row after the header, found none
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/09_bom_inside.csv",
     R"msg(cohortdb: bad/09_bom_inside.csv:3:1: expected text without a byte order mark inside the file (were two files concatenated?), found U+FEFF
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/10_unknown_column.csv",
     R"msg(cohortdb: bad/10_unknown_column.csv:1:8: unknown column 'comment': expected a column named in the spec (a variable, [participant], [visit], [extra] or ignore) or a catalog variable of study 'lab'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/11_missing_column.csv",
     R"msg(cohortdb: bad/11_missing_column.csv:1: expected the column 'unit' (unit) named in the spec, found no such column in the header
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/wide.toml bad/12_unknown_code.csv",
     R"msg(cohortdb: bad/12_unknown_code.csv:2:6: column 'group': expected one of the codes a, b of variable 'arm_group', found 'c'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/13_unknown_unit.csv",
     R"msg(cohortdb: bad/13_unknown_unit.csv:2:4: expected a unit convertible to 'mg/L' for variable 'hscrp', found unit 'mmol/L' (no conversion in unit_conversion or the spec's [units], e.g. "mmol/L -> mg/L" = FACTOR)
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/wide.toml bad/14_out_of_range.csv",
     R"msg(cohortdb: bad/14_out_of_range.csv:2:4: column 'pain': expected a value between 0 and 10 NRS for variable 'pain', found '11'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/15_duplicate_in_file.csv",
     R"msg(cohortdb: bad/15_duplicate_in_file.csv:3:3: expected one value per participant, visit and variable, found a second value for participant 'P2', visit 'V2', variable 'il6' in this file
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/16_duplicate_in_store.csv",
     R"msg(cohortdb: bad/16_duplicate_in_store.csv:2:3: expected a new value, found participant 'P1', visit 'V1', variable 'il6' already loaded by batch 2 (use --replace to supersede it)
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/17_unknown_participant.csv",
     R"msg(cohortdb: bad/17_unknown_participant.csv:2:1: expected a participant of study 'lab', found unknown participant 'P9' (import the file that defines participants first, or set defines_participants = true)
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/18_not_a_number.csv",
     R"msg(cohortdb: bad/18_not_a_number.csv:2:4: expected a number (or <limit, >limit) for variable 'il6', found '2,0'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/19_empty_participant.csv",
     R"msg(cohortdb: bad/19_empty_participant.csv:2:1: expected a participant id in column 'subject', found an empty field
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/20_unknown_visit.csv",
     R"msg(cohortdb: bad/20_unknown_visit.csv:2:2: expected a visit of the visit map (V1, V2), found 'V3'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/21_unknown_variable.csv",
     R"msg(cohortdb: bad/21_unknown_variable.csv:2:3: expected a variable named in the spec (IL-6, WBC, hs-CRP), found 'IL-8'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/22_integer_fraction.csv",
     R"msg(cohortdb: bad/22_integer_fraction.csv:2:4: expected a whole number for integer variable 'wbc', found '6200.5'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/wide.toml bad/23_bad_boolean.csv",
     R"msg(cohortdb: bad/23_bad_boolean.csv:2:5: column 'smoker': expected 0 or 1 (or yes/no) for boolean variable 'smoker', found 'maybe'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/24_broken_toml.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/24_broken_toml.toml:2:14: invalid TOML: Error while parsing string: unescaped control characters other than TAB (U+0009) are explicitly prohibited
)msg"},
    {"--spec bad/25_unknown_key.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/25_unknown_key.toml:4:10: unknown key 'colour' in the spec: expected one of study, design, title, shape, record_kind, delimiter, decimal, missing, defines_participants, participant, visit, visits, long, extra, ignore, variables, checkboxes, trial_summary, units, redcap
)msg"},
    {"--spec bad/26_missing_study.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/26_missing_study.toml: missing key 'study': expected the study code, e.g. study = "nako"
)msg"},
    {"--spec bad/27_bad_shape.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/27_bad_shape.toml:2:9: shape: expected redcap, wide, long or trial_summary, found 'diagonal'
)msg"},
    {"--spec bad/28_bad_type.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/28_bad_type.toml:9:8: variables.il6.type: expected real, integer, boolean, categorical, text, date or datetime, found 'float'
)msg"},
    {"--spec bad/29_min_above_max.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/29_min_above_max.toml:9:7: variables.il6: expected min <= max, found min 10 > max 1
)msg"},
    {"--spec bad/long.toml bad/30_duplicate_header.csv",
     R"msg(cohortdb: bad/30_duplicate_header.csv:1:5: expected unique column names, found 'value' twice
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/wide.toml bad/31_sex_conflict.csv",
     R"msg(cohortdb: bad/31_sex_conflict.csv:2:3: expected sex 'female' for participant 'P1' as loaded before, found 'male' (use --replace to overwrite)
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/summary.toml bad/32_bad_arm.csv",
     R"msg(cohortdb: bad/32_bad_arm.csv:2:6: expected the arm treatment or control (or a code of [trial_summary] arm_codes), found 'exercise'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/summary.toml bad/33_negative_sd.csv",
     R"msg(cohortdb: bad/33_negative_sd.csv:2:9: expected a standard deviation (a number >= 0), found '-1.9'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/34_bad_censored.csv",
     R"msg(cohortdb: bad/34_bad_censored.csv:2:4: expected a number (or <limit, >limit) for variable 'il6', found '<abc'
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/35_line_after_multiline.csv",
     R"msg(cohortdb: bad/35_line_after_multiline.csv:2:4: expected a number (or <limit, >limit) for variable 'il6', found '2.0\nP2'
bad/35_line_after_multiline.csv:4:4: expected a number (or <limit, >limit) for variable 'il6', found 'x'
import failed: 2 errors; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/36_max_errors.csv --max-errors 2",
     R"msg(cohortdb: bad/36_max_errors.csv:2:4: expected a number (or <limit, >limit) for variable 'il6', found 'a'
bad/36_max_errors.csv:3:4: expected a number (or <limit, >limit) for variable 'il6', found 'b'
import failed: stopped after 2 errors (--max-errors 2); the store is unchanged
)msg"},
    {"--spec bad/37_long_without_columns.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/37_long_without_columns.toml: a long file needs [long] variable and value: the columns holding the variable name and the value
)msg"},
    {"--spec bad/38_bad_study_code.toml bad/ok_long.csv",
     R"msg(cohortdb: bad/38_bad_study_code.toml:1:9: study: expected a code of a-z, 0-9 and _ starting with a letter, found 'Lab Study'
)msg"},
    {"--spec bad/wide.toml bad/39_duplicate_row_wide.csv",
     R"msg(cohortdb: bad/39_duplicate_row_wide.csv:3:6: expected one value per participant, visit and variable, found a second value for participant 'P1', visit 'V2', variable 'arm_group' in this file
import failed: 1 error; the store is unchanged
)msg"},
    {"--spec bad/long.toml bad/40_negative_value.csv",
     R"msg(cohortdb: bad/40_negative_value.csv:2:4: expected a value between 0 and 1000 pg/mL for variable 'il6', found '-1'
import failed: 1 error; the store is unchanged
)msg"},
};

}  // namespace

TEST_CASE("import: each malformed input fails with its message and leaves the store unchanged", "[import][bad]") {
  ScratchDir dir;
  const std::string base = dir / "base.cohortdb";
  REQUIRE(Cohortdb("init '" + base + "'").exit_code == 0);
  REQUIRE(Cohortdb("import '" + base + "' --spec import/people.toml import/people.csv").exit_code == 0);
  REQUIRE(Cohortdb("import '" + base + "' --spec import/labs.toml import/labs.csv").exit_code == 0);
  const std::string base_hash = StoreHash(base);
  REQUIRE(base_hash.size() > 40);
  STATIC_REQUIRE(sizeof(kCases) / sizeof(kCases[0]) >= 30);
  for (const BadCase& c : kCases) {
    const std::string store = dir / "case.cohortdb";
    std::filesystem::copy_file(base, store, std::filesystem::copy_options::overwrite_existing);
    RunResult r = Cohortdb("import '" + store + "' " + c.args);
    INFO(c.args);
    CHECK(r.exit_code == 3);
    CHECK(r.err == c.message);
    CHECK(r.out.empty());
    CHECK(StoreHash(store) == base_hash);
  }
}

TEST_CASE("import-dictionary: malformed dictionaries fail and leave the store unchanged", "[import][bad][dictionary]") {
  ScratchDir dir;
  const std::string store = dir / "s.cohortdb";
  REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
  const std::string before = StoreHash(store);
  RunResult r = Cohortdb("import-dictionary '" + store + "' --study d bad/dictionary_bad.csv");
  CHECK(r.exit_code == 3);
  CHECK(r.err == R"msg(cohortdb: bad/dictionary_bad.csv:3:6: expected choices as "code, label | code, label", found '1 Female'
bad/dictionary_bad.csv:4:9: expected a numeric validation limit, found 'ten'
bad/dictionary_bad.csv:5:4: expected a REDCap field type (text, notes, dropdown, radio, checkbox, yesno, truefalse, calc, slider, descriptive, file, sql), found 'smiley'
bad/dictionary_bad.csv:6:5: expected 10 fields as in the header, found 4
import-dictionary failed: 4 errors; the store is unchanged
)msg");
  CHECK(StoreHash(store) == before);
}

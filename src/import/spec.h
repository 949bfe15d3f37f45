#pragma once
// ImportSpec: the declarative mapping of one export's columns onto the store,
// read from a TOML file (format documented in docs/IMPORT.md). A spec names the
// study, the file shape (redcap, wide, long, trial_summary), which columns hold
// the participant, site, visit, variable, value and unit, the variables with
// their code maps, missing codes and units, and the visit map.
//
// ParseSpec validates everything that can be checked without the data file
// and throws InputError "SPEC:LINE:COLUMN: ..." (or "SPEC: ...") otherwise.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cohortdb {

enum class FileShape { kRedcap, kWide, kLong, kTrialSummary };

const char* FileShapeName(FileShape shape);

// One source code of a code map: the code as delivered, and what it means
// (a label for categorical variables, 0/1 for boolean ones).
struct CodeMapping {
  std::string source;
  std::string label;
  std::optional<long long> level;  // explicit level (integer value in the TOML)
};

struct VariableSpec {
  std::string code;                       // catalog code
  std::string column;                     // wide/redcap: source column (default: code)
  std::vector<std::string> names;         // long: values of the variable column meaning this variable
  std::optional<std::string> record_kind; // biomarker | mri_metric | outcome | covariate
  std::optional<std::string> value_type;  // real | integer | boolean | categorical | text | date | datetime
  std::optional<std::string> date_format; // date/datetime: ymd (default) | mdy | dmy
  std::optional<std::string> unit;        // canonical unit when the variable is created
  std::string source_unit;                // unit of delivered values when no unit column says it
  std::optional<double> min_value, max_value;
  std::optional<std::string> label;
  std::vector<std::string> missing;       // missing codes for this column (beside the global ones)
  std::vector<CodeMapping> codes;
};

// One conversion of [units]: value_to = value_from * factor + offset, for
// every variable (variable empty) or one variable.
struct UnitSpec {
  std::string from_unit, to_unit, variable;
  double factor = 1, offset = 0;
  std::string where;  // "SPEC:LINE:COLUMN" of the entry, for messages
};

struct VisitSpec {
  std::string code;
  std::string label;
  std::optional<long long> order;
  std::optional<long long> day;
};

// Columns of a trial-summary file (one row per trial, outcome and arm).
struct TrialSummarySpec {
  std::string trial = "trial";
  std::string year;
  std::string duration_weeks;
  std::string outcome = "outcome";
  std::string arm = "arm";
  std::string n = "n";
  std::string mean = "mean";
  std::string sd = "sd";
  std::string events;
  std::map<std::string, std::string> arm_codes;  // source -> treatment | control
  std::vector<std::string> attributes;           // extra columns kept as JSON attributes
};

struct ImportSpec {
  std::string name;     // file name of the spec, for messages
  std::string sha256;   // digest of the spec text
  std::string study;
  std::string design = "cohort";
  std::string title;
  FileShape shape = FileShape::kWide;
  std::string record_kind = "covariate";  // default for variables without one
  char delimiter = ',';
  // decimal = ",": numbers written with a decimal comma (REDCap's
  // number_*_comma_decimal validations export them so).
  char decimal = '.';
  std::vector<std::string> missing = {""};  // global missing codes
  bool defines_participants = false;

  // [participant]
  std::string participant_column;
  std::string site_column;
  std::string sex_column, age_column, birth_year_column, arm_column;
  std::map<std::string, std::string> sex_codes, arm_codes;

  // [visit]
  std::string visit_column;
  std::string fixed_visit;
  std::map<std::string, std::string> visit_map;  // source code -> visit code
  std::vector<VisitSpec> visits;

  // [long]
  std::string variable_column, value_column, unit_column;

  // [extra]: column -> field (assay, lab, model_name, model_version,
  // instrument) or any other name, which goes into the metadata JSON.
  std::map<std::string, std::string> extra;
  std::vector<std::string> ignore;

  std::vector<VariableSpec> variables;
  // [checkboxes.<field>]: code -> variable code, for REDCap columns field___code.
  std::map<std::string, std::map<std::string, std::string>> checkboxes;

  TrialSummarySpec trial_summary;

  // [units]: conversions this import may use beside the unit_conversion table.
  std::vector<UnitSpec> units;

  // [redcap]: which instruments (forms) are collected at which events, and
  // which columns belong to which form. event_forms comes from events = {...}
  // or from the instrument-event mapping file (instrument_events), read when
  // the spec is parsed; its digest is part of sha256.
  std::string instrument_events;                              // the mapping file as resolved
  std::map<std::string, std::vector<std::string>> event_forms;  // unique_event_name -> forms
  std::map<std::string, std::string> field_forms;               // field (or checkbox field) -> form
};

// Parses the spec file at "path". Throws InputError on any problem.
ImportSpec ParseSpecFile(const std::string& path);

// Parses spec text ("name" is used in messages).
ImportSpec ParseSpec(const std::string& text, const std::string& name);

}  // namespace cohortdb

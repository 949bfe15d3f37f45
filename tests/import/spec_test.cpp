// ImportSpec parsing: the committed example specs parse to what they say,
// and spec errors point at the line and column of the offending key.
#include <catch2/catch.hpp>

#include "common/error.h"
#include "import/spec.h"
#include "test_support.h"

using namespace cohortdb;

TEST_CASE("spec: the example specs parse", "[import][spec]") {
  const std::string root = COHORTDB_SOURCE_DIR;
  ImportSpec trial = ParseSpecFile(root + "/examples/trial/trial.toml");
  CHECK(trial.study == "trial");
  CHECK(trial.shape == FileShape::kRedcap);
  CHECK(trial.defines_participants);
  CHECK(trial.visit_map.at("week_12_arm_1") == "week12");
  CHECK(trial.arm_codes.at("1") == "exercise");
  CHECK(trial.visits.size() == 2);
  CHECK(trial.sha256.size() == 64);

  ImportSpec labs = ParseSpecFile(root + "/examples/trial/trial_labs.toml");
  CHECK(labs.shape == FileShape::kLong);
  CHECK(labs.variable_column == "analyte");
  CHECK(labs.extra.at("lab") == "lab");

  ImportSpec cohort = ParseSpecFile(root + "/examples/cohort/cohort.toml");
  CHECK(cohort.checkboxes.at("comorb").at("4") == "osteoarthritis");
  ImportSpec meta = ParseSpecFile(root + "/examples/meta/trials_summary.toml");
  CHECK(meta.shape == FileShape::kTrialSummary);
  CHECK(meta.trial_summary.arm_codes.at("exercise") == "treatment");
}

TEST_CASE("spec: TSV delimiter / missing codes and code maps", "[import][spec]") {
  ImportSpec s = ParseSpec(R"(
study = "s1"
shape = "wide"
delimiter = "tab"
missing = ["", "-999"]
[participant]
id = "pid"
[variables.sex]
codes = { "1" = "female", "2" = "male" }
[variables.flag]
type = "boolean"
codes = { y = 1, n = 0 }
)",
                           "inline.toml");
  CHECK(s.delimiter == '\t');
  CHECK(s.missing == std::vector<std::string>{"", "-999"});
  REQUIRE(s.variables.size() == 2);
  CHECK(s.variables[0].code == "flag");
  CHECK(s.variables[0].codes[0].level == 0);  // n = 0 (tables iterate in key order)
  CHECK(s.variables[1].codes[1].label == "male");
}

TEST_CASE("spec: errors name the key and its position", "[import][spec]") {
  CHECK_THROWS_WITH(ParseSpec("study = \"s\"\nshape = \"wide\"\n[participant]\nid = 3\n", "x.toml"),
                    "x.toml:4:6: participant.id: expected a string, found an integer");
  CHECK_THROWS_WITH(ParseSpec("study = \"s\"\nshape = \"wide\"\n[participant]\nid = \"p\"\n[variables.v]\nkind = \"lab\"\n",
                              "x.toml"),
                    "x.toml:6:8: variables.v.kind: expected biomarker, mri_metric, outcome or covariate, found 'lab'");
  CHECK_THROWS_WITH(ParseSpec("study = \"s\"\nshape = \"wide\"\n", "x.toml"),
                    "x.toml: missing [participant] id: expected the column holding the participant id");
}

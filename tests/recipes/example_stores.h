#pragma once
// Stores built through the cohortdb binary from the example exports under
// examples/, for the tests of the reports. For tests only.

#include <catch2/catch.hpp>

#include <string>

#include "support/run_binary.h"
#include "support/temp_dir.h"

namespace cohortdb::test {

// An example file's path, quoted for the shell.
inline std::string Example(const std::string& path) {
  return Quote(std::string(COHORTDB_SOURCE_DIR) + "/examples/" + path);
}

// A store with the example trial (41 participants, two visits, lab values);
// "store" is quoted for the shell.
inline void TrialStore(const TempDir& dir, const std::string& store) {
  REQUIRE(Cohortdb(dir, "init " + store).exit_code == 0);
  REQUIRE(Cohortdb(dir, "import " + store + " --spec " + Example("trial/trial.toml") + " " +
                            Example("trial/trial_redcap.csv"))
              .exit_code == 0);
  REQUIRE(Cohortdb(dir, "import " + store + " --spec " + Example("trial/trial_labs.toml") + " " +
                            Example("trial/trial_labs.csv"))
              .exit_code == 0);
}

// The example meta-analysis's trial summaries (study exercise_meta) added to "store".
inline void AddMetaTrials(const TempDir& dir, const std::string& store) {
  REQUIRE(Cohortdb(dir, "import " + store + " --spec " + Example("meta/trials_summary.toml") + " " +
                            Example("meta/trials_summary.csv"))
              .exit_code == 0);
}

}  // namespace cohortdb::test

#include "cli/commands.h"

namespace cohortdb::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"init", "Create a new store (a single SQLite file) with the current schema",
       "cohortdb init study.cohortdb", SetupInit},
      {"migrate", "Upgrade a store written by an older cohortdb to the current schema",
       "cohortdb migrate study.cohortdb", SetupMigrate},
      {"info", "Show a store's schema version, row counts, studies, variables and recent imports",
       "cohortdb info demo-output/demo.cohortdb", SetupInfo},
      {"codebook", "Print the variable catalog as a data dictionary: labels, types, units, levels, ranges, counts",
       "cohortdb codebook demo-output/demo.cohortdb --study trial --format markdown", SetupCodebook},
      {"sql", "Run SQL against a store (read-only unless --write)",
       "cohortdb sql demo-output/demo.cohortdb "
       "\"SELECT study, count(*) FROM record_current GROUP BY 1\" --format box",
       SetupSql},
      {"import", "Load study exports (REDCap, long, wide, trial summaries) described by a TOML spec, all or nothing",
       "cohortdb import study.cohortdb --spec examples/trial/trial.toml examples/trial/trial_redcap.csv", SetupImport},
      {"import-dictionary", "Turn a REDCap data dictionary into catalog variables of a study",
       "cohortdb import-dictionary study.cohortdb --study cohort examples/cohort/cohort_dictionary.csv",
       SetupImportDictionary},
      AnalysisCommand("describe"), AnalysisCommand("correlate"), AnalysisCommand("compare"),
      AnalysisCommand("regress"), AnalysisCommand("logistic"), AnalysisCommand("prevalence"),
      AnalysisCommand("mediate"), AnalysisCommand("meta"), AnalysisCommand("lmm"), AnalysisCommand("glm"),
      {"results", "List recorded analysis runs, show one, write an HTML --report of some, or --diff two runs",
       "cohortdb results demo-output/demo.cohortdb --diff 12 13", SetupResults},
      {"recipe", "Stored, versioned analysis recipes: add | list | show | run | rm",
       "cohortdb recipe run demo-output/demo.cohortdb trial --out demo-output/trial", SetupRecipe},
  };
  return kCommands;
}

}  // namespace cohortdb::cli

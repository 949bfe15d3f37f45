#pragma once
// Small stores for the analysis tests, built with the real migrator
// (Store::Create(":memory:")) from the CSV files under tests/data/analysis/
// that tests/reference/analysis_reference.R reads too:
//   trial  (study "trial": 40 participants, visits baseline/week12, il6 with
//           three values "<0.15" stored as left-censored, crp, pain_nrs, pcs)
//   cohort (study "cohort": 400 participants at 6 sites, participant-level
//           covariates, MRI metrics and outcomes, some missing)
//   meta   (study "meta": 12 trials, outcomes pain (means) and responder (events))

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "analysis/analysis.h"
#include "store/store.h"

namespace cohortdb::testing {

inline std::vector<std::vector<std::string>> ReadCsv(const std::string& name) {
  std::ifstream in(std::string(COHORTDB_TEST_DATA_DIR) + "/analysis/" + name);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::stringstream ss(line);
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

inline std::string Quote(const std::string& s) { return "'" + s + "'"; }

inline void AddBatch(Store& store) {
  store.Exec(fmt::format(
      "INSERT INTO import_batch (batch_id, file_name, file_sha256, spec_sha256, started_at, tool_version) "
      "VALUES (1, 'test.csv', '{0}', '{0}', '2026-01-01T00:00:00Z', 'test')",
      std::string(64, 'a')));
}

// A record value: "" is no record, "<x" a left-censored one.
inline void AddRecord(Store& store, const char* table, int participant, const char* visit_sql, int variable,
                      const std::string& value) {
  if (value.empty()) return;
  if (value[0] == '<') {
    store.Exec(
        fmt::format("INSERT INTO {} (participant_id, visit_id, variable_id, value, source_value, censoring, "
                    "detection_limit, "
                    "batch_id) VALUES ({}, {}, {}, NULL, '{}', 'left', {}, 1)",
                    table, participant, visit_sql, variable, value, value.substr(1)));
    return;
  }
  store.Exec(
      fmt::format("INSERT INTO {} (participant_id, visit_id, variable_id, value, source_value, batch_id) "
                  "VALUES ({}, {}, {}, {}, '{}', 1)",
                  table, participant, visit_sql, variable, value, value));
}

inline Store TrialStore(const std::string& path = ":memory:") {
  Store store = Store::Create(path);
  AddBatch(store);
  store.Exec(
      "INSERT INTO study (study_id, code, design) VALUES (1, 'trial', 'trial');"
      "INSERT INTO visit (visit_id, study_id, code, visit_order) VALUES (1, 1, 'baseline', 1), (2, 1, "
      "'week12', 2);"
      "INSERT INTO variable (variable_id, study_id, code, record_kind, value_type, unit) VALUES "
      "(1, 1, 'il6', 'biomarker', 'real', 'pg/mL'), (2, 1, 'crp', 'biomarker', 'real', 'mg/L'),"
      "(3, 1, 'pain_nrs', 'outcome', 'real', NULL), (4, 1, 'pcs', 'outcome', 'real', NULL);");
  const auto rows = ReadCsv("trial.csv");
  store.Exec("BEGIN");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const int id = static_cast<int>(i);
    store.Exec(
        fmt::format("INSERT INTO participant (participant_id, study_id, external_id, sex, age_years, arm) "
                    "VALUES ({}, 1, '{}', '{}', {}, '{}')",
                    id, r[0], r[2], r[3], r[1]));
    for (int v = 0; v < 4; ++v) {
      const char* table = v < 2 ? "biomarker" : "outcome";
      AddRecord(store, table, id, "1", v + 1, r[4 + 2 * v]);
      AddRecord(store, table, id, "2", v + 1, r[5 + 2 * v]);
    }
  }
  store.Exec("COMMIT");
  store.RecomputeCoverage();
  store.RefreshPivots("trial");
  return store;
}

inline Store CohortStore(const std::string& path = ":memory:") {
  Store store = Store::Create(path);
  AddBatch(store);
  store.Exec(
      "INSERT INTO study (study_id, code, design) VALUES (1, 'cohort', 'cohort');"
      "INSERT INTO site (site_id, study_id, code) VALUES (1, 1, 's1'), (2, 1, 's2'), (3, 1, 's3'), (4, 1, "
      "'s4'),"
      "(5, 1, 's5'), (6, 1, 's6');"
      "INSERT INTO variable (variable_id, study_id, code, record_kind, value_type) VALUES "
      "(1, 1, 'diabetes', 'covariate', 'integer'), (2, 1, 'osteoarthritis', 'covariate', 'integer'),"
      "(3, 1, 'pa_met', 'covariate', 'real'), (4, 1, 'lmm', 'mri_metric', 'real'),"
      "(5, 1, 'intermat', 'mri_metric', 'real'), (6, 1, 'cbp', 'outcome', 'integer'),"
      "(7, 1, 'pain_nrs', 'outcome', 'real');");
  const auto rows = ReadCsv("cohort.csv");
  const char* tables[] = {"covariate",  "covariate", "covariate", "mri_metric",
                          "mri_metric", "outcome",   "outcome"};
  store.Exec("BEGIN");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const int id = static_cast<int>(i);
    store.Exec(fmt::format(
        "INSERT INTO participant (participant_id, study_id, external_id, site_id, sex, age_years) "
        "VALUES ({}, 1, '{}', {}, '{}', {})",
        id, r[0], r[1].substr(1), r[2], r[3]));
    for (int v = 0; v < 7; ++v)
      AddRecord(store, tables[v], id, "NULL", v + 1, r[4 + static_cast<std::size_t>(v)]);
  }
  store.Exec("COMMIT");
  store.RecomputeCoverage();
  store.RefreshPivots("cohort");
  return store;
}

inline Store MetaStore(const std::string& path = ":memory:") {
  Store store = Store::Create(path);
  AddBatch(store);
  store.Exec("INSERT INTO study (study_id, code, design) VALUES (1, 'meta', 'meta');");
  const auto rows = ReadCsv("meta.csv");
  int trial_id = 0;
  std::string last;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r[0] != last) {
      ++trial_id;
      last = r[0];
      store.Exec(
          fmt::format("INSERT INTO meta_trial (trial_id, study_id, label, year, duration_weeks, attributes) "
                      "VALUES ({}, 1, '{}', {}, {}, '{{\"setting\": \"{}\"}}')",
                      trial_id, r[0], r[1], r[2], r[3]));
    }
    auto value = [](const std::string& s) { return s.empty() ? std::string("NULL") : s; };
    store.Exec(fmt::format(
        "INSERT INTO meta_arm_summary (trial_id, outcome, arm, n, mean, sd, events) VALUES "
        "({0}, '{1}', 'treatment', {2}, {3}, {4}, {5}), ({0}, '{1}', 'control', {6}, {7}, {8}, {9})",
        trial_id, r[4], r[5], value(r[6]), value(r[7]), value(r[8]), r[9], value(r[10]), value(r[11]),
        value(r[12])));
  }
  return store;
}

inline analysis::AnalysisRequest Request(const std::string& command, nlohmann::ordered_json options) {
  analysis::AnalysisRequest request;
  request.command = command;
  request.options = std::move(options);
  return request;
}

}  // namespace cohortdb::testing

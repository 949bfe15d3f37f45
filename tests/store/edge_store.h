#pragma once
// A store whose two studies hold the cases a pivot's SQL decides (coalesced
// visit and participant records, superseded values, censored values both
// ways, text and categorical variables, participants without records, a
// variable code equal to a participant column, NULL participant columns),
// and a cell comparison between a view's value and a pivot reader column.

#include <cmath>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "common/value.h"
#include "store/pivot.h"
#include "store/pivot_reader.h"
#include "store/store.h"

namespace cohortdb::testing {

inline void AddBatches(Store& store) {
  store.Exec(fmt::format(
      "INSERT INTO import_batch (batch_id, file_name, file_sha256, spec_sha256, started_at, tool_version) VALUES "
      "(1, 'a.csv', '{0}', '{0}', '2026-01-01T00:00:00Z', 'test'), "
      "(2, 'b.csv', '{1}', '{1}', '2026-01-02T00:00:00Z', 'test')",
      std::string(64, 'a'), std::string(64, 'b')));
}

// Study "long" (three visits) and study "flat" (one visit), sharing the
// record tables.
inline Store EdgeStore(const std::string& path = ":memory:") {
  Store store = Store::Create(path);
  AddBatches(store);
  store.Exec(R"sql(
    INSERT INTO study (study_id, code, design) VALUES (1, 'long', 'trial'), (2, 'flat', 'cohort');
    INSERT INTO site (site_id, study_id, code) VALUES (1, 1, 'north'), (2, 1, 'south'), (3, 2, 'x');
    INSERT INTO visit (visit_id, study_id, code, visit_order) VALUES
      (1, 1, 'm0', 1), (2, 1, 'm12', 3), (3, 1, 'm6', 2), (4, 2, 'only', 1);
    INSERT INTO variable (variable_id, study_id, code, record_kind, value_type) VALUES
      (1, 1, 'il6', 'biomarker', 'real'),
      (2, 1, 'pain', 'outcome', 'real'),
      (3, 1, 'smoking', 'covariate', 'categorical'),
      (4, 1, 'note', 'covariate', 'text'),
      (5, 1, 'sex', 'covariate', 'text'),
      (6, 1, 'weight', 'covariate', 'real'),
      (7, 2, 'crp', 'biomarker', 'real'),
      (8, 2, 'lmm', 'mri_metric', 'real'),
      (9, 2, 'empty_text', 'covariate', 'text');
    INSERT INTO variable_level (variable_id, level, label, source_code) VALUES
      (3, 1, 'never', '1'), (3, 2, 'former', '2'), (3, 3, 'current', '3');
    INSERT INTO participant (participant_id, study_id, external_id, site_id, sex, age_years, birth_year, arm) VALUES
      (10, 1, 'L1', 1, 'female', 41.5, 1980, 'exercise'),
      (11, 1, 'L2', 2, 'male', NULL, NULL, 'control'),
      (12, 1, 'L3', NULL, NULL, 60, 1964, NULL),
      (13, 1, 'L4', 1, 'female', 33, 1990, 'exercise'),
      (20, 2, 'F1', 3, NULL, 50, NULL, NULL),
      (21, 2, 'F2', 3, NULL, 51, NULL, NULL),
      (22, 2, 'F3', NULL, NULL, NULL, NULL, NULL);
  )sql");
  // (participant, visit or NULL, variable, value, censoring, limit, text, batch, superseded_by)
  const char* records = R"sql(
    INSERT INTO biomarker (participant_id, visit_id, variable_id, value, value_text, source_value, censoring,
                           detection_limit, batch_id, superseded_by) VALUES
      (10, 1, 1, 2.5, NULL, '2.5', 'none', NULL, 1, NULL),
      (10, 2, 1, NULL, NULL, '<0.15', 'left', 0.15, 1, NULL),
      (10, 3, 1, 9.0, NULL, '9', 'none', NULL, 1, 2),
      (10, 3, 1, 4.0, NULL, '4', 'none', NULL, 2, NULL),
      (11, 1, 1, NULL, NULL, '>50', 'right', 50, 1, NULL),
      (11, 3, 1, 1.25, NULL, '1.25', 'none', NULL, 1, NULL),
      (12, NULL, 1, 7.75, NULL, '7.75', 'none', NULL, 1, NULL),
      (12, 2, 1, 8.5, NULL, '8.5', 'none', NULL, 1, NULL),
      (13, NULL, 1, NULL, NULL, '<0.15', 'left', 0.15, 1, NULL),
      (13, 3, 1, 3.5, NULL, '3.5', 'none', NULL, 1, NULL),
      (20, 4, 7, 1.0, NULL, '1', 'none', NULL, 1, NULL),
      (21, NULL, 7, NULL, NULL, '<0.3', 'left', 0.3, 1, NULL),
      (21, 4, 7, 2.0, NULL, '2', 'none', NULL, 1, NULL),
      (22, 4, 7, NULL, NULL, '<0.3', 'left', 0.3, 1, NULL);
    INSERT INTO outcome (participant_id, visit_id, variable_id, value, value_text, source_value, batch_id,
                         superseded_by) VALUES
      (10, 1, 2, 6, NULL, '6', 1, NULL), (10, 2, 2, 3, NULL, '3', 1, NULL),
      (11, 1, 2, 7, NULL, '7', 1, 2), (11, 3, 2, 5, NULL, '5', 1, NULL),
      (13, 2, 2, 0, NULL, '0', 1, NULL);
    INSERT INTO covariate (participant_id, visit_id, variable_id, value, value_text, source_value, batch_id) VALUES
      (10, NULL, 3, 1, NULL, '1', 1), (11, NULL, 3, 3, NULL, '3', 1), (13, NULL, 3, 2, NULL, '2', 1),
      (10, 1, 4, NULL, 'first visit', 'first visit', 1), (10, 3, 4, NULL, 'Zürich', 'Zürich', 1),
      (11, 1, 4, NULL, '007', '007', 1), (12, 1, 4, NULL, 'first visit', 'first visit', 1),
      (10, NULL, 5, NULL, 'F', 'F', 1), (12, NULL, 5, NULL, 'M', 'M', 1),
      (10, NULL, 6, 70.5, NULL, '70.5', 1), (11, 1, 6, 80, NULL, '80', 1), (11, NULL, 6, 81, NULL, '81', 1);
    INSERT INTO mri_metric (participant_id, visit_id, variable_id, value, value_text, source_value, batch_id) VALUES
      (20, NULL, 8, 30.5, NULL, '30.5', 1), (22, 4, 8, 28.25, NULL, '28.25', 1);
  )sql";
  store.Exec(records);
  store.RecomputeCoverage();
  store.RefreshPivots("long");
  store.RefreshPivots("flat");
  return store;
}

// The view's value and the reader's value of one cell are the same SQL value.
inline bool SameCell(const SqlValue& view, const PivotColumnData& column, std::size_t row) {
  if (column.text) {
    const std::int32_t code = column.codes[row];
    if (code < 0) return std::holds_alternative<std::monostate>(view);
    const auto* text = std::get_if<std::string>(&view);
    return text != nullptr && *text == column.dictionary[static_cast<std::size_t>(code)];
  }
  const double v = column.values[row];
  if (std::isnan(v)) return std::holds_alternative<std::monostate>(view);
  if (const auto* i = std::get_if<std::int64_t>(&view)) return column.integer && static_cast<double>(*i) == v;
  if (const auto* d = std::get_if<double>(&view)) return !column.integer && *d == v;
  return false;
}

}  // namespace cohortdb::testing

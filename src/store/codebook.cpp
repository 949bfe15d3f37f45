#include "store/codebook.h"

#include <fmt/format.h>

#include "common/error.h"
#include "store/store.h"

namespace cohortdb {
namespace {

// Per record table: one pass grouped by variable over the rows in force.
// Each table holds only its own kind of variable, so the four aggregates
// never share a variable.
std::string TableAggregate(const char* table) {
  return fmt::format(
      "SELECT variable_id, count(*) AS n_values, count(DISTINCT participant_id) AS n_participants, "
      "sum(censoring <> 'none') AS n_censored, min(value) AS min_value, max(value) AS max_value, "
      "avg(value) AS mean_value FROM {} WHERE superseded_by IS NULL GROUP BY variable_id",
      table);
}

}  // namespace

QueryResult Codebook(Store& store, const std::string& study) {
  if (!study.empty()) {
    const QueryResult found = store.Query("SELECT 1 FROM study WHERE code = ?1", {study});
    if (found.rows.empty()) {
      const QueryResult known = store.Query("SELECT ifnull(group_concat(code, ', '), '') FROM "
                                            "(SELECT code FROM study ORDER BY code)");
      const std::string names = std::get<std::string>(known.rows[0][0]);
      throw InputError(fmt::format("codebook: --study: no study '{}' in the store ({})", study,
                                   names.empty() ? "it holds no study yet" : "its studies: " + names));
    }
  }
  const std::string sql = fmt::format(
      "WITH agg AS ({} UNION ALL {} UNION ALL {} UNION ALL {}), "
      "ordered_coverage AS (SELECT variable_id, group_concat(code, ',') AS visits, count(*) AS n_visits FROM "
      "  (SELECT c.variable_id, v.code FROM record_coverage c JOIN visit v ON v.visit_id = c.visit_key "
      "   ORDER BY c.variable_id, v.visit_order, v.code) GROUP BY variable_id), "
      "levels AS (SELECT variable_id, group_concat(source_code || ' = ' || label, ', ') AS levels FROM "
      "  (SELECT variable_id, source_code, label FROM variable_level ORDER BY variable_id, level) "
      "  GROUP BY variable_id), "
      "people AS (SELECT study_id, count(*) AS n FROM participant GROUP BY study_id) "
      "SELECT s.code AS study, v.code AS variable, v.label, v.value_type AS type, v.unit, l.levels, "
      "  CASE WHEN v.min_value IS NULL AND v.max_value IS NULL THEN NULL "
      "  ELSE ifnull(v.min_value, '') || '..' || ifnull(v.max_value, '') END AS range, "
      "  v.record_kind AS \"table\", oc.visits, "
      "  ifnull(a.n_values, 0) AS \"values\", ifnull(a.n_participants, 0) AS participants, "
      "  max(ifnull(p.n, 0) * ifnull(oc.n_visits, 1) - ifnull(a.n_values, 0), 0) AS missing, "
      "  ifnull(a.n_censored, 0) AS censored, "
      "  CASE WHEN v.value_type IN ('real', 'integer') THEN a.min_value END AS min, "
      "  CASE WHEN v.value_type IN ('real', 'integer') THEN a.max_value END AS max, "
      "  CASE WHEN v.value_type IN ('real', 'integer') THEN a.mean_value END AS mean "
      "FROM variable v JOIN study s USING (study_id) "
      "LEFT JOIN agg a ON a.variable_id = v.variable_id "
      "LEFT JOIN ordered_coverage oc ON oc.variable_id = v.variable_id "
      "LEFT JOIN levels l ON l.variable_id = v.variable_id "
      "LEFT JOIN people p ON p.study_id = v.study_id "
      "WHERE ?1 = '' OR s.code = ?1 "
      "ORDER BY s.code, v.variable_id",
      TableAggregate("biomarker"), TableAggregate("mri_metric"), TableAggregate("outcome"),
      TableAggregate("covariate"));
  return store.Query(sql, {study});
}

}  // namespace cohortdb

#include "store/summary.h"

#include <filesystem>

#include <fmt/format.h>

#include "store/embedded_migrations.h"
#include "store/store.h"

namespace cohortdb {

StoreSummary Summarize(Store& store) {
  StoreSummary summary;
  summary.schema_version = store.schema_version();
  summary.current_version = EmbeddedMigrations().empty() ? 0 : EmbeddedMigrations().back().version;
  std::error_code ec;
  const auto size = std::filesystem::file_size(store.path(), ec);
  summary.file_bytes = ec ? 0 : static_cast<std::int64_t>(size);
  std::string counts;
  for (const char* table : {"study", "site", "participant", "visit", "variable", "biomarker", "mri_metric",
                            "outcome", "covariate", "meta_trial", "meta_arm_summary", "import_batch",
                            "import_error", "recipe", "analysis_run", "analysis_result"}) {
    if (!counts.empty()) counts += " UNION ALL ";
    counts += fmt::format("SELECT '{0}' AS \"table\", count(*) AS rows FROM {0}", table);
  }
  summary.counts = store.Query(counts);
  summary.studies = store.Query(
      "SELECT s.code AS study, s.design, "
      "(SELECT count(*) FROM participant p WHERE p.study_id = s.study_id) AS participants, "
      "(SELECT count(*) FROM site x WHERE x.study_id = s.study_id) AS sites, "
      "(SELECT group_concat(code, ',') FROM (SELECT code FROM visit v WHERE v.study_id = s.study_id "
      "ORDER BY visit_order)) AS visits, "
      "(SELECT count(*) FROM variable v WHERE v.study_id = s.study_id) AS variables "
      "FROM study s ORDER BY s.code");
  summary.variables = store.Query(
      "SELECT s.code AS study, v.code AS variable, v.record_kind AS kind, v.value_type AS type, v.unit, "
      "CASE WHEN v.min_value IS NULL AND v.max_value IS NULL THEN NULL "
      "ELSE ifnull(v.min_value, '') || '..' || ifnull(v.max_value, '') END AS range "
      "FROM variable v JOIN study s USING (study_id) ORDER BY s.code, v.variable_id");
  summary.batches = store.Query(
      "SELECT batch_id AS batch, file_name AS file, record_kind AS kind, status, rows_read, rows_loaded, "
      "rows_rejected, finished_at FROM import_batch ORDER BY batch_id DESC LIMIT 10");
  summary.quarantine = store.Query(
      "SELECT b.batch_id AS batch, b.file_name AS file, count(e.error_id) AS rejected_rows "
      "FROM import_batch b JOIN import_error e USING (batch_id) GROUP BY b.batch_id ORDER BY b.batch_id");
  return summary;
}

}  // namespace cohortdb

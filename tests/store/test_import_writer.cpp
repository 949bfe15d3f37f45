// ImportWriter's bulk path: windows of queued records sorted by index key and
// written on the writer thread; the connection gate that makes every other
// use of the store wait for that thread; and a failure on the thread reaching
// the importing thread.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "store/import_writer.h"
#include "store/store.h"

namespace cohortdb {
namespace {

Store MakeStore() {
  Store store = Store::Create(":memory:");
  store.Exec(R"sql(
    INSERT INTO study (code, design) VALUES ('s', 'cohort');
    INSERT INTO variable (study_id, code, record_kind, value_type) VALUES
      (1, 'a', 'covariate', 'real'), (1, 'b', 'covariate', 'real');
    INSERT INTO import_batch (file_name, file_sha256, spec_sha256, started_at, tool_version)
      VALUES ('f.csv', printf('%064d', 1), printf('%064d', 2), '2026-01-01', 'test');
  )sql");
  return store;
}

std::string One(Store& store, const std::string& sql) { return FormatSqlValue(store.Query(sql).rows.at(0).at(0)); }

// Queues record "i": participant i / 2 (scattered: 7919 is prime to n),
// variable a or b, value i.
void QueueScattered(ImportWriter& writer, int n) {
  for (int k = 0; k < n; ++k) {
    const int i = static_cast<int>((static_cast<long>(k) * 7919) % n);
    RecordRow row;
    row.kind = RecordKind::kCovariate;
    row.participant_id = i / 2 + 1;
    row.variable_id = i % 2 + 1;
    row.value = i;
    const std::string text = std::to_string(i);
    row.source_value = text;
    row.batch_id = 1;
    writer.QueueRecord(row);
    writer.WriteFullChunks();
  }
}

}  // namespace

TEST_CASE("ImportWriter: scattered records pass through sorted windows intact", "[store][import_writer]") {
  Store store = MakeStore();
  constexpr int kRecords = 2 * static_cast<int>(ImportWriter::kSortWindow) + 1000;
  {
    ImportWriter writer(store);
    ImportWriter::BeginBulkLoad(store, true);
    Store::Transaction transaction(store);
    QueueScattered(writer, kRecords);
    // The gate: a query waits for the window the writer thread holds, so it
    // sees whole windows (two were handed over), never a part of one.
    const std::string written = One(store, "SELECT count(*) FROM covariate");
    CHECK((written == std::to_string(2 * ImportWriter::kSortWindow)));
    writer.FlushRecords();
    transaction.Commit();
  }
  ImportWriter::EndBulkLoad(store);
  CHECK(One(store, "SELECT count(*) FROM covariate") == std::to_string(kRecords));
  CHECK(One(store, "SELECT count(*) FROM covariate WHERE value <> CAST(source_value AS REAL) OR "
                   "participant_id <> CAST(value AS INTEGER) / 2 + 1 OR variable_id <> CAST(value AS INTEGER) % 2 + 1") ==
        "0");
  // Within a window, rows were written in index-key order.
  CHECK(One(store, "SELECT count(*) FROM covariate c JOIN covariate d ON d.record_id = c.record_id + 1 "
                   "WHERE d.record_id <= 65536 AND (d.participant_id, d.variable_id) < (c.participant_id, c.variable_id)") ==
        "0");
}

TEST_CASE("ImportWriter: a failure on the writer thread reaches the importer and nothing is kept",
          "[store][import_writer]") {
  Store store = MakeStore();
  store.Exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON covariate WHEN NEW.value = 1234 "
      "BEGIN SELECT RAISE(ABORT, 'value 1234 refused'); END;");
  {
    ImportWriter writer(store);
    ImportWriter::BeginBulkLoad(store, true);
    Store::Transaction transaction(store);
    QueueScattered(writer, static_cast<int>(ImportWriter::kSortWindow) + 10);
    CHECK_THROWS_AS(writer.FlushRecords(), StoreError);
    CHECK_THROWS_WITH(writer.FlushRecords(), Catch::Contains("value 1234 refused"));
  }
  ImportWriter::EndBulkLoad(store);
  CHECK(One(store, "SELECT count(*) FROM covariate") == "0");
}

TEST_CASE("ImportWriter: each run of records names only the columns it sets and stores every column as queued",
          "[store][import_writer]") {
  // 256 plain records first (participants 1-256: the first chunk after
  // sorting sets no optional column), then records each setting a different
  // mix: visit, label, unit, censoring with its limit, metadata, assay, lab.
  // 1000 records: three whole chunks and a rest written in halving runs.
  Store store = MakeStore();
  store.Exec(
      "INSERT INTO variable (study_id, code, record_kind, value_type) VALUES (1, 'c', 'biomarker', 'real');"
      "INSERT INTO visit (study_id, code, visit_order) VALUES (1, 'v1', 1);");
  constexpr int kRecords = 1000;
  struct Expected {
    std::string visit, value, value_text, source_unit, censoring, limit, metadata, assay, lab;
  };
  std::vector<Expected> expected;
  std::vector<std::string> texts;  // kept alive until the writer is flushed
  texts.reserve(5 * kRecords);
  {
    ImportWriter writer(store);
    ImportWriter::BeginBulkLoad(store, true);
    Store::Transaction transaction(store);
    for (int i = 0; i < kRecords; ++i) {
      const bool plain = i < 256;
      RecordRow row;
      row.kind = RecordKind::kBiomarker;
      row.participant_id = i + 1;
      row.variable_id = 3;
      row.batch_id = 1;
      Expected e{"NULL", std::to_string(i) + ".0", "NULL", "NULL", "none", "NULL", "NULL", "NULL", "NULL"};
      const auto keep = [&](std::string text) { return std::string_view(texts.emplace_back(std::move(text))); };
      row.source_value = keep(std::to_string(i));
      if (!plain && i % 3 == 0) { row.visit_id = 1; e.visit = "1"; }
      if (!plain && i % 5 == 0) { row.value_text = keep("label " + std::to_string(i)); e.value_text = std::string(*row.value_text); }
      if (!plain && i % 7 == 0) { row.source_unit = "mg/dL"; e.source_unit = "mg/dL"; }
      if (!plain && i % 11 == 0) {
        row.censoring = "left";
        row.detection_limit = 0.5;
        e.censoring = "left";
        e.limit = "0.5";
        e.value = "NULL";
      } else {
        row.value = i;
      }
      if (!plain && i % 13 == 0) { row.metadata_json = keep("{\"n\":" + std::to_string(i) + "}"); e.metadata = std::string(*row.metadata_json); }
      if (!plain && i % 17 == 0) { row.field1 = "elisa"; e.assay = "elisa"; }
      if (!plain && i % 19 == 0) { row.field2 = keep("lab " + std::to_string(i)); e.lab = std::string(*row.field2); }
      expected.push_back(e);
      writer.QueueRecord(row);
      writer.WriteFullChunks();
    }
    writer.FlushRecords();
    transaction.Commit();
  }
  ImportWriter::EndBulkLoad(store);
  const QueryResult rows = store.Query(
      "SELECT participant_id, visit_id, value, value_text, source_value, source_unit, censoring, detection_limit, "
      "metadata, assay, lab FROM biomarker ORDER BY participant_id");
  REQUIRE(rows.rows.size() == static_cast<std::size_t>(kRecords));
  int wrong = 0;
  for (int i = 0; i < kRecords; ++i) {
    const auto& r = rows.rows[static_cast<std::size_t>(i)];
    const Expected& e = expected[static_cast<std::size_t>(i)];
    const std::vector<std::string> got = {FormatSqlValue(r[1]), FormatSqlValue(r[2]), FormatSqlValue(r[3]),
                                          FormatSqlValue(r[5]), FormatSqlValue(r[6]), FormatSqlValue(r[7]),
                                          FormatSqlValue(r[8]), FormatSqlValue(r[9]), FormatSqlValue(r[10])};
    const std::vector<std::string> want = {e.visit,     e.value, e.value_text, e.source_unit, e.censoring,
                                           e.limit,     e.metadata, e.assay,   e.lab};
    if (got != want || FormatSqlValue(r[0]) != std::to_string(i + 1) || FormatSqlValue(r[4]) != std::to_string(i)) {
      if (++wrong <= 3) FAIL_CHECK("record " << i << " stored differently from how it was queued");
    }
  }
  CHECK(wrong == 0);
}

}  // namespace cohortdb

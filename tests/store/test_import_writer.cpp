// ImportWriter's bulk path: windows of queued records sorted by index key and
// written on the writer thread; the connection gate that makes every other
// use of the store wait for that thread; and a failure on the thread reaching
// the importing thread.
#include <catch2/catch.hpp>

#include <string>

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

}  // namespace cohortdb

// The frame column cache: cached columns equal the scanned ones (and the
// views') for every pivot and censor rule; every write to a table a pivot
// reads empties it, from cohortdb or from another SQLite connection; a
// read-only store reads it but never writes it; a fill never stores columns
// read before another connection's commit.

#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstring>
#include <string>

#include "common/value.h"
#include "edge_store.h"
#include "store/frame_column_cache.h"
#include "store/pivot.h"
#include "store/pivot_reader.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace cohortdb {
namespace {

using testing::EdgeStore;
using testing::SameCell;

std::int64_t CachedColumns(Store& store) { return FrameCacheStats(store).columns; }

// Two pivot reads are the same: names, flags, and every byte of the values
// (NaN included), codes, dictionaries and censored masks.
void CheckIdentical(const PivotData& a, const PivotData& b) {
  REQUIRE(a.rows == b.rows);
  REQUIRE(a.columns.size() == b.columns.size());
  for (std::size_t c = 0; c < a.columns.size(); ++c) {
    const PivotColumnData& x = a.columns[c];
    const PivotColumnData& y = b.columns[c];
    INFO("column " << x.name);
    CHECK(x.name == y.name);
    CHECK(x.text == y.text);
    CHECK(x.integer == y.integer);
    REQUIRE(x.values.size() == y.values.size());
    CHECK((x.values.empty() || std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(double)) == 0));
    CHECK(x.codes == y.codes);
    CHECK(x.dictionary == y.dictionary);
    CHECK(x.censored == y.censored);
    CHECK(x.censored_count == y.censored_count);
  }
}

void CheckEqualToView(Store& store, const std::string& study, bool per_visit, CensorRule rule, const PivotData& data) {
  const PivotDefinition pivot = LoadPivotDefinition(store, study);
  const QueryResult view = store.Query(WideSelectSql(pivot, per_visit, rule));
  REQUIRE(data.rows == view.rows.size());
  REQUIRE(data.columns.size() == view.columns.size());
  for (std::size_t c = 0; c < view.columns.size(); ++c) {
    for (std::size_t r = 0; r < view.rows.size(); ++r) {
      INFO("column " << view.columns[c] << ", row " << r << ": view " << FormatSqlValue(view.rows[r][c]));
      CHECK(SameCell(view.rows[r][c], data.columns[c], r));
    }
  }
}

// The value of column "name" at "row" as the cache-using reader gives it.
double Value(Store& store, const std::string& study, const std::string& name, std::size_t row,
             CensorRule rule = CensorRule::kExclude) {
  const PivotData data = ReadPivot(store, LoadPivotDefinition(store, study), false, rule, std::vector{name});
  REQUIRE(data.columns.size() == 1);
  return data.columns[0].values.at(row);
}

}  // namespace

TEST_CASE("cached pivot columns equal the scanned columns and the views", "[store][frame_cache]") {
  Store store = EdgeStore();
  REQUIRE(FrameCacheUsable(store));
  for (const char* study : {"long", "flat"}) {
    for (bool per_visit : {false, true}) {
      for (CensorRule rule :
           {CensorRule::kExclude, CensorRule::kHalfLimit, CensorRule::kLimitSqrt2, CensorRule::kLimit}) {
        INFO("study " << study << (per_visit ? " per visit" : "") << ", rule " << CensorRuleName(rule));
        const PivotDefinition pivot = LoadPivotDefinition(store, study);
        const PivotData scanned = ScanPivot(store, pivot, per_visit, rule, std::nullopt);
        const std::int64_t before = CachedColumns(store);
        const PivotData cold = ReadPivot(store, pivot, per_visit, rule, std::nullopt);
        CHECK(CachedColumns(store) == before + static_cast<std::int64_t>(scanned.columns.size()));
        const PivotData warm = ReadPivot(store, pivot, per_visit, rule, std::nullopt);
        CheckIdentical(cold, scanned);
        CheckIdentical(warm, scanned);
        CheckEqualToView(store, study, per_visit, rule, warm);
      }
    }
  }
}

TEST_CASE("a read of some cached and some new columns merges them in the view's order", "[store][frame_cache]") {
  Store store = EdgeStore();
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  (void)ReadPivot(store, pivot, false, CensorRule::kHalfLimit, std::vector<std::string>{"il6_m6", "site"});
  CHECK(CachedColumns(store) == 2);
  const PivotData mixed =
      ReadPivot(store, pivot, false, CensorRule::kHalfLimit, std::vector<std::string>{"il6_m12", "site", "il6_m6"});
  CHECK(CachedColumns(store) == 3);
  const PivotData scanned =
      ScanPivot(store, pivot, false, CensorRule::kHalfLimit, std::vector<std::string>{"il6_m12", "site", "il6_m6"});
  CheckIdentical(mixed, scanned);
  // The censored value of participant 10 at m12 under "half": limit 0.15 / 2.
  CHECK(mixed.columns[2].name == "il6_m12");
  CHECK(mixed.columns[2].values[0] == 0.075);
  CHECK(mixed.columns[2].censored_count == 1);
}

TEST_CASE("the frame cache is bypassed on request and when a trigger is missing", "[store][frame_cache]") {
  Store store = EdgeStore();
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  (void)ReadPivot(store, pivot, false, CensorRule::kExclude, std::nullopt, PivotCacheUse::kBypass);
  CHECK(CachedColumns(store) == 0);
  store.Exec("DROP TRIGGER frame_cache_clear_biomarker_update");
  CHECK_FALSE(FrameCacheUsable(store));
  (void)ReadPivot(store, pivot, false, CensorRule::kExclude, std::nullopt);
  CHECK(CachedColumns(store) == 0);
}

TEST_CASE("writes by cohortdb empty the frame cache", "[store][frame_cache]") {
  Store store = EdgeStore();
  // Participant 10, visit m0: il6 2.5.
  CHECK(Value(store, "long", "il6_m0", 0) == 2.5);
  REQUIRE(CachedColumns(store) == 1);
  CHECK(Value(store, "long", "il6_m0", 0) == 2.5);  // from the cache

  SECTION("sql --write UPDATE of a value") {
    const ScriptResult r =
        store.GuardedScript("UPDATE biomarker SET value = 3.5 WHERE participant_id = 10 AND visit_id = 1", true);
    CHECK(CachedColumns(store) == 0);
    CHECK(Value(store, "long", "il6_m0", 0) == 3.5);
    // The edit counts its own row only and does not name the cache.
    const QueryResult edit = store.Query("SELECT rows_changed, objects FROM data_edit");
    REQUIRE(edit.rows.size() == 1);
    CHECK(std::get<std::int64_t>(edit.rows[0][0]) == 1);
    CHECK(std::get<std::string>(edit.rows[0][1]) == "[\"biomarker\"]");
  }
  SECTION("sql --write DELETE of a record") {
    store.GuardedScript("DELETE FROM biomarker WHERE participant_id = 10 AND visit_id = 1", true);
    CHECK(CachedColumns(store) == 0);
    CHECK(std::isnan(Value(store, "long", "il6_m0", 0)));
  }
  SECTION("sql --write INSERT of a record") {
    store.GuardedScript(
        "INSERT INTO biomarker (participant_id, visit_id, variable_id, value, source_value, batch_id) "
        "VALUES (12, 1, 1, 6.25, '6.25', 2)",
        true);
    CHECK(CachedColumns(store) == 0);
    CHECK(Value(store, "long", "il6_m0", 2) == 6.25);
  }
  SECTION("a failed sql --write keeps the cache and the values") {
    CHECK_THROWS(store.GuardedScript("UPDATE biomarker SET value = 1 WHERE participant_id = 10; SELECT nope", true));
    CHECK(CachedColumns(store) == 1);
    CHECK(Value(store, "long", "il6_m0", 0) == 2.5);
  }
}

TEST_CASE("writes by another SQLite connection empty the frame cache", "[store][frame_cache]") {
  TempDir dir;
  const std::string path = dir.File("s.cohortdb");
  { Store created = EdgeStore(path); }
  Store store = Store::Open(path);
  // In the view's order: site, age_years, il6_m0, smoking.
  const std::vector<std::string> columns = {"il6_m0", "site", "smoking", "age_years"};
  auto read = [&] {
    return ReadPivot(store, LoadPivotDefinition(store, "long"), false, CensorRule::kLimit, columns);
  };
  (void)read();
  REQUIRE(CachedColumns(store) == 4);
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("PRAGMA foreign_keys = ON");

  SECTION("a record value") {
    other.exec("UPDATE biomarker SET value = 8 WHERE participant_id = 10 AND visit_id = 1");
    CHECK(CachedColumns(store) == 0);
    CHECK(read().columns[2].values[0] == 8);
  }
  SECTION("a censored record's limit") {
    other.exec("UPDATE biomarker SET detection_limit = 60 WHERE participant_id = 11 AND visit_id = 1");
    CHECK(CachedColumns(store) == 0);
    CHECK(read().columns[2].values[1] == 60);  // "limit": the limit itself
  }
  SECTION("a participant") {
    other.exec("UPDATE participant SET age_years = 44 WHERE participant_id = 10");
    CHECK(CachedColumns(store) == 0);
    CHECK(read().columns[1].values[0] == 44);
  }
  SECTION("a site") {
    other.exec("UPDATE site SET code = 'east' WHERE site_id = 1");
    CHECK(CachedColumns(store) == 0);
    const PivotData data = read();
    CHECK(data.columns[0].dictionary.at(static_cast<std::size_t>(data.columns[0].codes[0])) == "east");
  }
  SECTION("a visit") {
    other.exec("UPDATE visit SET code = 'base' WHERE visit_id = 1");
    CHECK(CachedColumns(store) == 0);
  }
  SECTION("a variable level") {
    other.exec("UPDATE variable_level SET label = 'ex' WHERE variable_id = 3 AND level = 2");
    CHECK(CachedColumns(store) == 0);
  }
  SECTION("a new participant") {
    other.exec("INSERT INTO participant (participant_id, study_id, external_id) VALUES (14, 1, 'L5')");
    CHECK(CachedColumns(store) == 0);
    CHECK(read().rows == 5);
  }
}

TEST_CASE("a fill after another connection's commit writes nothing", "[store][frame_cache]") {
  TempDir dir;
  const std::string path = dir.File("s.cohortdb");
  { Store created = EdgeStore(path); }
  Store store = Store::Open(path);
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  const std::int64_t version = std::get<std::int64_t>(store.Query("PRAGMA data_version").rows.at(0).at(0));
  const PivotData data = ScanPivot(store, pivot, false, CensorRule::kExclude, std::vector<std::string>{"il6_m0"});
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("UPDATE biomarker SET value = 8 WHERE participant_id = 10 AND visit_id = 1");
  FillCachedColumns(store, pivot.study_id, false, CensorRule::kExclude, data, version);
  CHECK(CachedColumns(store) == 0);
  // Without a commit in between, the same fill is kept.
  const std::int64_t now = std::get<std::int64_t>(store.Query("PRAGMA data_version").rows.at(0).at(0));
  FillCachedColumns(store, pivot.study_id, false, CensorRule::kExclude, data, now);
  CHECK(CachedColumns(store) == 1);
}

TEST_CASE("a read-only store reads the frame cache but never fills it", "[store][frame_cache]") {
  TempDir dir;
  const std::string path = dir.File("s.cohortdb");
  {
    Store created = EdgeStore(path);
    (void)ReadPivot(created, LoadPivotDefinition(created, "long"), false, CensorRule::kExclude,
                    std::vector<std::string>{"il6_m0"});
    REQUIRE(CachedColumns(created) == 1);
    // Mark the cached column (no trigger watches the cache itself) to see
    // that a read-only reader takes it from there.
    created.Exec("UPDATE frame_column SET data = zeroblob(length(data)) WHERE name = 'il6_m0'");
  }
  Store store = Store::Open(path, OpenMode::kReadOnly);
  REQUIRE_FALSE(FrameCacheWritable(store));
  const PivotDefinition pivot = LoadPivotDefinition(store, "long");
  const PivotData cached = ReadPivot(store, pivot, false, CensorRule::kExclude, std::vector<std::string>{"il6_m0"});
  CHECK(cached.columns.at(0).values.at(0) == 0.0);
  const PivotData scanned = ReadPivot(store, pivot, false, CensorRule::kExclude, std::vector<std::string>{"il6_m6"});
  CHECK(scanned.columns.at(0).values.at(0) == 4.0);
  CHECK(CachedColumns(store) == 1);
}

TEST_CASE("a bulk load lifts the cache triggers only inside its transaction", "[store][frame_cache]") {
  Store store = EdgeStore();
  (void)ReadPivot(store, LoadPivotDefinition(store, "long"), false, CensorRule::kExclude, std::nullopt);
  REQUIRE(CachedColumns(store) > 0);
  const std::string triggers =
      "SELECT group_concat(name || sql, ';') FROM (SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
      "ORDER BY name)";
  const QueryResult before = store.Query(triggers);
  {
    Store::Transaction transaction(store);
    FrameCacheSuspension suspension(store);
    CHECK(CachedColumns(store) == 0);
    CHECK_FALSE(FrameCacheUsable(store));
    suspension.Restore();
    CHECK(FrameCacheUsable(store));
    transaction.Commit();
  }
  CHECK(store.Query(triggers).rows == before.rows);
  CHECK(CachedColumns(store) == 0);
  (void)ReadPivot(store, LoadPivotDefinition(store, "long"), false, CensorRule::kExclude, std::nullopt);
  REQUIRE(CachedColumns(store) > 0);
  {
    // A load that rolls back keeps the triggers and the cache.
    Store::Transaction transaction(store);
    FrameCacheSuspension suspension(store);
  }
  CHECK(FrameCacheUsable(store));
  CHECK(CachedColumns(store) > 0);
}

}  // namespace cohortdb

namespace cohortdb {

TEST_CASE("sql --write cannot drop a frame cache trigger", "[store][frame_cache]") {
  Store store = EdgeStore();
  CHECK_THROWS_WITH(store.GuardedScript("DROP TRIGGER frame_cache_clear_biomarker_insert", true),
                    Catch::Contains("DROP TRIGGER frame_cache_clear_biomarker_insert is not allowed"));
  CHECK(FrameCacheUsable(store));
}

}  // namespace cohortdb

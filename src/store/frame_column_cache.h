#pragma once
// The frame column cache (table frame_column, migration 0008): pivot columns
// as the pivot reader produced them, kept per study, pivot (per participant
// or per visit), censor rule and column name, so that a later analysis reads
// a few blobs instead of scanning the record tables. Never stale: triggers on
// every table a pivot reads empty it on any write, from cohortdb or from any
// other SQLite client; a bulk import suspends them (FrameCacheSuspension).
//
// Plain functions on a Store; not thread-safe (as Store).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/pivot.h"

namespace cohortdb {

class Store;
struct PivotData;
struct PivotColumnData;

// The number of frame_cache_clear_* triggers migration 0008 creates.
inline constexpr int kFrameCacheTriggerCount = 33;

// True when the store has the cache table and every one of its triggers: only
// then may the cache be read or filled.
bool FrameCacheUsable(Store& store);

// True when this connection may write the cache now: usable, the connection
// writes (not opened read-only, the file writable) and no transaction is open.
bool FrameCacheWritable(Store& store);

// The cached columns among "names" of one pivot, by name. "rows" receives
// their common row count; a column whose blobs do not match its row count is
// left out. Empty when nothing is cached.
std::map<std::string, PivotColumnData> LoadCachedColumns(Store& store, std::int64_t study_id, bool per_visit,
                                                         CensorRule rule, const std::vector<std::string>& names,
                                                         std::size_t& rows);

// Writes the columns of "data" (read under a snapshot that saw
// PRAGMA data_version "data_version") in one transaction of their own, unless
// another connection committed since that snapshot (then nothing is written)
// or the store is busy. Never throws: the cache is an optimisation.
void FillCachedColumns(Store& store, std::int64_t study_id, bool per_visit, CensorRule rule, const PivotData& data,
                       std::int64_t data_version);

// Empties the cache (inside the caller's transaction if one is open).
void ClearFrameCache(Store& store);

// Cached columns and their total size in bytes.
struct FrameCacheSize {
  std::int64_t columns = 0;
  std::int64_t bytes = 0;
};
FrameCacheSize FrameCacheStats(Store& store);

// For a bulk load inside the caller's transaction: empties the cache and
// drops its triggers so that the load's rows pay nothing for them; Restore()
// re-creates them from the SQL they were created with before the caller
// commits. Other connections never see the triggers missing (the drop is
// part of the uncommitted transaction); a rollback brings them back too. A
// store without the cache (older than 0008) is left alone.
class FrameCacheSuspension {
 public:
  explicit FrameCacheSuspension(Store& store);
  void Restore();

 private:
  Store& store_;
  std::vector<std::string> trigger_sql_;
};

}  // namespace cohortdb

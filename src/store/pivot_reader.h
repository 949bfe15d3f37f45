#pragma once
// Reads a study's pivot (the rows and columns of the views wide_<study> and
// wide_<study>_visit, see pivot.h) straight from the record tables, without
// the views' per-participant subqueries: one scan of the participants and one
// scan of each record table that holds a requested variable, merged in
// memory. Only the requested columns are read.
//
// The result equals the view's, value for value: the same rows in the same
// order (participant_id, then visit_order), the same coalescing of visit-level
// and participant-level records, the same censor rule. Columns are typed as
// the view's values are: a column is text when it holds at least one text
// value (a text variable or a participant text column), else real (NULL =
// NaN); integer participant columns (participant_id, birth_year,
// visit_order) are flagged so that a temporary table can keep their type.
//
// Plain functions on a Store; not thread-safe (as Store).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/pivot.h"

namespace cohortdb {

class Store;

struct PivotColumnData {
  std::string name;
  bool text = false;     // codes/dictionary hold it; else values
  bool integer = false;  // participant_id, birth_year, visit_order
  std::vector<double> values;        // !text: NaN = NULL
  std::vector<std::int32_t> codes;   // text: index into dictionary, -1 = NULL
  std::vector<std::string> dictionary;  // text: distinct values in first-seen order
  // Rows whose value is a censored record's substitute (rule != exclude) or,
  // under "exclude", a censored record left NULL. Empty when none.
  std::vector<std::uint8_t> censored;
  std::size_t censored_count = 0;
};

struct PivotData {
  std::size_t rows = 0;
  std::vector<PivotColumnData> columns;  // in the view's column order
};

// The names of every column of the pivot, in the view's order. Throws as
// WideSelectSql (an unknown study, two columns of one name).
std::vector<std::string> PivotColumnNames(const PivotDefinition& pivot, bool per_visit);

// Whether ReadPivot goes through the frame column cache (frame_column_cache.h).
enum class PivotCacheUse {
  kUse,     // read cached columns; scan the others and, when the connection
            // may write (FrameCacheWritable), cache them in a transaction of
            // their own after the read
  kBypass,  // scan every column; neither read nor write the cache
};

// Reads the columns "wanted" (nullopt: all) of the study's pivot. Names that
// are not pivot columns are ignored (the caller checks names). The censor
// rule is applied as WideSelectSql applies it. Cached and scanned columns
// are the same, value for value; all of them are read under one snapshot.
PivotData ReadPivot(Store& store, const PivotDefinition& pivot, bool per_visit, CensorRule rule,
                    const std::optional<std::vector<std::string>>& wanted, PivotCacheUse cache = PivotCacheUse::kUse);

// ReadPivot without the cache: one scan of the participants and one of each
// record table holding a wanted variable.
PivotData ScanPivot(Store& store, const PivotDefinition& pivot, bool per_visit, CensorRule rule,
                    const std::optional<std::vector<std::string>>& wanted);

// Temporary tables that shadow pivot views for the frame queries run while
// this object lives: SQLite resolves an unqualified name in the temp schema
// first, so a user's SELECT over wide_<study> reads temp.wide_<study>. Each
// is a virtual table (module "cohortdb_pivot") over a PivotData this object
// keeps: SQLite reads the columns in place (integer columns as integers,
// reals as reals, text as text, NaN as NULL), nothing is copied into pages.
// Only this class creates such tables: CREATE VIRTUAL TABLE ... USING
// cohortdb_pivot from SQL fails. The tables are dropped on destruction.
// Measured against temp tables filled by INSERT: docs/PERFORMANCE.md.
class ShadowPivots {
 public:
  explicit ShadowPivots(Store& store) : store_(store) {}
  ~ShadowPivots();
  ShadowPivots(const ShadowPivots&) = delete;
  ShadowPivots& operator=(const ShadowPivots&) = delete;

  // Creates temp."view_name" over "data"; returns the data as kept.
  const PivotData& Add(const std::string& view_name, PivotData data);

  // Creates the view temp."view_name" of the study's pivot SQL with "rule"
  // applied (WideSelectSql): the views path's way to substitute censored
  // values in a frame that reads the pivot views.
  void AddRuleView(const std::string& view_name, const std::string& study, bool per_visit, CensorRule rule);

 private:
  Store& store_;
  std::vector<std::string> tables_;
  std::vector<std::string> views_;
  std::vector<std::unique_ptr<PivotData>> data_;
};

}  // namespace cohortdb

#pragma once
// Where analyses get their rows: the SQL of an analysis frame (a view or table
// name, a user SELECT, or the per-participant pivot of a study with a censor
// rule), read under the read-only guard; and the trial-summary tables of a
// meta-analysis study. The only SQL against store tables that src/analysis
// needs lives here. Plain functions on a Store; not thread-safe (as Store).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/value.h"
#include "store/pivot.h"

namespace cohortdb {

class Store;

// What --frame / --study / --censored said.
struct FrameSource {
  std::string frame;  // empty: the pivot of "study"; an identifier: a view or table; else a SELECT
  std::string study;  // the study whose pivot is the default frame (and whose catalog labels levels)
  CensorRule censor_rule = CensorRule::kExclude;
};

// The SELECT text a frame source stands for. A name must be an existing view
// or table (InputError listing the wide_* views otherwise); a SELECT is
// returned as given (without a trailing semicolon); no frame and no study is
// an InputError.
std::string FrameSelectSql(Store& store, const FrameSource& source);

// A frame SQL that only projects columns of one view: `SELECT * FROM v` or
// `SELECT a, b AS c, d e FROM v` (plain or "quoted" names) with nothing else:
// no WHERE, join, expression, DISTINCT, ORDER BY, LIMIT, comment, schema
// name or alias of the view. The analysis frame reader then takes the
// pivot reader's columns as they are instead of running the SQL. Deliberately
// narrow: anything it does not recognise is nullopt, and runs as SQL.
struct FrameProjection {
  std::string view;
  bool all = false;                                        // SELECT *
  std::vector<std::pair<std::string, std::string>> items;  // (output name, view column), in select order
};
std::optional<FrameProjection> ParseFrameProjection(std::string_view sql);

// Runs the frame under the read-only guard (Store::GuardedQuery): a frame
// that writes, or is not one statement, throws.
QueryResult ReadFrame(Store& store, const FrameSource& source);

// The column names of the frame without reading its rows (the SELECT is
// compiled under the guard with LIMIT 0; for the default frame, the study's
// pivot view wide_<study> when it exists). Throws like ReadFrame.
std::vector<std::string> FrameColumns(Store& store, const FrameSource& source);

// Level labels of the study's categorical and boolean variables, in level
// order, keyed by variable code: the pivot holds the level number, analyses
// show the label.
struct LevelLabels {
  std::string code;
  std::vector<std::string> columns;  // pivot columns holding it: code, code_value, code_<visit>
  std::vector<std::pair<std::int64_t, std::string>> levels;
};
std::vector<LevelLabels> LoadLevelLabels(Store& store, const std::string& study);

// The distinct values a participant column ("sex", "arm" or "site", as the
// site's code) holds among the study's participants, in no fixed order.
// InputError for another column.
std::vector<std::string> ParticipantColumnLevels(Store& store, std::int64_t study_id, const std::string& column);

// One trial of a meta-analysis study with the arm summaries of one outcome.
struct MetaTrialArms {
  std::string label;
  std::optional<std::int64_t> year;
  std::optional<double> duration_weeks;
  std::string attributes;  // JSON object text, empty if none
  struct Arm {
    std::int64_t n = 0;
    std::optional<double> mean, sd;
    std::optional<std::int64_t> events;
  };
  std::optional<Arm> treatment, control;
};

// Trials of "study" (ordered by year, then label) that report "outcome".
// Throws InputError for an unknown study, and for an outcome no trial
// reports (the message lists the outcomes the study has).
std::vector<MetaTrialArms> LoadMetaTrials(Store& store, const std::string& study, const std::string& outcome);

}  // namespace cohortdb

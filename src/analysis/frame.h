#pragma once
// An analysis frame: the rows of one SQL query (the --frame, or the pivot of
// --study) held column by column, plus the derived variables the user asked
// for. Numeric columns hold doubles (NaN = missing); categorical columns hold
// labels (nullopt = missing) and an ordered list of levels whose first is the
// reference level. A column is numeric when every non-NULL value the query
// returned is a number; a categorical catalog variable of --study is shown
// with its level labels in catalog order.
//
// Derived variables (documented in README "Analyses"):
//   --derive "NAME=change(VAR, FROM, TO)"  VAR_TO - VAR_FROM (pivot columns)
//   --derive "NAME=days(DATE, FROM)"       days from date FROM to date DATE
//                                          (ISO 8601 text columns)
//   --derive "NAME=z(VAR)"                 (VAR - mean) / SD over the analysis
//                                          sample (after complete-case selection)
//   --derive "NAME=VAR>=4"                 1 when true, 0 when false, missing
//                                          when VAR is (>=, >, <=, <, ==, !=)
//   --cut "VAR=500,5000"                   VAR_cat with levels "<500",
//                                          "500-5000", ">5000": below the first
//                                          cut, between cuts (both ends
//                                          included), above the last cut.
// A threshold may also be written in place of a variable name (--outcome
// "pain_nrs>=4"); the column is then named by the expression.
//
// Not thread-safe; frames are values (copyable). A copy is cheap: copies
// share their columns and a column is copied only when one of the frames
// holding it changes it (copy-on-write), so a change made through one frame
// is never seen by another.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/value.h"

namespace cohortdb {
class Store;
}

namespace cohortdb::analysis {

class Options;

inline constexpr std::int32_t kMissingCode = -1;

struct Column {
  std::string name;
  bool numeric = true;
  std::vector<double> values;        // numeric columns: NaN = missing
  std::vector<std::int32_t> codes;   // categorical columns: index into levels, kMissingCode = missing
  std::vector<std::string> levels;   // categorical: level order, first = reference
  bool deferred_z = false;           // z(): standardised on the analysis sample
  // Rows whose value stands for a censored record (below or above a detection
  // limit): substituted by the --censored rule, or missing under "exclude".
  // Empty when the column holds none.
  std::vector<std::uint8_t> censored;

  bool Missing(std::size_t row) const;
  std::size_t size() const { return numeric ? values.size() : codes.size(); }
  // The level label of a categorical row, or nullptr when missing.
  const std::string* Label(std::size_t row) const {
    return codes[row] < 0 ? nullptr : &levels[static_cast<std::size_t>(codes[row])];
  }
  // The code of "level" in this column, or kMissingCode when it is no level.
  std::int32_t CodeOf(std::string_view level) const;
};

class Frame {
 public:
  Frame() = default;
  // Builds a frame from query rows: a column is numeric when every non-NULL
  // value is a number, else categorical with its values as labels (numbers
  // printed as FormatSqlValue prints them) and levels in R's sort order.
  static Frame FromQuery(const QueryResult& result);

  // The columns in order, read as "for (const Column& c : frame.columns())".
  // Valid until the frame changes.
  class ColumnRange;
  ColumnRange columns() const;

  std::size_t rows() const { return rows_; }
  bool Has(const std::string& name) const;
  // The column; throws InputError naming the option, the unknown variable and
  // the closest column names. A threshold expression is derived on demand.
  const Column& Get(const std::string& name, const std::string& option = "variable");
  const Column& Get(const std::string& name, const std::string& option = "variable") const;
  // Checks that "name" exists (or can be derived), as Get.
  void Require(const std::string& name, const std::string& option);
  void Add(Column column);
  // Replaces the column of the same name (or adds it). A frame that shares
  // the old column keeps it.
  void Put(Column column);

  // A frame of these columns (each of "rows" rows).
  static Frame FromColumns(std::vector<Column> columns, std::size_t rows);

  // The rows at "indices", in that order.
  Frame Subset(const std::vector<std::size_t>& indices) const;
  // Keeps only the rows at "indices" (strictly ascending): in place in a
  // column this frame alone holds, into a new column in one it shares.
  void KeepRows(const std::vector<std::size_t>& indices);
  // The named columns (those the frame has), all rows, shared with this
  // frame; nullopt: every column.
  Frame Select(const std::optional<std::vector<std::string>>& names) const;

  // Standardises every deferred z() column on this frame's rows.
  void StandardiseDeferred();

  // Turns a numeric column into a categorical one in this frame (levels in
  // numeric order, labels printed as numbers). No-op for a categorical column.
  const Column& AsCategorical(const std::string& name, const std::string& option);

  // Every column name of the frame's source, of which this frame read only
  // some (for "did you mean" hints).
  void SetSourceColumns(std::vector<std::string> names) { source_columns_ = std::move(names); }

  // The --censored rule the frame was read with ("exclude", "half", ...).
  const std::string& censor_rule() const { return censor_rule_; }
  void SetCensorRule(std::string rule) { censor_rule_ = std::move(rule); }

  // Whether this frame and "other" hold the same storage of column "name"
  // (false when either lacks it): copies share a column until one of them
  // changes it.
  bool SharesColumn(const Frame& other, const std::string& name) const;

 private:
  // The column named "name", or nullptr.
  const std::shared_ptr<Column>* Find(const std::string& name) const;
  // Column "k" for changing in place: copied first when another frame holds
  // it too. Every change to a column's contents goes through here.
  Column& Mutable(std::size_t k);

  std::size_t rows_ = 0;
  // Shared with copies of this frame (copy-on-write, see Mutable).
  std::vector<std::shared_ptr<Column>> columns_;
  std::vector<std::string> source_columns_;
  std::string censor_rule_ = "exclude";
};

class Frame::ColumnRange {
 public:
  using Pointers = std::vector<std::shared_ptr<Column>>;
  class Iterator {
   public:
    explicit Iterator(Pointers::const_iterator at) : at_(at) {}
    const Column& operator*() const { return **at_; }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    Pointers::const_iterator at_;
  };
  explicit ColumnRange(const Pointers& columns) : columns_(columns) {}
  Iterator begin() const { return Iterator(columns_.begin()); }
  Iterator end() const { return Iterator(columns_.end()); }
  std::size_t size() const { return columns_.size(); }

 private:
  const Pointers& columns_;
};

inline Frame::ColumnRange Frame::columns() const { return ColumnRange(columns_); }

// What the rule did to censored values, in words ("set to limit/2 ...").
std::string CensorAction(const std::string& rule);


// Builds a frame row by row from query results, as Frame::FromQuery.
class FrameBuilder {
 public:
  explicit FrameBuilder(std::vector<std::string> columns);
  // Room for "rows" rows, when the caller knows about how many will come
  // (pages never written are not resident, so an upper bound is fine).
  void Reserve(std::size_t rows);
  void AddRow(const std::vector<SqlValue>& row);
  Frame Finish();

 private:
  struct Pending;
  std::vector<std::string> names_;
  std::vector<Pending> columns_;
  std::size_t rows_ = 0;
  std::size_t reserved_ = 0;
};

// Reads the frame of the request (--frame / --study / --censored), labels the
// study's categorical variables, and adds --derive and --cut variables in the
// order given. Only the columns the options name are read (FrameNeeds). A
// frame over a study's pivot views (wide_<study>, wide_<study>_visit) reads
// them through the store's pivot reader, with the --censored rule applied;
// the study's catalog labels its levels even without --study. Throws
// InputError for a bad frame or derivation, and for a --censored rule that
// cannot apply (a frame that reads no pivot view).
Frame LoadFrame(Store& store, const Options& options);

// The options whose values name frame variables (--outcome, --predictors, ...).
const std::vector<std::string>& VariableOptions();

// The frame columns an analysis with these options reads: every variable
// option's names (thresholds by their variable), --derive and --cut inputs,
// --by. Names that are not columns are harmless (derived names).
std::vector<std::string> FrameNeeds(const Options& options);

// The frames of one recipe run: each distinct frame (source, study, censor
// rule) is read once, with the columns of every step that uses it, and each
// step gets the columns it reads, shared with the cache until the step
// changes them (copy-on-write). Plan every step before the first LoadFrame;
// a FrameCacheScope makes LoadFrame use the cache.
class FrameCache {
 public:
  void Plan(const Options& options);
  // How many frames were read from the store so far.
  std::size_t reads() const { return reads_; }

 private:
  friend Frame LoadFrame(Store& store, const Options& options);
  struct Entry {
    std::vector<std::string> columns;
    std::optional<Frame> frame;
  };
  std::map<std::string, Entry> entries_;
  std::size_t reads_ = 0;
};

// How LoadFrame reads the store. kPivotReader (the default) reads only the
// columns an analysis names, from the frame column cache or straight from
// the record tables (filling the cache); kScan does the same without the
// cache; kViews runs the pivot views' SQL as given and reads every column
// (the reference the reader is tested and benchmarked against). The
// environment variable COHORTDB_FRAME_READER=views or =scan selects kViews
// or kScan in a process (tools/bench).
enum class FrameReadMode { kPivotReader, kViews, kScan };
void SetFrameReadMode(FrameReadMode mode);
FrameReadMode GetFrameReadMode();

// How the --frame reads of this process went (tests and benchmarks look): a
// frame that only projects columns of one pivot view (`SELECT *` or
// `SELECT a, b AS c FROM wide_x`) takes the reader's columns as they are
// ("direct"); any other SQL runs over them ("sql").
struct FrameReadCounts {
  std::size_t direct = 0;
  std::size_t sql = 0;
};
FrameReadCounts GetFrameReadCounts();

// While alive, LoadFrame on this thread reads through "cache".
class FrameCacheScope {
 public:
  explicit FrameCacheScope(FrameCache& cache);
  ~FrameCacheScope();
  FrameCacheScope(const FrameCacheScope&) = delete;
  FrameCacheScope& operator=(const FrameCacheScope&) = delete;

 private:
  FrameCache* previous_;
};

// The column names LoadFrame would produce, without reading rows (for
// validation): the frame's columns plus derived names.
std::vector<std::string> FrameVariableNames(Store& store, const Options& options);

// Applies one derivation ("NAME=change(...)", "NAME=z(VAR)", "NAME=VAR>=4").
void ApplyDerive(Frame& frame, const std::string& text);
// Applies one --cut ("VAR=500,5000").
void ApplyCut(Frame& frame, const std::string& text);

// Parses "VAR>=4" style expressions: variable, operator, threshold.
struct Threshold {
  std::string variable;
  std::string op;
  double value = 0;
};
// NAME OP NUMBER, e.g. "pain_nrs>=4"; nullopt when "text" is not of that
// form. Throws InputError when the number is not finite ("x>=1e999").
std::optional<Threshold> ParseThreshold(const std::string& text);

// The whole text as a finite decimal double (an optional sign, no spaces,
// no hex, inf or nan), or nullopt.
std::optional<double> ParseFiniteNumber(std::string_view text);

// Number formatting for generated level labels: 500, 0.5, 1e+06 -> "1000000".
std::string FormatCut(double value);

}  // namespace cohortdb::analysis

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
// Not thread-safe; frames are values (copyable).

#include <cstddef>
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

struct Column {
  std::string name;
  bool numeric = true;
  std::vector<double> values;                      // numeric columns
  std::vector<std::optional<std::string>> labels;  // categorical columns
  std::vector<std::string> levels;                 // categorical: level order, first = reference
  bool deferred_z = false;                         // z(): standardised on the analysis sample

  bool Missing(std::size_t row) const;
  std::size_t size() const { return numeric ? values.size() : labels.size(); }
};

class Frame {
 public:
  Frame() = default;
  // Builds a frame from query rows.
  static Frame FromQuery(const QueryResult& result);

  std::size_t rows() const { return rows_; }
  const std::vector<Column>& columns() const { return columns_; }
  bool Has(const std::string& name) const;
  // The column; throws InputError naming the option, the unknown variable and
  // the closest column names. A threshold expression is derived on demand.
  const Column& Get(const std::string& name, const std::string& option = "variable");
  const Column& Get(const std::string& name, const std::string& option = "variable") const;
  // Checks that "name" exists (or can be derived), as Get.
  void Require(const std::string& name, const std::string& option);
  void Add(Column column);
  // Replaces the column of the same name (or adds it).
  void Put(Column column);

  // The rows at "indices", in that order.
  Frame Subset(const std::vector<std::size_t>& indices) const;

  // Standardises every deferred z() column on this frame's rows.
  void StandardiseDeferred();

  // Turns a numeric column into a categorical one in place (levels in numeric
  // order, labels printed as numbers). No-op for a categorical column.
  const Column& AsCategorical(const std::string& name, const std::string& option);

 private:
  std::size_t rows_ = 0;
  std::vector<Column> columns_;
};


// Reads the frame of the request (--frame / --study / --censored), labels the
// study's categorical variables, and adds --derive and --cut variables in the
// order given. Throws InputError for a bad frame or derivation.
Frame LoadFrame(Store& store, const Options& options);

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

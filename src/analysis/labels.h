#pragma once
// Labels of an analysis's variables and levels, from the catalog of --study
// (REDCap field labels, spec labels, level labels in variable_level; booleans
// without level labels read No/Yes), and their use on a result set: each row
// gets its "label" and, for model rows, the extra keys of result.h ("variable",
// "var_label", "var_type", "reference_row"; tidy_plus_plus names). A name the
// catalog does not know, or knows with an empty label, is its own label.
// Cheap to copy; holds no reference to the store.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace cohortdb {
class Store;
}

namespace cohortdb::analysis {

class Options;

class VariableLabels {
 public:
  struct Variable {
    std::string label;                // never empty: the code when the catalog has none
    bool boolean = false;             // the catalog's boolean type (yesno, truefalse, checkbox, spec)
    bool numeric_boolean = false;     // a 0/1 column whose levels read No/Yes
    bool continuous = false;          // numeric: a term naming it holds no level
    std::vector<std::string> levels;  // categorical levels as the frame names them, in level order
    std::vector<std::string> level_labels;  // what each level reads as (same size as levels)
  };

  // The variables of the frame "options" describe (catalog variables of
  // --study under each pivot column that holds them, --cut and --derive
  // columns). Never throws for an unknown study: it simply knows no labels.
  static VariableLabels Load(Store& store, const Options& options);

  // Adds or replaces a variable (for tests and callers that know more).
  void Put(const std::string& name, Variable variable) { variables_[name] = std::move(variable); }
  const Variable* Find(const std::string& name) const;
  // The variable's label, or "name" itself.
  std::string Label(const std::string& name) const;
  // What a level of the variable reads as: the catalog's label, No/Yes for
  // 0/1 of a boolean, else the level itself.
  std::string LevelLabel(const std::string& name, const std::string& level) const;

  // A model term ("sexmale", "age", "armExercise:visitweek12") split into
  // its variables and levels: nullopt when a part names no known variable.
  struct TermPart {
    std::string variable;
    std::optional<std::string> level;
  };
  std::optional<std::vector<TermPart>> SplitTerm(const std::string& term) const;

 private:
  std::map<std::string, Variable> variables_;
};

// Fills the labels of every row of "result" (see result.h), adds the
// reference-level rows of categorical predictors to the model sections
// (where the reference level is certain: the one known level without a
// coefficient), a "stratum_label" ("Osteoarthritis = Yes") to rows of a
// --by stratum, and diagnostics "outcome_label" when the request names an
// outcome. Numbers are not touched.
void ApplyLabels(const VariableLabels& labels, const nlohmann::ordered_json& parameters,
                 AnalysisResultSet& result);

// The result's plot: plot_svg, or with "codes" the plot drawn again with its
// rows and title named by codes (terms, variables), as --codes prints tables.
std::string PlotSvg(const AnalysisResultSet& result, bool codes);

}  // namespace cohortdb::analysis

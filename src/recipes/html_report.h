#pragma once
// The HTML report of analysis runs: one self-contained document -- inline
// CSS, the forest plots as inline SVG, no script, no font, stylesheet or
// image fetched from anywhere. Either a recipe run (`recipe run --report`,
// or `results --report` of the runs of one recipe run): the recipe's title
// and description, per step its title, the command line that reproduces it,
// its paper tables (analysis::PaperTables), its notes and its plot, and the
// provenance of the run (store fingerprint, recipe version and SHA-256,
// cohortdb version, run ids, times, rows used and excluded with the reasons,
// --min-cell, censored values). Or runs of any kind (`results --report`):
// the same per run, with each run's own provenance. A print stylesheet starts
// each step on a new page and keeps table rows and plots whole. Every text
// that comes from the store or the recipe is escaped, so it stays text. Pure
// functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "recipes/recipe.h"
#include "store/provenance.h"
#include "store/recipe_store.h"

namespace cohortdb::recipes {

// One step (or run) as the report shows it: the step, its result (with the
// plot) and the run recorded for it.
struct ReportStep {
  RecipeStep step;  // a run not from a recipe: name and title empty
  AnalysisResultSet result;
  AnalysisRunInfo run;  // as recorded (LoadAnalysisRun), for its provenance
  // Why the forest plot the run drew is not shown (a run read back from the
  // store whose plot cannot be drawn again); empty otherwise.
  std::string plot_missing;
};

struct RunReport {
  std::string store;  // the store path as the user gave it (for the commands)
  // The recipe run the steps make up; nullopt: runs of any kind, each with
  // its own provenance.
  std::optional<StoredRecipe> recipe;
  std::string title;        // "" : the recipe's name, or "cohortdb runs 12, 17"
  std::string description;  // may be empty
  std::vector<ReportStep> steps;
  std::string generated_at;  // ISO 8601 UTC
  bool codes = false;        // --codes: tables, notes and plots by codes, not labels
};

// The whole HTML document.
std::string RunReportHtml(const RunReport& report);

// Text for HTML element content and attribute values: & < > " ' as
// character references; invalid UTF-8 bytes become U+FFFD.
std::string HtmlEscape(std::string_view text);

// The cohortdb command line that runs the step alone on "store", from the
// parameters recorded with its run: `cohortdb regress STORE --study trial
// --derive '...' --predictors a,b --standardize`. Lists are comma-separated
// except derive, cut and ref (repeated); words are quoted for a POSIX shell
// where needed; plot = true becomes --plot STEP.svg.
std::string StepCommandLine(const std::string& store, const std::string& command, const std::string& step,
                            const nlohmann::ordered_json& parameters);

// A word quoted for a POSIX shell when it holds anything beyond
// [A-Za-z0-9_./=:,@%+-].
std::string ShellWord(std::string_view word);

}  // namespace cohortdb::recipes

#pragma once
// The HTML report of a recipe run (`recipe run --report FILE.html`): one
// self-contained document -- inline CSS, the forest plots as inline SVG, no
// script, no font, stylesheet or image fetched from anywhere -- with the
// recipe's title and description, per step its title, the command line that
// reproduces it, its paper tables (analysis::PaperTables), its notes and its
// plot, and the provenance of the run (store fingerprint, recipe version and
// SHA-256, cohortdb version, run ids, times, rows used and excluded with the
// reasons, --min-cell, censored values). A print stylesheet starts each step
// on a new page and keeps table rows and plots whole. Every text that comes
// from the store or the recipe is escaped, so it stays text. Pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "recipes/recipe.h"
#include "store/provenance.h"
#include "store/recipe_store.h"

namespace cohortdb::recipes {

// One step as the report shows it: the step, its result (with the plot) and
// the run recorded for it.
struct ReportStep {
  RecipeStep step;
  AnalysisResultSet result;
  AnalysisRunInfo run;  // as recorded (LoadAnalysisRun), for its provenance
};

struct RecipeReport {
  std::string store;  // the store path as the user gave it (for the commands)
  StoredRecipe recipe;
  std::string title;        // the recipe's title ("" : its name)
  std::string description;  // may be empty
  std::vector<ReportStep> steps;
  std::string generated_at;  // ISO 8601 UTC
  bool codes = false;        // recipe run --codes: tables, notes and plots by codes, not labels
};

// The whole HTML document.
std::string RecipeReportHtml(const RecipeReport& report);

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

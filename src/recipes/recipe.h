#pragma once
// Recipes: a TOML file naming a sequence of analyses (steps), each with its
// frame and options under the option names of the analysis registry
// (docs/RECIPES.md documents the format). Parsing checks syntax, structure
// and option types against the registry without a store; validation then
// checks every step against a store (frame SQL compiles, variables exist)
// through analysis::ValidateRequest. Errors are InputError with
// "SOURCE:LINE:COLUMN: step \"NAME\": what was expected, what was found".

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis.h"
#include "common/result.h"
#include "store/recipe_store.h"

namespace cohortdb {
class Store;
}

namespace cohortdb::recipes {

struct RecipeStep {
  std::string name;                   // unique within the recipe: [a-z0-9_-]
  std::string title;                  // printed above the step's table; defaults to name
  bool plot = false;                  // options.plot = true: the analysis draws its forest plot
  analysis::AnalysisRequest request;  // analysis name and options (frames resolved)
  int line = 0;                       // where the step starts in the source
  int column = 0;
};

struct Recipe {
  std::string name;
  std::string title;
  std::string description;
  std::vector<RecipeStep> steps;
};

// Parses a recipe's TOML text. "source" names it in error messages (a file
// name). Checks: TOML syntax (with line:column), the recipe keys, every step's
// keys, that the analysis exists, that every option is known to it and has
// the right type, that required options are present and that named frames
// exist. Does not touch a store.
Recipe ParseRecipe(std::string_view text, const std::string& source);

// Checks every step of "recipe" against "store" with analysis::ValidateRequest
// (frame SQL compiles, variables exist). Throws InputError naming the step.
void ValidateRecipe(Store& store, const Recipe& recipe, const std::string& source);

// Reads FILE, parses and validates it completely, then stores it as a new
// version (SaveRecipe: the same body as the newest version stores nothing).
// Nothing is stored when any check fails.
RecipeSaved AddRecipeFile(Store& store, const std::string& path);

// One executed step of a recipe run.
struct StepRun {
  const RecipeStep* step = nullptr;
  AnalysisResultSet result;
  std::int64_t run_id = 0;
  double elapsed_ms = 0;
};

// Whether the stored body still has the SHA-256 recorded when it was added
// (false: changed outside cohortdb, e.g. by `sql --write`).
bool RecipeDigestMatches(const StoredRecipe& stored);
// Throws StoreError naming the recipe, its version and both digests unless
// RecipeDigestMatches.
void CheckRecipeDigest(const StoredRecipe& stored);

// Refuses a body changed outside cohortdb (CheckRecipeDigest), then runs
// every step of the stored recipe in order through analysis::RunAnalysis
// and records each with RecordAnalysisRun (referencing the recipe version and
// the step name). "on_step" sees each step as soon as it finished. A failing
// step stops the run with the error prefixed by the step's name; steps that
// ran before stay recorded. Returns the parsed recipe.
Recipe RunRecipe(Store& store, const StoredRecipe& stored,
                 const std::function<void(const StepRun&)>& on_step);

}  // namespace cohortdb::recipes

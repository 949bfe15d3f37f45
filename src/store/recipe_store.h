#pragma once
// Stored recipes: the recipe table keeps every version of a recipe's TOML
// body. Adding a body that differs from the newest live version stores the
// next version; adding the same body again stores nothing. Removing a recipe
// marks all its versions removed (runs keep referencing them); adding the
// name again later continues the version numbers.
//
// These functions only store text: parsing and validating a recipe is the
// job of src/recipes, which calls them after validation succeeded.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cohortdb {

class Store;

struct StoredRecipe {
  std::int64_t recipe_id = 0;
  std::string name;
  std::int64_t version = 0;
  std::string body;
  std::string sha256;
  std::string created_at;
};

struct RecipeSaved {
  StoredRecipe recipe;   // the version now newest (new or the existing equal one)
  bool created = false;  // false: the body equals the newest live version
};

// One line of `recipe list`: the newest live version of each recipe.
struct RecipeListing {
  std::string name;
  std::int64_t version = 0;   // newest live version
  std::int64_t versions = 0;  // live versions stored
  std::string created_at;     // of the newest version
  std::int64_t runs = 0;      // times any version was run (a run records one analysis run per step)
  std::optional<std::string> last_run_at;
};

// Throws InputError unless "name" is 1..64 characters of [A-Za-z0-9_.-].
void CheckRecipeName(const std::string& name);

// Stores "body" as the next version of "name" unless it equals the newest
// live version. Runs in its own transaction.
RecipeSaved SaveRecipe(Store& store, const std::string& name, const std::string& body);

// The live version "version" of "name" (default: the newest); nullopt if none.
std::optional<StoredRecipe> LoadRecipe(Store& store, const std::string& name,
                                       std::optional<std::int64_t> version = std::nullopt);

// The recipe version "recipe_id" (an analysis run's recipe_id), live or
// removed; nullopt if there is none.
std::optional<StoredRecipe> LoadRecipeVersion(Store& store, std::int64_t recipe_id);

// The versions of "name" that are live, oldest first.
std::vector<StoredRecipe> RecipeVersions(Store& store, const std::string& name);

std::vector<RecipeListing> ListRecipes(Store& store);

// Marks every live version of "name" removed; returns how many were marked
// (0 when the recipe does not exist).
std::int64_t RemoveRecipe(Store& store, const std::string& name);

}  // namespace cohortdb

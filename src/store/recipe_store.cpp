#include "store/recipe_store.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/sha256.h"
#include "store/store.h"

namespace cohortdb {
namespace {

std::int64_t Int(const SqlValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  return 0;
}

std::string Text(const SqlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return "";
}

constexpr const char* kRecipeColumns =
    "SELECT recipe_id, name, version, body, sha256, created_at FROM recipe ";

StoredRecipe RecipeFromRow(const std::vector<SqlValue>& row) {
  return StoredRecipe{Int(row[0]), Text(row[1]), Int(row[2]), Text(row[3]), Text(row[4]), Text(row[5])};
}

}  // namespace

void CheckRecipeName(const std::string& name) {
  const bool valid_chars =
      name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
      std::string::npos;
  if (name.empty() || name.size() > 64 || !valid_chars) {
    throw InputError(fmt::format(
        "recipe name \"{}\" is not valid: expected 1 to 64 characters of letters, digits, '_', '.' or '-'",
        name));
  }
}

RecipeSaved SaveRecipe(Store& store, const std::string& name, const std::string& body) {
  CheckRecipeName(name);
  const std::string digest = Sha256Hex(body);
  Store::Transaction transaction(store);
  // The body is compared too: a body changed behind cohortdb's back (sql
  // --write) keeps its old digest, and the file added again is new text.
  if (auto newest = LoadRecipe(store, name); newest && newest->sha256 == digest && newest->body == body) {
    return RecipeSaved{*newest, false};
  }
  const QueryResult inserted = store.Query(
      "INSERT INTO recipe (name, version, body, sha256) "
      "VALUES (?1, (SELECT ifnull(max(version), 0) + 1 FROM recipe WHERE name = ?1), ?2, ?3) "
      "RETURNING recipe_id, name, version, body, sha256, created_at",
      {name, body, digest});
  transaction.Commit();
  return RecipeSaved{RecipeFromRow(inserted.rows.at(0)), true};
}

std::optional<StoredRecipe> LoadRecipe(Store& store, const std::string& name,
                                       std::optional<std::int64_t> version) {
  const QueryResult found =
      version ? store.Query(
                    std::string(kRecipeColumns) + "WHERE name = ?1 AND version = ?2 AND removed_at IS NULL",
                    {name, *version})
              : store.Query(std::string(kRecipeColumns) +
                                "WHERE name = ?1 AND removed_at IS NULL ORDER BY version DESC LIMIT 1",
                            {name});
  if (found.rows.empty()) return std::nullopt;
  return RecipeFromRow(found.rows.front());
}

std::optional<StoredRecipe> LoadRecipeVersion(Store& store, std::int64_t recipe_id) {
  const QueryResult found = store.Query(std::string(kRecipeColumns) + "WHERE recipe_id = ?1", {recipe_id});
  if (found.rows.empty()) return std::nullopt;
  return RecipeFromRow(found.rows.front());
}

std::vector<StoredRecipe> RecipeVersions(Store& store, const std::string& name) {
  std::vector<StoredRecipe> versions;
  store.ForEachRow(std::string(kRecipeColumns) + "WHERE name = ?1 AND removed_at IS NULL ORDER BY version",
                   {name}, [&](const std::vector<SqlValue>& row) { versions.push_back(RecipeFromRow(row)); });
  return versions;
}

std::vector<RecipeListing> ListRecipes(Store& store) {
  std::vector<RecipeListing> list;
  store.ForEachRow(
      "SELECT r.name, max(r.version), count(*), "
      "(SELECT created_at FROM recipe x WHERE x.name = r.name AND x.removed_at IS NULL ORDER BY version DESC "
      "LIMIT 1), "
      "(SELECT count(*) FROM analysis_run a JOIN recipe y ON y.recipe_id = a.recipe_id WHERE y.name = "
      "r.name AND a.recipe_step = (SELECT b.recipe_step FROM analysis_run b WHERE b.recipe_id = a.recipe_id "
      "ORDER BY b.run_id LIMIT 1)), "
      "(SELECT max(a.started_at) FROM analysis_run a JOIN recipe y ON y.recipe_id = a.recipe_id "
      "WHERE y.name = r.name) "
      "FROM recipe r WHERE r.removed_at IS NULL GROUP BY r.name ORDER BY r.name",
      {}, [&](const std::vector<SqlValue>& row) {
        RecipeListing item{Text(row[0]), Int(row[1]), Int(row[2]), Text(row[3]), Int(row[4]), std::nullopt};
        if (std::holds_alternative<std::string>(row[5])) item.last_run_at = Text(row[5]);
        list.push_back(std::move(item));
      });
  return list;
}

std::int64_t RemoveRecipe(Store& store, const std::string& name) {
  Store::Transaction transaction(store);
  const QueryResult removed = store.Query(
      "UPDATE recipe SET removed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
      "WHERE name = ?1 AND removed_at IS NULL RETURNING recipe_id",
      {name});
  transaction.Commit();
  return static_cast<std::int64_t>(removed.rows.size());
}

}  // namespace cohortdb

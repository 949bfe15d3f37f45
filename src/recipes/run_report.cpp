#include "recipes/run_report.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "analysis/analysis.h"
#include "common/error.h"
#include "recipes/recipe.h"
#include "recipes/result_output.h"
#include "store/provenance.h"
#include "store/recipe_store.h"

namespace cohortdb::recipes {
namespace {

struct KnownRecipe {
  StoredRecipe stored;
  Recipe recipe;
};

// The position of step "name" in "recipe", or nullopt.
std::optional<std::size_t> StepIndex(const Recipe& recipe, const std::string& name) {
  for (std::size_t i = 0; i < recipe.steps.size(); ++i) {
    if (recipe.steps[i].name == name) return i;
  }
  return std::nullopt;
}

// The recipe all "steps" ran from, when they are one recipe run (see
// RecordedRunsReport); nullptr otherwise.
const KnownRecipe* OneRecipeRun(const std::vector<ReportStep>& steps,
                                const std::map<std::int64_t, std::optional<KnownRecipe>>& recipes) {
  if (steps.empty() || !steps.front().run.recipe_id) return nullptr;
  const std::int64_t recipe_id = *steps.front().run.recipe_id;
  const auto known = recipes.find(recipe_id);
  if (known == recipes.end() || !known->second) return nullptr;
  std::optional<std::size_t> previous;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const AnalysisRunInfo& run = steps[i].run;
    if (run.recipe_id != recipe_id) return nullptr;
    if (i > 0 && run.run_id != steps[i - 1].run.run_id + 1) return nullptr;
    const auto index = StepIndex(known->second->recipe, run.recipe_step);
    if (!index || (previous && *index != *previous + 1)) return nullptr;
    previous = index;
  }
  return &*known->second;
}

}  // namespace

RunReport RecordedRunsReport(Store& store, const std::string& store_path,
                             const std::vector<std::int64_t>& run_ids) {
  RunReport report;
  report.store = store_path;
  // The recipe versions the runs came from, parsed once each; nullopt when a
  // version's text was changed outside cohortdb or no longer parses (an
  // option this build does not know): its runs are shown without it.
  std::map<std::int64_t, std::optional<KnownRecipe>> recipes;
  for (const std::int64_t id : run_ids) {
    auto run = LoadAnalysisRun(store, id);
    if (!run) {
      throw InputError(fmt::format("no analysis run {} in {} (`cohortdb results {}` lists them)", id,
                                   store_path, store_path));
    }
    ReportStep step;
    step.run = run->info;
    step.result = ResultOf(*run);
    if (auto why = analysis::RestoreRecordedPlot(step.result)) step.plot_missing = std::move(*why);
    if (const auto recipe_id = run->info.recipe_id) {
      auto [known, added] = recipes.try_emplace(*recipe_id);
      if (added) {
        if (auto stored = LoadRecipeVersion(store, *recipe_id); stored && RecipeDigestMatches(*stored)) {
          try {
            Recipe parsed = ParseRecipe(stored->body, stored->name);
            known->second = KnownRecipe{std::move(*stored), std::move(parsed)};
          } catch (const InputError&) {
            // not parsed: its runs are shown without the recipe
          }
        }
      }
      if (known->second) {
        if (const auto index = StepIndex(known->second->recipe, run->info.recipe_step)) {
          step.step = known->second->recipe.steps[*index];
        }
      }
    }
    report.steps.push_back(std::move(step));
  }
  if (const KnownRecipe* one = OneRecipeRun(report.steps, recipes)) {
    report.recipe = one->stored;
    report.title = one->recipe.title;
    report.description = one->recipe.description;
  }
  return report;
}

}  // namespace cohortdb::recipes

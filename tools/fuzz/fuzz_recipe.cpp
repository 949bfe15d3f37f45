// libFuzzer harness for the recipe parser: any text must either parse or
// throw InputError (never crash, never another exception). Parsing checks the
// analyses and their options against the registry without a store.
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "recipes/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    cohortdb::recipes::ParseRecipe(text, "fuzz.toml");
  } catch (const cohortdb::InputError&) {
  }
  return 0;
}

// The recipe parser on damaged input: thousands of deterministic byte-level
// mutations of the demo recipes (deleted, inserted, replaced and duplicated
// bytes, truncations) either parse or fail with one InputError line that
// names the source; nothing else escapes and nothing crashes.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "common/error.h"
#include "recipes/recipe.h"

namespace cohortdb {
namespace {

std::string ReadExample(const std::string& name) {
  std::ifstream in(std::string(COHORTDB_SOURCE_DIR) + "/examples/recipes/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Mutate(std::string text, std::mt19937_64& rng) {
  static const std::string kAlphabet = "[]{}=\"',.#\n\\ azAZ09_-<>;\x01\xff\xc3";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = rng() % text.size();
    switch (rng() % 5) {
      case 0:
        text.erase(at, 1 + rng() % 8);
        break;
      case 1:
        text.insert(at, 1, kAlphabet[rng() % kAlphabet.size()]);
        break;
      case 2:
        text[at] = kAlphabet[rng() % kAlphabet.size()];
        break;
      case 3:
        text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 40));
        break;
      default:
        text.resize(at);
        break;
    }
  }
  return text;
}

}  // namespace

TEST_CASE("damaged recipes fail with an InputError naming the source / never otherwise",
          "[recipes][parse][mutation]") {
  std::mt19937_64 rng(20261122);
  int parsed = 0;
  int refused = 0;
  for (const char* name : {"trial.toml", "cohort.toml", "meta.toml"}) {
    const std::string original = ReadExample(name);
    REQUIRE_FALSE(original.empty());
    REQUIRE_NOTHROW(recipes::ParseRecipe(original, name));
    for (int i = 0; i < 1500; ++i) {
      const std::string text = Mutate(original, rng);
      try {
        recipes::ParseRecipe(text, name);
        ++parsed;
      } catch (const InputError& e) {
        ++refused;
        const std::string message = e.what();
        INFO(text);
        CHECK(message.rfind(name, 0) == 0);
        CHECK(message.find('\n') == std::string::npos);
      } catch (const std::exception& e) {
        INFO(text);
        FAIL("unexpected exception: " << e.what());
      }
    }
  }
  // Both outcomes occur: the mutations are neither all harmless nor all fatal.
  CHECK(parsed > 100);
  CHECK(refused > 1000);
}

}  // namespace cohortdb

namespace cohortdb {

TEST_CASE("values with newlines are escaped so an error stays one line", "[recipes][parse]") {
  REQUIRE_THROWS_WITH(
      recipes::ParseRecipe("name = \"r\"\n[[step]]\nname = \"s\"\nanalysis = \"\"\"re\ngress\"\"\"\n",
                           "r.toml"),
      "r.toml:4:12: step \"s\": unknown analysis \"re\\ngress\" (known: describe, correlate, compare, "
      "regress, logistic, prevalence, mediate, meta, lmm, glm)");
  REQUIRE_THROWS_WITH(
      recipes::ParseRecipe("name = \"a\\nb\"\n", "r.toml"),
      "r.toml:1:8: recipe name \"a\\nb\" is not valid: expected 1 to 64 characters of letters, "
      "digits, '_', '.' or '-'");
}

}  // namespace cohortdb

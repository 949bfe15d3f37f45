// libFuzzer harness for the model formula parser (src/analysis/formula.h):
// any text must either parse or throw InputError (never crash, never another
// exception); a parsed formula's labels and variables must be computable.
#include <cstdint>
#include <string>

#include "analysis/formula.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const cohortdb::analysis::Formula f = cohortdb::analysis::ParseFormula(text);
    (void)f.Variables();
    for (const auto& t : f.terms) (void)t.Label();
    for (const auto& r : f.random) (void)r.Label();
  } catch (const cohortdb::InputError&) {
  }
  return 0;
}

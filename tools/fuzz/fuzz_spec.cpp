// libFuzzer harness for the import spec parser: any text must either parse
// or throw InputError (never crash, never another exception).
#include <cstdint>
#include <string>

#include "common/error.h"
#include "import/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    cohortdb::ParseSpec(text, "fuzz.toml");
  } catch (const cohortdb::InputError&) {
  }
  return 0;
}

// libFuzzer harness for the REDCap data-dictionary import: any bytes, as a
// dictionary file imported into an in-memory store (one store for the run,
// a new study per input: creating a store per input ran 9 inputs a second),
// must either load or throw InputError (never crash, never another
// exception); a refused dictionary creates no study.
#include <unistd.h>

#include <cstdint>
#include <string>

#include "common/error.h"
#include "import/dictionary.h"
#include "store/catalog.h"
#include "store/store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  char path[] = "/tmp/fuzz_dictionary_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  static cohortdb::Store store = cohortdb::Store::Create(":memory:");
  static std::uint64_t run = 0;
  const std::string study = "fuzz" + std::to_string(++run);
  try {
    cohortdb::ImportDictionary(store, study, path);
  } catch (const cohortdb::InputError&) {
    // All or nothing: a refused dictionary created no study.
    if (cohortdb::FindStudy(store, study)) __builtin_trap();
  }
  unlink(path);
  return 0;
}

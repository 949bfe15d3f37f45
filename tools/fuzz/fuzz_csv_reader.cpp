// libFuzzer harness for CsvReader: any bytes, with ',' or '\t' as delimiter
// (first byte picks), must either parse or throw InputError; never crash,
// and every record's fields must be consistent with its line number.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "import/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char delimiter = (data[0] & 1) ? '\t' : ',';
  char path[] = "/tmp/fuzz_csv_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data + 1, size - 1) != static_cast<ssize_t>(size - 1)) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  try {
    cohortdb::CsvReader reader(path, delimiter, "fuzz.csv");
    std::int64_t last_line = 0;
    while (const cohortdb::CsvRecord* r = reader.Next()) {
      if (r->line() <= last_line || r->size() == 0) __builtin_trap();
      last_line = r->line();
      for (std::size_t i = 0; i < r->size(); ++i) (void)(*r)[i].size();
    }
  } catch (const cohortdb::InputError&) {
  }
  unlink(path);
  return 0;
}

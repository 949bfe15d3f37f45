#include "common/output_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb {
namespace {

std::string Reason(int error) {
  return error == 0 ? std::string("input/output error") : std::strerror(error);
}

std::string After(std::string_view after) {
  return after.empty() ? std::string() : fmt::format("; {}", after);
}

}  // namespace

void CheckWritten(std::ostream& out, std::string_view what, std::string_view after) {
  errno = 0;
  if (out) out.flush();
  if (!out) throw OutputError(fmt::format("{}: write failed: {}{}", what, Reason(errno), After(after)));
}

void WriteOutputFile(const std::string& path, std::string_view text, std::string_view what,
                     std::string_view after) {
  // stdio rather than ofstream: fclose reports the error of the last flush.
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!file)
    throw OutputError(fmt::format("{}: cannot write '{}': {}{}", what, path, Reason(errno), After(after)));
  const bool written = std::fwrite(text.data(), 1, text.size(), file.get()) == text.size();
  int error = written ? 0 : errno;
  if (std::fclose(file.release()) != 0 && error == 0) error = errno == 0 ? EIO : errno;
  if (!written || error != 0) {
    throw OutputError(fmt::format("{}: cannot write '{}': {}{}", what, path, Reason(error), After(after)));
  }
}

void CheckOutputFileWritable(const std::string& path, std::string_view what, std::string_view after) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  if (std::filesystem::is_directory(path, ec)) {
    throw OutputError(fmt::format("{}: cannot write '{}': it is a directory{}", what, path, After(after)));
  }
  errno = 0;
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    throw OutputError(fmt::format("{}: cannot write '{}': {}{}", what, path, Reason(errno), After(after)));
  }
  std::fclose(file);
  if (!existed) std::filesystem::remove(path, ec);
}

}  // namespace cohortdb

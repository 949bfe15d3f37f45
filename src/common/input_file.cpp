#include "common/input_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb {

std::ifstream OpenInputFile(const std::string& path, std::string_view what) {
  // A directory opens as a stream on Linux and fails only when read.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(fmt::format("{}: {}: it is a directory", path, what));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
  return in;
}

}  // namespace cohortdb

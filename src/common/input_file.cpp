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

void RequireRegularFile(const std::string& path, std::string_view why) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_type type = fs::status(path, ec).type();
  if (ec || type == fs::file_type::regular || type == fs::file_type::directory || type == fs::file_type::not_found) {
    return;
  }
  const char* found = type == fs::file_type::fifo        ? "a pipe (FIFO)"
                      : type == fs::file_type::character ? "a character device"
                      : type == fs::file_type::block     ? "a block device"
                      : type == fs::file_type::socket    ? "a socket"
                                                         : "something other than a file";
  throw InputError(fmt::format("{}: expected a regular file, found {}: {}; save the data to a file first "
                               "(e.g. `cat > data.csv`)",
                               path, found, why));
}

}  // namespace cohortdb

#pragma once
// Opening a file the user named for reading, with a message a person can
// act on when that fails. Thread-safe.

#include <fstream>
#include <string>
#include <string_view>

namespace cohortdb {

// Opens "path" for binary reading. Throws InputError "PATH: WHAT: REASON",
// the reason being "it is a directory" or the system's (errno) text, e.g.
// "data.csv: cannot open file for reading: No such file or directory".
std::ifstream OpenInputFile(const std::string& path, std::string_view what);

// Throws InputError "PATH: expected a regular file, found a pipe (FIFO):
// WHY; save the data to a file first" for a pipe, FIFO, device or socket,
// without opening it (opening a FIFO blocks). Missing files and directories
// pass: OpenInputFile reports them.
void RequireRegularFile(const std::string& path, std::string_view why);

}  // namespace cohortdb

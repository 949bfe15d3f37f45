#pragma once
// Runs the cohortdb binary (or any shell command) from a test, with stdout
// and stderr captured in files of a TempDir. For tests only.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.h"

namespace cohortdb {

struct Output {
  int exit_code = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A word quoted for /bin/sh.
inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs "command" under /bin/sh with stdout and stderr captured.
inline Output Shell(const TempDir& dir, const std::string& command) {
  const std::string out = dir.File("stdout.txt");
  const std::string err = dir.File("stderr.txt");
  const int status = std::system((command + " >" + Quote(out) + " 2>" + Quote(err)).c_str());
  return Output{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
}

// Runs the cohortdb binary the tests were built with (COHORTDB_BINARY).
inline Output Cohortdb(const TempDir& dir, const std::string& args) {
  return Shell(dir, Quote(COHORTDB_BINARY) + " " + args);
}

}  // namespace cohortdb

#pragma once
// Errors raised by every cohortdb layer. Each carries the process exit code the
// CLI returns for it; only src/cli catches them. Messages are one line a person
// can act on: where (file:line:column, step, argument) and what was expected
// versus found.

#include <stdexcept>
#include <string>

namespace cohortdb {

// Documented process exit codes (README.md, "Exit codes").
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,   // a bug in cohortdb
  kUsage = 2,      // bad command line
  kInput = 3,      // bad input data, spec, recipe or query text
  kStore = 4,      // store missing, too new, tampered, locked, or a refused write
  kNumerical = 5,  // a model cannot be computed from the data given
  kOutput = 6,     // standard output or an output file could not be written
  kQuarantined = 7,  // import --quarantine loaded the good rows and kept rejected ones (not an error)
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// The command line is wrong (unknown option, missing argument).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(ExitCode::kUsage, message) {}
};

// Outside input is wrong: a CSV, a spec, a recipe, a query, a variable name.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ExitCode::kInput, message) {}
};

// The store cannot be used as asked: missing, newer schema, edited migration,
// SQLite failure, a write refused on a read-only connection.
class StoreError : public Error {
 public:
  explicit StoreError(const std::string& message) : Error(ExitCode::kStore, message) {}
};

// A statistic cannot be computed: too few rows, a constant column, a singular
// design. The message names the argument or term.
class NumericalError : public Error {
 public:
  explicit NumericalError(const std::string& message) : Error(ExitCode::kNumerical, message) {}
};

// Output could not be written: standard output, an --out or --plot file
// (disk full, no permission). The message says what became of the store.
class OutputError : public Error {
 public:
  explicit OutputError(const std::string& message) : Error(ExitCode::kOutput, message) {}
};

}  // namespace cohortdb

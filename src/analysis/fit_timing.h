#pragma once
// Timing of model fits for benchmarks: when the environment variable
// COHORTDB_FIT_TIMES names a file, each FitTimer appends one line
// "<what>\t<wall seconds>\t<CPU seconds of this thread>" to it when it goes
// out of scope, so that a benchmark can set the fits a command made against
// its end-to-end time (tools/bench/analyses: the recipe against one read plus
// its fits). Without the variable a FitTimer does nothing but read a clock.
// Not part of any result; not thread-safe across timers writing at once.

#include <chrono>
#include <ctime>
#include <string>

namespace cohortdb::analysis {

class FitTimer {
 public:
  explicit FitTimer(std::string what);
  ~FitTimer();
  FitTimer(const FitTimer&) = delete;
  FitTimer& operator=(const FitTimer&) = delete;

 private:
  std::string what_;
  std::chrono::steady_clock::time_point wall_start_;
  std::timespec cpu_start_{};
};

}  // namespace cohortdb::analysis

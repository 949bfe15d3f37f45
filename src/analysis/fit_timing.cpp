#include "analysis/fit_timing.h"

#include <cstdio>
#include <cstdlib>

namespace cohortdb::analysis {
namespace {

double Seconds(const std::timespec& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9; }

std::timespec ThreadCpuNow() {
  std::timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t;
}

}  // namespace

FitTimer::FitTimer(std::string what)
    : what_(std::move(what)), wall_start_(std::chrono::steady_clock::now()), cpu_start_(ThreadCpuNow()) {}

FitTimer::~FitTimer() {
  const char* path = std::getenv("COHORTDB_FIT_TIMES");
  if (path == nullptr || *path == '\0') return;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  const double cpu = Seconds(ThreadCpuNow()) - Seconds(cpu_start_);
  if (std::FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s\t%.6f\t%.6f\n", what_.c_str(), wall, cpu);
    std::fclose(f);
  }
}

}  // namespace cohortdb::analysis

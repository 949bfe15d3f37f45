// ParallelFor: every piece runs exactly once whatever the thread count, an
// exception in a piece reaches the caller after all threads stop, and
// COHORTDB_THREADS caps the threads (a bad value is ignored).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/parallel.h"

namespace cohortdb {

TEST_CASE("ParallelFor runs each piece once on up to COHORTDB_THREADS threads", "[common][parallel]") {
  for (const char* threads : {"1", "2", "7"}) {
    INFO("COHORTDB_THREADS=" << threads);
    setenv("COHORTDB_THREADS", threads, 1);
    CHECK(WorkerThreads() == static_cast<std::size_t>(std::atoi(threads)));
    std::vector<std::atomic<int>> calls(100);
    std::mutex mutex;
    std::set<std::thread::id> ids;
    ParallelFor(calls.size(), [&](std::size_t i) {
      ++calls[i];
      const std::lock_guard<std::mutex> lock(mutex);
      ids.insert(std::this_thread::get_id());
    });
    for (const auto& c : calls) CHECK(c.load() == 1);
    CHECK(ids.size() <= static_cast<std::size_t>(std::atoi(threads)));
    if (std::string(threads) == "1") CHECK(*ids.begin() == std::this_thread::get_id());
  }
  for (const char* bad : {"0", "-2", "two", "3x", ""}) {
    setenv("COHORTDB_THREADS", bad, 1);
    CHECK(WorkerThreads() >= 1);
    CHECK(WorkerThreads() == std::max<std::size_t>(1, std::thread::hardware_concurrency()));
  }
  unsetenv("COHORTDB_THREADS");
  ParallelFor(0, [](std::size_t) { FAIL("no piece to run"); });
}

TEST_CASE("ParallelFor passes the first exception of a piece to its caller", "[common][parallel]") {
  setenv("COHORTDB_THREADS", "4", 1);
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH(ParallelFor(16,
                                [&](std::size_t i) {
                                  ++ran;
                                  if (i == 5) throw std::runtime_error("piece 5 failed");
                                }),
                    "piece 5 failed");
  CHECK(ran.load() == 16);  // the other pieces still ran: no thread was left behind
  unsetenv("COHORTDB_THREADS");
}

}  // namespace cohortdb

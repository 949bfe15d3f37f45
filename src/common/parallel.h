#pragma once
// Runs independent pieces of one computation on several threads. The work is
// cut into a fixed number of pieces by the caller (not by the thread count),
// and each piece writes only its own output, so that results summed in piece
// order are the same bits on any machine and with any number of threads.
//
// The thread count is the hardware's (std::thread::hardware_concurrency),
// capped by the environment variable COHORTDB_THREADS when it holds a
// positive integer (COHORTDB_THREADS=1: everything on the calling thread).

#include <cstddef>
#include <functional>

namespace cohortdb {

// Threads ParallelFor may use: COHORTDB_THREADS when set to a positive
// integer, else the hardware's, at least 1.
std::size_t WorkerThreads();

// Calls body(0) ... body(pieces - 1), each exactly once, spread over up to
// WorkerThreads() threads (the calling thread included), and returns when all
// have returned. The first exception a call throws is rethrown here after
// every thread has stopped.
void ParallelFor(std::size_t pieces, const std::function<void(std::size_t)>& body);

}  // namespace cohortdb

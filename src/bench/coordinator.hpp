#pragma once
// The parts of a run that do not depend on what the loops do, shared by request runs
// (runner.cpp) and push runs (push_runner.cpp): worker processes that send their results back
// through a pipe, and the measured interval (every loop ready, one common start, server samples
// at the start and end of the interval, the progress line, Ctrl-C).

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "bench/options.hpp"
#include "bench/proc_sampler.hpp"
#include "bench/progress.hpp"
#include "bench/run_control.hpp"

namespace c10k::bench {

/// A forked worker process and the pipe its results come back through.
struct Worker {
    pid_t pid = -1;
    int pipe = -1;
    std::vector<std::uint8_t> bytes;
    bool done = false;
};

/// Forks a worker that runs `body` and writes what it returns to a pipe, then exits. The child
/// closes the pipes of `earlier` workers. Throws std::runtime_error when pipe or fork fails.
Worker fork_worker(const std::function<std::vector<std::uint8_t>()>& body,
                   const std::vector<Worker>& earlier);

/// Reads every worker's results, bounded by `deadline_ns` (monotonic); kills the workers still
/// running then, and reaps them all.
void collect_workers(std::vector<Worker>& workers, std::int64_t deadline_ns);

/// When the measured interval ran and what the server looked like at its ends.
struct MeasuredInterval {
    std::int64_t start_ns = 0;          ///< the common start of every loop (monotonic)
    std::int64_t measure_start_ns = 0;  ///< start + warm-up
    std::int64_t measure_end_ns = 0;    ///< the end actually reached (earlier when interrupted)
    ProcSample at_start;
    ProcSample at_end;
};

/// Waits until all `loops` are ready (bounded), publishes the common start, and sleeps through
/// warm-up and the measured interval, sampling `server_pids` at both ends of it (`before` stands
/// in when there is nothing to sample) and drawing progress. An interrupt ends the interval
/// early and tells the loops through stop_ns.
MeasuredInterval run_interval(const BenchOptions& options, std::uint32_t loops, RunControl& control,
                              Progress& progress, const std::vector<pid_t>& server_pids,
                              const ProcSample& before);

}  // namespace c10k::bench

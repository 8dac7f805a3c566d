#pragma once
// The top of a push run (`c10k bench --sse N URL` / `--long-poll N URL`): subscribers laid out
// over loops, processes and source addresses exactly as request connections are, one publisher
// thread, the common start and measured interval of request runs, and the arithmetic that turns
// every loop's counters and the publisher's acknowledgements into one report.

#include <vector>

#include "bench/runner.hpp"

namespace c10k::bench {

/// Checks the push options and resolves the subscribe URLs; throws std::invalid_argument with a
/// sentence a user can act on.
std::vector<Target> prepare_push_targets(const BenchOptions& options);

/// Runs a push benchmark (options.push.transport must not be none). Throws like run_bench().
/// Every wait is bounded: it returns within about warmup + duration + timeout plus the time to
/// open the subscribers, whatever the server does.
BenchReport run_push(const BenchOptions& options);

}  // namespace c10k::bench

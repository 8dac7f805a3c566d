#pragma once
// The top of a WebSocket echo run (`c10k bench --ws N URL --echo`): connections laid out over
// loops, processes and source addresses as request connections are, the common start and
// measured interval of request runs, and one report whose "requests" are echoed messages.

#include "bench/runner.hpp"

namespace c10k::bench {

/// Runs an echo benchmark (options.ws.echo; options.connections connections). Throws like
/// run_bench(); every wait is bounded in the same way.
BenchReport run_ws_echo(const BenchOptions& options);

}  // namespace c10k::bench

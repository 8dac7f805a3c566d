#pragma once
// How WebSocket runs are reported: the "websocket" member of the c10k-bench/1 JSON
// (docs/bench.md), the summary of an echo run (messages and their round trips, in the request
// summary's layout), and the WebSocket line of a push summary.

#include <string>

#include "bench/runner.hpp"

namespace c10k::bench {

/// `  "websocket": {...},\n`; "null" stands in when the run spoke no WebSocket.
std::string ws_json_member(const BenchReport& report);

/// The summary printed at the end of an echo run (`--ws N URL --echo`).
std::string format_ws_echo_summary(const BenchReport& report);

/// One line for a push summary: handshakes, compression agreed, how connections ended.
std::string format_ws_counters_line(const BenchReport& report);

}  // namespace c10k::bench

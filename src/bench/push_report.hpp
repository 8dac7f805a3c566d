#pragma once
// How a push run is reported: the human summary, the "push" member of the c10k-bench/1 JSON
// (docs/bench.md), and its own CSV columns. report.cpp calls these when BenchReport::push is set.

#include <string>

#include "bench/runner.hpp"

namespace c10k::bench {

/// The summary printed at the end of a push run.
std::string format_push_summary(const BenchReport& report);

/// `  "push": {...},\n` for the JSON report; "null" stands in on a request run.
std::string push_json_member(const BenchReport& report);

/// The CSV header (without a newline) of push runs: its columns differ from request runs'.
std::string push_csv_header();
/// One CSV line (without a newline) for a push run.
std::string format_push_csv_row(const BenchReport& report);

/// "sse", "long-poll" or "none".
const char* transport_name(PushTransport transport);

}  // namespace c10k::bench

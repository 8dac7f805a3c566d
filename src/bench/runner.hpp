#pragma once
// The top of `c10k bench`: turns options into loops (threads, and worker processes when the
// descriptor limit requires), opens connections, starts every schedule at one common instant,
// samples the server, shows progress, and gathers the results into one report.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "bench/push_stats.hpp"
#include "bench/stats.hpp"
#include "bench/ws_stats.hpp"

namespace c10k::bench {

/// Server-side figures from /proc over the measured interval (--server-pid).
struct ServerStats {
    std::vector<int> pids;
    std::uint32_t processes = 0;     ///< processes found in the trees at the end
    double cpu_s = 0;                ///< CPU seconds used during the measured interval
    double cpu_us_per_request = 0;   ///< cpu_s / requests, microseconds
    std::uint64_t rss_kb = 0;        ///< at the end of the measured interval
    std::uint64_t rss_kb_before = 0; ///< before the bench opened any connection
    double rss_bytes_per_connection = 0;  ///< (rss_kb - rss_kb_before) / connections open
};

/// How the run was laid out, for the report.
struct RunLayout {
    std::uint32_t processes = 1;
    std::uint32_t threads = 1;         ///< loops in all processes
    std::uint32_t source_addresses = 1;
};

struct BenchReport {
    BenchOptions options;
    RunLayout layout;
    RunStats stats;
    /// The measured interval actually run (shorter than asked when interrupted).
    double duration_s = 0;
    std::optional<ServerStats> server;
    /// Push runs only (--sse, --long-poll, --ws): deliveries, latency, losses, the publisher.
    std::optional<PushReport> push;
    /// WebSocket runs only (--ws, with or without --echo): handshakes, compression, closes.
    /// An echo run's messages are counted as requests in `stats`.
    std::optional<WsCounters> websocket;
    /// Things the reader should know (a worker died, connections missing...), one sentence each.
    std::vector<std::string> warnings;

    double rps() const { return duration_s > 0 ? stats.requests / duration_s : 0; }
};

/// Checks options and resolves the URLs; throws std::invalid_argument with a sentence a user
/// can act on ("'http//x': is not an http:// URL ...").
std::vector<Target> prepare_targets(const BenchOptions& options);

/// Runs the whole benchmark. Throws std::invalid_argument for bad options, std::runtime_error
/// when the run cannot be set up (no memory for the shared control block, fork failing).
/// Every wait is bounded: the call returns within about warmup + duration + timeout plus the
/// connect phase, whatever the server does.
BenchReport run_bench(const BenchOptions& options);

}  // namespace c10k::bench

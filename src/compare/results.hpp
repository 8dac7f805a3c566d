#pragma once
// What one compare run measured: a record per cell, failed cells included with their reason,
// and the facts about the machine that a reader needs to judge the numbers.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compare/matrix.hpp"

namespace c10k::compare {

/// The figures of one cell, taken from the load generator's c10k-bench/1 report and from
/// watching the server process. Latencies are corrected for coordinated omission (counted from
/// the intended send time).
struct CellResult {
    Cell cell;
    /// True when the server held all N connections with (almost) no errors for the measured
    /// interval; false with `failure` saying why otherwise.
    bool held = false;
    std::string failure;
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;  ///< bench errors plus responses other than 200
    std::map<std::string, std::uint64_t> errors_by_kind;
    std::map<std::string, std::uint64_t> status;
    double rps = 0;
    double duration_s = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t connections_failed = 0;
    double p50_us = 0;
    double p99_us = 0;
    double p999_us = 0;
    double cpu_s = 0;               ///< server utime+stime over the measured interval
    double cpu_us_per_request = 0;  ///< cpu_s / requests, the figure that holds still here
    double rss_kb = 0;              ///< server RSS with the connections open
    double rss_kb_before = 0;       ///< server RSS before any connection was opened
    double rss_bytes_per_connection = 0;
    std::uint32_t server_processes = 0;
    double wall_s = 0;              ///< how long the whole cell took, start to stop
    /// With a client deadline (the overload experiment): 200 responses within it, per second,
    /// and the p99 of the 200 responses alone (the admitted requests; fast 503s left out).
    std::uint64_t good = 0;
    double good_rps = 0;
    double ok_p99_us = 0;
    double deadline_ms = 0;         ///< 0: no deadline was given
    std::vector<std::string> warnings;

    /// Share of one core the server used during the measured interval (0..1 per core).
    double cpu_utilisation() const { return duration_s > 0 ? cpu_s / duration_s : 0; }
};

/// The machine and the code that produced the numbers.
struct RunInfo {
    std::string machine;    ///< host name and CPU model
    std::string kernel;     ///< uname -srv
    std::string commit;     ///< git rev-parse HEAD where available
    std::string started;    ///< UTC, ISO 8601
    unsigned cpus = 0;
    bool pinned = false;    ///< server on CPU 0 and load generator on CPU 1
    double wall_s = 0;
    std::map<std::string, std::string> versions;  ///< anchor name -> version line
};

struct Results {
    RunInfo info;
    Plan plan;
    std::vector<CellResult> cells;

    /// The open-loop cell of `server` at `size` and `connections`, or nullptr.
    const CellResult* find(const std::string& server, std::uint64_t size,
                           std::uint32_t connections) const {
        for (const auto& result : cells) {
            if (result.cell.experiment == Experiment::matrix &&
                result.cell.mode == LoadMode::open_loop && result.cell.server.name == server &&
                result.cell.size == size && result.cell.connections == connections) {
                return &result;
            }
        }
        return nullptr;
    }
    /// The maximum-throughput cell of `server` at `size`, or nullptr.
    const CellResult* find_max(const std::string& server, std::uint64_t size) const {
        for (const auto& result : cells) {
            if (result.cell.experiment == Experiment::matrix &&
                result.cell.mode == LoadMode::max_throughput && result.cell.server.name == server &&
                result.cell.size == size) {
                return &result;
            }
        }
        return nullptr;
    }
};

/// results.json ("c10k-compare/1"): the plan, the machine, every cell.
std::string format_results_json(const Results& results);
/// Reads back what format_results_json wrote (for tests and for re-drawing a report).
Results parse_results_json(const std::string& text);
/// results.csv: one row per cell, header first.
std::string format_results_csv(const Results& results);

}  // namespace c10k::compare

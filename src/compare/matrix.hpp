#pragma once
// The experiment of the seeds' micro-benchmark slide, as data: which servers, which response
// sizes, which connection counts, at what rate and for how long. A Plan is built once from the
// flags and the engines that work here, and expands into Cells that the runner measures one by
// one. Keeping the plan apart from running it lets the tests check what --quick means without
// starting a server.

#include <cstdint>
#include <string>
#include <vector>

namespace c10k::compare {

/// Whether a server is one of c10k's engines or an independent server used as an anchor.
enum class ServerKind { engine, anchor };

/// One server under test. `architecture` groups servers for the claims ("event-driven",
/// "polling", "thread per connection", "process per connection"), so that a verdict compares
/// architectures rather than names.
struct ServerSpec {
    std::string name;
    ServerKind kind = ServerKind::engine;
    std::string architecture;
    /// A configuration of the same server that an experiment compares ("overload 20ms",
    /// "no helpers", "aio threads"); empty for the server as the matrix runs it.
    std::string variant;
    /// Extra `c10k serve` flags of the variant (engines only; anchors read `variant`).
    std::vector<std::string> flags;

    /// The name a report shows: "epoll" or "epoll (overload 20ms)".
    std::string label() const { return variant.empty() ? name : name + " (" + variant + ")"; }
};

/// Which experiment a run measures (docs/COMPARE.md): the architecture matrix of the seeds'
/// slide, the overload ramp, cached requests while the disk is busy, or the cache and
/// sendfile switches at low and high concurrency.
enum class Experiment { matrix, overload, disk, caching };

std::string experiment_name(Experiment experiment);
/// Throws std::invalid_argument naming the known experiments.
Experiment parse_experiment(const std::string& text);

/// Open loop at the plan's rate over N connections (the slide's experiment), or closed loop over
/// a few connections to find the most a server can do on one core.
enum class LoadMode { open_loop, max_throughput };

/// One measurement: one server, one response size, one connection count, one load mode.
struct Cell {
    ServerSpec server;
    std::uint64_t size = 0;
    std::uint32_t connections = 0;
    LoadMode mode = LoadMode::open_loop;
    /// The experiments' own coordinates; the matrix leaves them empty.
    Experiment experiment = Experiment::matrix;
    /// What the cell's load was: "capacity" or "ramp" (overload), "idle", "busy" or "cold"
    /// (disk), empty otherwise.
    std::string phase;
    double rate = 0;         ///< open-loop requests/s of this cell (0: the plan's rate)
    double load_factor = 0;  ///< overload ramp: offered load / measured capacity
};

/// Parameters of the experiments other than the matrix (docs/COMPARE.md has the reasons for
/// the defaults).
struct ExperimentSettings {
    std::uint32_t cost_us = 1000;              ///< overload: CPU burned per /cost/N request
    std::int64_t overload_target_ms = 20;      ///< overload: --overload-target of the variant
    std::int64_t deadline_ms = 200;            ///< overload: a 200 slower than this is not good
    std::vector<double> load_factors{0.5, 1, 1.5, 2, 3};
    std::uint32_t capacity_connections = 16;   ///< overload: closed loop finding the capacity
    std::uint32_t disk_files = 64;             ///< disk: the cold data set's files...
    std::uint64_t disk_file_size = 16u << 20;  ///< ...and their size (1 GiB in all)
    std::uint32_t cold_connections = 8;        ///< disk: readers of the cold set...
    /// ...and the files per second they fetch in all, open loop (0: closed loop, as fast as
    /// they can). Paced by default: unpaced, loopback sendfile of gigabytes a second fills the
    /// server's CPU, and the cached requests' p99 measures that, not the disk.
    double cold_rate = 8;
    std::string data_dir;                      ///< disk: where the cold set is written
};

/// What the flags asked for; empty lists mean "the default for this mode".
struct PlanOptions {
    bool quick = false;
    std::vector<std::string> engines;   ///< empty: every available engine (quick: a subset)
    std::vector<std::string> anchors;   ///< empty: nginx, h2o, lighttpd; {"none"}: no anchors
    std::vector<std::uint32_t> connections;
    std::vector<std::uint64_t> sizes;
    double rate = 2000;
    std::int64_t warmup_ms = -1;        ///< -1: the mode's default
    std::int64_t duration_ms = -1;      ///< -1: the mode's default
    bool max_throughput = true;         ///< also the closed-loop cell per server and size
    Experiment experiment = Experiment::matrix;
    ExperimentSettings settings;
};

struct Plan {
    std::vector<ServerSpec> servers;
    std::vector<std::uint32_t> connections;  ///< ascending
    std::vector<std::uint64_t> sizes;        ///< ascending
    double rate = 2000;
    std::int64_t warmup_ms = 0;
    std::int64_t duration_ms = 0;
    bool quick = false;
    bool max_throughput = true;
    /// Closed-loop connections of the maximum-throughput cells (wrk's usual figure).
    std::uint32_t max_throughput_connections = 50;
    Experiment experiment = Experiment::matrix;
    ExperimentSettings settings;
    /// Sentences about what was left out and why (an engine unavailable, an anchor missing).
    std::vector<std::string> notes;

    /// Every cell, grouped by size, then server, then connections ascending, then the
    /// maximum-throughput cell, so that a partial run still covers whole lines of a chart.
    std::vector<Cell> cells() const;
    /// A rough wall-clock estimate: warm-up, measurement and a per-cell overhead for start,
    /// connect and stop, so that the user knows before starting whether it fits the time.
    double estimated_seconds() const;
};

/// Default grid of the full run: the slide's range and one step beyond 10,000.
inline const std::vector<std::uint32_t> kDefaultConnections{100, 1000, 5000, 10000, 15000};
/// The slide's two response sizes: 128 bytes and 10 KB.
inline const std::vector<std::uint64_t> kDefaultSizes{128, 10240};
/// The anchors compare knows how to configure.
inline const std::vector<std::string> kKnownAnchors{"nginx", "h2o", "lighttpd"};

/// The architecture of a server by its name (engines and anchors alike).
std::string architecture_of(const std::string& name, ServerKind kind);

/// Builds the plan. `available_engines` are the engines that work here (engine::available()),
/// `known_engines` every engine c10k has; `anchor_installed` tells whether an anchor's binary
/// exists. Throws std::invalid_argument on an unknown engine or anchor, or an empty grid.
Plan make_plan(const PlanOptions& options, const std::vector<std::string>& available_engines,
               const std::vector<std::string>& known_engines,
               bool (*anchor_installed)(const std::string& name));

/// Parses "100,1000,5000" into numbers; throws std::invalid_argument naming `flag` on junk.
std::vector<std::uint64_t> parse_number_list(const std::string& flag, const std::string& text);
/// Splits "a,b,c" into names, dropping empty items.
std::vector<std::string> parse_name_list(const std::string& text);

}  // namespace c10k::compare

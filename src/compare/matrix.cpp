#include "compare/matrix.hpp"
#include "compare/experiments.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/core.h>

namespace c10k::compare {

namespace {

/// --quick measures one engine of each architecture the seeds argue about, so that it
/// answers the question in a few minutes rather than the whole grid.
const std::vector<std::string> kQuickEngines{"epoll", "poll", "select", "thread", "staged"};

// Full run: 2 s of warm-up (after connecting, which is not timed) and 6 s measured. At 2,000
// requests/s that is 12,000 requests per cell, enough for a p99.9 of 12 samples; with 12
// servers x 2 sizes x 6 cells, and per-connection engines that take a minute to fail at 15,000
// connections, the whole run stays near 40 minutes on this machine.
constexpr std::int64_t kFullWarmupMs = 2000;
constexpr std::int64_t kFullDurationMs = 6000;
constexpr std::int64_t kQuickWarmupMs = 1000;
constexpr std::int64_t kQuickDurationMs = 4000;

bool contains(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

std::string architecture_of(const std::string& name, ServerKind kind) {
    if (kind == ServerKind::anchor) return "event-driven";
    if (name == "poll" || name == "select") return "polling";
    if (name == "thread") return "thread per connection";
    if (name == "fork" || name == "prefork") return "process per connection";
    if (name == "epoll" || name == "epoll-lt" || name == "sigio" || name == "uring") {
        return "event-driven";
    }
    // Event loops for the sockets, thread pools for the work (SEDA): its own kind, so that the
    // claims about event-driven servers stay about the pure event loop.
    if (name == "staged") return "staged";
    return "other";
}

std::string experiment_name(Experiment experiment) {
    switch (experiment) {
        case Experiment::overload: return "overload";
        case Experiment::disk: return "disk";
        case Experiment::caching: return "caching";
        default: return "matrix";
    }
}

Experiment parse_experiment(const std::string& text) {
    for (auto e : {Experiment::matrix, Experiment::overload, Experiment::disk, Experiment::caching}) {
        if (text == experiment_name(e)) return e;
    }
    throw std::invalid_argument(fmt::format(
        "--experiment: unknown experiment '{}' (known: matrix, overload, disk, caching)", text));
}

std::vector<Cell> Plan::cells() const {
    std::vector<Cell> result;
    // The other experiments decide their cells while running (the overload ramp needs the
    // measured capacity first): see compare/experiments.hpp.
    if (experiment != Experiment::matrix) return result;
    for (auto size : sizes) {
        for (const auto& server : servers) {
            for (auto n : connections) result.push_back({server, size, n, LoadMode::open_loop});
            if (max_throughput) {
                result.push_back(
                    {server, size, max_throughput_connections, LoadMode::max_throughput});
            }
        }
    }
    return result;
}

double Plan::estimated_seconds() const {
    if (experiment != Experiment::matrix) return experiment_estimated_seconds(*this);
    double total = 0;
    for (const auto& cell : cells()) {
        // Start, readiness, connect (about 5,000 connects a second here) and stop.
        total += 2.0 + cell.connections / 5000.0;
        total += static_cast<double>(warmup_ms + duration_ms) / 1000.0;
    }
    return total;
}

std::vector<std::uint64_t> parse_number_list(const std::string& flag, const std::string& text) {
    std::vector<std::uint64_t> numbers;
    for (const auto& item : parse_name_list(text)) {
        std::uint64_t value = 0;
        auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (error != std::errc() || end != item.data() + item.size() || value == 0) {
            throw std::invalid_argument(
                fmt::format("{}: '{}' is not a positive whole number", flag, item));
        }
        numbers.push_back(value);
    }
    if (numbers.empty()) throw std::invalid_argument(flag + ": the list is empty");
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    return numbers;
}

std::vector<std::string> parse_name_list(const std::string& text) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(start, comma - start);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) names.push_back(item);
        start = comma + 1;
    }
    return names;
}

Plan make_plan(const PlanOptions& options, const std::vector<std::string>& available_engines,
               const std::vector<std::string>& known_engines,
               bool (*anchor_installed)(const std::string& name)) {
    if (options.experiment != Experiment::matrix) {
        return make_experiment_plan(options, available_engines, anchor_installed);
    }
    Plan plan;
    plan.quick = options.quick;
    plan.rate = options.rate;
    plan.max_throughput = options.max_throughput;
    if (!(options.rate > 0)) throw std::invalid_argument("--rate must be above 0");

    std::vector<std::string> engines = options.engines;
    if (engines.empty()) {
        for (const auto& name : available_engines) {
            if (!options.quick || contains(kQuickEngines, name)) engines.push_back(name);
        }
    }
    for (const auto& name : engines) {
        if (!contains(known_engines, name)) {
            throw std::invalid_argument(fmt::format("--engines: unknown engine '{}'", name));
        }
        if (!contains(available_engines, name)) {
            plan.notes.push_back(fmt::format("engine {} skipped: it does not work here", name));
            continue;
        }
        plan.servers.push_back({name, ServerKind::engine, architecture_of(name, ServerKind::engine)});
    }

    std::vector<std::string> anchors = options.anchors;
    if (anchors.empty()) anchors = kKnownAnchors;
    if (anchors.size() == 1 && anchors[0] == "none") anchors.clear();
    for (const auto& name : anchors) {
        if (!contains(kKnownAnchors, name)) {
            throw std::invalid_argument(fmt::format(
                "--anchors: unknown anchor '{}' (known: nginx, h2o, lighttpd, or none)", name));
        }
        if (anchor_installed != nullptr && !anchor_installed(name)) {
            plan.notes.push_back(fmt::format("anchor {} skipped: not installed", name));
            continue;
        }
        plan.servers.push_back({name, ServerKind::anchor, architecture_of(name, ServerKind::anchor)});
    }
    if (plan.servers.empty()) throw std::invalid_argument("no server to measure");

    if (!options.connections.empty()) {
        plan.connections = options.connections;
        std::sort(plan.connections.begin(), plan.connections.end());
    } else if (options.quick) {
        plan.connections = {100, 1000};
    } else {
        plan.connections = kDefaultConnections;
    }
    if (!options.sizes.empty()) {
        plan.sizes = options.sizes;
        std::sort(plan.sizes.begin(), plan.sizes.end());
    } else if (options.quick) {
        plan.sizes = {128};
    } else {
        plan.sizes = kDefaultSizes;
    }
    plan.warmup_ms = options.warmup_ms >= 0 ? options.warmup_ms
                                            : (options.quick ? kQuickWarmupMs : kFullWarmupMs);
    plan.duration_ms = options.duration_ms > 0
                           ? options.duration_ms
                           : (options.quick ? kQuickDurationMs : kFullDurationMs);
    return plan;
}

}  // namespace c10k::compare

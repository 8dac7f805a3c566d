#include "compare/experiments.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/core.h>

namespace c10k::compare {

namespace {

// Each experiment's default grid and interval. The overload ramp needs enough connections that
// 3x the capacity can be offered without each connection queueing behind itself; the caching
// experiment takes the matrix's low and high ends.
const std::vector<std::uint32_t> kOverloadConnections{200};
const std::vector<std::uint32_t> kDiskConnections{20};
const std::vector<std::uint32_t> kCachingConnections{100, 10000};
constexpr double kDiskRate = 500;  // cached requests/s: light, so that their p99 is the loop's
constexpr std::int64_t kWarmupMs = 1000;
constexpr std::int64_t kDurationMs = 6000;

bool contains(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

ServerSpec engine(const std::string& name, const std::string& variant,
                  std::vector<std::string> flags) {
    return {name, ServerKind::engine, architecture_of(name, ServerKind::engine), variant,
            std::move(flags)};
}

std::vector<std::string> engines_of(const PlanOptions& options,
                                    const std::vector<std::string>& fallback,
                                    const std::vector<std::string>& available, Plan& plan) {
    std::vector<std::string> wanted = options.engines.empty() ? fallback : options.engines;
    std::vector<std::string> out;
    for (const auto& name : wanted) {
        if (contains(available, name)) {
            out.push_back(name);
        } else {
            plan.notes.push_back(fmt::format("engine {} skipped: it does not work here", name));
        }
    }
    return out;
}

std::vector<std::string> anchors_of(const PlanOptions& options) {
    std::vector<std::string> anchors = options.anchors;
    if (anchors.empty()) anchors = kKnownAnchors;
    if (anchors.size() == 1 && anchors[0] == "none") anchors.clear();
    for (const auto& name : anchors) {
        if (!contains(kKnownAnchors, name)) {
            throw std::invalid_argument(fmt::format(
                "--anchors: unknown anchor '{}' (known: nginx, h2o, lighttpd, or none)", name));
        }
    }
    return anchors;
}

/// The variant under which an anchor burns --cost per request in the overload experiment
/// (compare/servers.cpp writes the handler), or empty where none is configured.
std::string cost_variant_of(const std::string& anchor) {
    if (anchor == "nginx") return "perl";
    if (anchor == "h2o") return "mruby";
    return {};
}

}  // namespace

Plan make_experiment_plan(const PlanOptions& options,
                          const std::vector<std::string>& available_engines,
                          bool (*anchor_installed)(const std::string& name)) {
    Plan plan;
    plan.experiment = options.experiment;
    plan.settings = options.settings;
    plan.quick = options.quick;
    plan.rate = options.rate;
    plan.max_throughput = false;
    if (!(options.rate > 0)) throw std::invalid_argument("--rate must be above 0");
    const auto& s = options.settings;
    auto anchors = anchors_of(options);
    switch (options.experiment) {
        case Experiment::overload: {
            if (s.load_factors.empty())
                throw std::invalid_argument("--load-factors: the list is empty");
            std::string target = fmt::format("{}ms", s.overload_target_ms);
            std::vector<std::string> cost = {"--synthetic-cost", kCostPrefix};
            for (const auto& name :
                 engines_of(options, kOverloadEngines, available_engines, plan)) {
                plan.servers.push_back(engine(name, "", cost));
                auto with = cost;
                with.insert(with.end(), {"--overload-target", target});
                plan.servers.push_back(engine(name, "overload " + target, with));
            }
            // The anchors burn the same CPU per request in their own scripting module, on
            // their own event loop, as --synthetic-cost does on c10k's: nginx in its embedded
            // Perl, h2o in its mruby. Neither has overload control; lighttpd is left out (no
            // such module is configured for it).
            for (const auto& name : anchors) {
                std::string variant = cost_variant_of(name);
                if (variant.empty()) {
                    plan.notes.push_back(fmt::format(
                        "anchor {} not run in the overload experiment: no scripting module is "
                        "configured to burn a set amount of CPU per request in it (nginx uses "
                        "its Perl module, h2o its mruby)",
                        name));
                    continue;
                }
                if (anchor_installed != nullptr && !anchor_installed(name)) {
                    plan.notes.push_back(fmt::format("anchor {} skipped: not installed", name));
                    continue;
                }
                ServerSpec spec{name, ServerKind::anchor, architecture_of(name, ServerKind::anchor)};
                spec.variant = variant;
                plan.servers.push_back(spec);
            }
            plan.connections = kOverloadConnections;
            break;
        }
        case Experiment::disk: {
            for (const auto& name : engines_of(options, {"epoll"}, available_engines, plan)) {
                plan.servers.push_back(engine(name, "", {}));
                plan.servers.push_back(engine(name, "no helpers", {"--no-helpers"}));
            }
            for (const auto& name : anchors) {
                if (name != "nginx") {
                    plan.notes.push_back(fmt::format(
                        "anchor {} not run in the disk experiment: only nginx's aio threads is "
                        "configured as the counterpart of c10k's disk helpers",
                        name));
                } else if (anchor_installed != nullptr && !anchor_installed(name)) {
                    plan.notes.push_back("anchor nginx skipped: not installed");
                } else {
                    ServerSpec base{name, ServerKind::anchor,
                                    architecture_of(name, ServerKind::anchor)};
                    plan.servers.push_back(base);
                    base.variant = "aio threads";
                    plan.servers.push_back(base);
                }
            }
            plan.connections = kDiskConnections;
            if (options.rate == 2000) plan.rate = kDiskRate;
            break;
        }
        case Experiment::caching: {
            for (const auto& name : engines_of(options, {"epoll"}, available_engines, plan)) {
                plan.servers.push_back(engine(name, "", {}));
                plan.servers.push_back(engine(name, "no cache", {"--no-cache"}));
                plan.servers.push_back(engine(name, "no sendfile", {"--no-sendfile"}));
                plan.servers.push_back(
                    engine(name, "no cache, no sendfile", {"--no-cache", "--no-sendfile"}));
            }
            if (!anchors.empty()) {
                plan.notes.push_back(
                    "anchors not run in the caching experiment: it switches "
                    "c10k's own cache and sendfile");
            }
            plan.connections = kCachingConnections;
            break;
        }
        default:
            throw std::invalid_argument("not an experiment beside the matrix");
    }
    if (plan.servers.empty()) throw std::invalid_argument("no server to measure");
    if (!options.connections.empty()) {
        plan.connections = options.connections;
        std::sort(plan.connections.begin(), plan.connections.end());
    }
    plan.sizes = options.sizes.empty() ? std::vector<std::uint64_t>{128} : options.sizes;
    std::sort(plan.sizes.begin(), plan.sizes.end());
    plan.warmup_ms = options.warmup_ms >= 0 ? options.warmup_ms : kWarmupMs;
    plan.duration_ms = options.duration_ms > 0 ? options.duration_ms : kDurationMs;
    return plan;
}

double experiment_estimated_seconds(const Plan& plan) {
    double cell = 2.0 + static_cast<double>(plan.warmup_ms + plan.duration_ms) / 1000.0;
    double servers = static_cast<double>(plan.servers.size());
    switch (plan.experiment) {
        case Experiment::overload:
            // One capacity cell per engine (half the variants), then the ramp per variant.
            return servers / 2 * cell +
                   servers * static_cast<double>(plan.settings.load_factors.size()) * cell;
        case Experiment::disk:
            return servers * 2 * cell + 10;  // idle, busy; writing the data set
        case Experiment::caching:
            return servers * static_cast<double>(plan.connections.size() * plan.sizes.size()) *
                   cell;
        default:
            return 0;
    }
}

std::vector<double> ramp_rates(double capacity, const std::vector<double>& factors) {
    std::vector<double> rates;
    if (!(capacity > 0)) return rates;
    for (double f : factors) rates.push_back(std::round(capacity * f));
    return rates;
}

std::vector<GoodputPoint> goodput_curve(const Results& results, const std::string& label) {
    std::vector<GoodputPoint> curve;
    for (const auto& r : results.cells) {
        if (r.cell.experiment != Experiment::overload || r.cell.phase != "ramp" ||
            r.cell.server.label() != label) {
            continue;
        }
        curve.push_back({r.cell.load_factor, r.cell.rate, r.good_rps, r.ok_p99_us, r.held});
    }
    std::sort(curve.begin(), curve.end(),
              [](const auto& a, const auto& b) { return a.load_factor < b.load_factor; });
    return curve;
}

double peak_goodput(const std::vector<GoodputPoint>& curve) {
    double peak = 0;
    for (const auto& p : curve) {
        if (p.measured) peak = std::max(peak, p.good_rps);
    }
    return peak;
}

std::optional<GoodputPoint> point_at(const std::vector<GoodputPoint>& curve, double factor) {
    for (const auto& p : curve) {
        if (p.measured && std::abs(p.load_factor - factor) < 1e-6) return p;
    }
    return std::nullopt;
}

const CellResult* find_experiment_cell(const Results& results, const std::string& label,
                                       const std::string& phase, double load_factor,
                                       std::uint32_t connections) {
    for (const auto& r : results.cells) {
        if (r.cell.server.label() == label && r.cell.phase == phase &&
            (load_factor == 0 || std::abs(r.cell.load_factor - load_factor) < 1e-6) &&
            (connections == 0 || r.cell.connections == connections)) {
            return &r;
        }
    }
    return nullptr;
}

std::vector<std::string> cell_labels(const Results& results) {
    std::vector<std::string> labels;
    for (const auto& r : results.cells) {
        if (!contains(labels, r.cell.server.label())) labels.push_back(r.cell.server.label());
    }
    return labels;
}

}  // namespace c10k::compare

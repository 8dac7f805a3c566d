#include "bench/runner.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "bench/coordinator.hpp"
#include "bench/layout.hpp"
#include "bench/proc_sampler.hpp"
#include "bench/progress.hpp"
#include "bench/push_runner.hpp"
#include "bench/run_control.hpp"
#include "bench/ws_echo_runner.hpp"
#include "core/clock.hpp"

namespace c10k::bench {
namespace {

/// Runs `count` loops starting at `first` in threads of this process and merges their stats.
RunStats run_loops(const BenchOptions& options, const std::vector<Target>& targets,
                   const LoopPlan& plan, std::uint32_t first, std::uint32_t count,
                   SharedControl& shared) {
    std::vector<RunStats> results(count);
    std::vector<std::thread> threads;
    for (std::uint32_t i = 0; i < count; ++i) {
        threads.emplace_back([&, i] {
            ClientLoop loop(options, targets, plan.loops[first + i], options.connections,
                            shared.control(), shared.live(first + i));
            results[i] = loop.run();
        });
    }
    for (auto& thread : threads) thread.join();
    RunStats merged;
    for (const auto& result : results) merged.merge(result);
    return merged;
}

}  // namespace

std::vector<Target> prepare_targets(const BenchOptions& options) {
    if (options.urls.empty()) throw std::invalid_argument("no URL given");
    if (options.connections == 0 && options.idle == 0) {
        throw std::invalid_argument("--connections must be at least 1");
    }
    if (options.rate < 0 || !std::isfinite(options.rate)) {
        throw std::invalid_argument("--rate must be a positive number of requests per second");
    }
    if (options.duration_ns <= 0) throw std::invalid_argument("--duration must be positive");
    if (options.timeout_ns <= 0 || options.connect_timeout_ns <= 0) {
        throw std::invalid_argument("timeouts must be positive");
    }
    if (options.threads == 0) throw std::invalid_argument("--threads must be at least 1");
    if (options.rate > 0 && options.connections > 0 && options.rate / options.connections > 1e6) {
        throw std::invalid_argument("--rate per connection above 1,000,000/s is not meaningful");
    }
    std::vector<Target> targets;
    for (const auto& url : options.urls) {
        Target target;
        std::string error;
        if (!make_target(url, options.request, target, error)) throw std::invalid_argument(error);
        targets.push_back(std::move(target));
    }
    return targets;
}

BenchReport run_bench(const BenchOptions& options) {
    if (options.ws.echo) return run_ws_echo(options);
    if (options.push.transport != PushTransport::none) return run_push(options);
    BenchReport report;
    report.options = options;
    std::vector<Target> targets = prepare_targets(options);
    LoopPlan plan = plan_loops(options, targets, raise_descriptor_limit(), ephemeral_port_budget());
    report.layout = plan.layout;
    report.warnings = plan.warnings;
    std::vector<pid_t> server_pids(options.server_pids.begin(), options.server_pids.end());
    ProcSample before = server_pids.empty() ? ProcSample{} : sample_processes(server_pids);

    SharedControl shared(plan.layout.threads);
    RunControl& control = shared.control();
    std::vector<Worker> workers;
    std::thread local;
    RunStats local_stats;
    if (plan.layout.processes == 1) {
        local = std::thread([&] {
            local_stats = run_loops(options, targets, plan, 0, plan.layout.threads, shared);
        });
    } else {
        for (std::uint32_t p = 0; p < plan.layout.processes; ++p) {
            workers.push_back(fork_worker(
                [&, p] {
                    return run_loops(options, targets, plan, p * plan.loops_per_process,
                                     plan.loops_per_process, shared)
                        .serialize();
                },
                workers));
        }
    }

    Progress progress(options.progress, shared);
    MeasuredInterval interval =
        run_interval(options, plan.layout.threads, control, progress, server_pids, before);
    const ProcSample& at_start = interval.at_start;
    const ProcSample& at_end = interval.at_end;
    std::int64_t measure_start = interval.measure_start_ns;
    std::int64_t measure_end = interval.measure_end_ns;

    // Loops now drain (bounded by --timeout) and close; workers then send their results.
    if (local.joinable()) {
        local.join();
        report.stats = std::move(local_stats);
    } else {
        collect_workers(workers, core::monotonic_ns() + options.timeout_ns + 60'000'000'000LL);
        for (std::size_t p = 0; p < workers.size(); ++p) {
            RunStats stats;
            if (!stats.deserialize(workers[p].bytes)) {
                report.warnings.push_back(fmt::format(
                    "worker process {} of {} sent no results (it died or timed out); its "
                    "connections are missing from the figures", p + 1, workers.size()));
                continue;
            }
            report.stats.merge(stats);
        }
    }
    report.duration_s = static_cast<double>(measure_end - measure_start) / 1e9;
    if (!server_pids.empty()) {
        ServerStats server;
        server.pids.assign(server_pids.begin(), server_pids.end());
        server.processes = at_end.processes;
        server.cpu_s = std::max(0.0, at_end.cpu_s - at_start.cpu_s);
        server.cpu_us_per_request =
            report.stats.requests ? server.cpu_s * 1e6 / report.stats.requests : 0;
        server.rss_kb = at_end.rss_kb;
        server.rss_kb_before = before.rss_kb;
        if (report.stats.connections_open > 0) {
            server.rss_bytes_per_connection =
                (static_cast<double>(at_end.rss_kb) - static_cast<double>(before.rss_kb)) * 1024.0 /
                static_cast<double>(report.stats.connections_open);
        }
        if (at_end.processes == 0) {
            report.warnings.push_back("no server process found for --server-pid");
        }
        report.server = server;
    }
    if (report.stats.connections_open < report.stats.connections_target &&
        !options.new_connection_per_request) {
        report.warnings.push_back(fmt::format("only {} of {} connections were open at the end",
                                              report.stats.connections_open,
                                              report.stats.connections_target));
    }
    return report;
}

}  // namespace c10k::bench

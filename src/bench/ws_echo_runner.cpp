#include "bench/ws_echo_runner.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "bench/coordinator.hpp"
#include "bench/layout.hpp"
#include "bench/ws_echo_loop.hpp"
#include "core/clock.hpp"

namespace c10k::bench {
namespace {

/// Runs `count` loops from `first` in threads of this process and merges their counters.
WsEchoStats run_echo_loops(const BenchOptions& options, const std::vector<Target>& targets,
                           const LoopPlan& plan, std::uint32_t first, std::uint32_t count,
                           SharedControl& shared) {
    std::vector<WsEchoStats> results(count);
    std::vector<std::thread> threads;
    for (std::uint32_t i = 0; i < count; ++i) {
        threads.emplace_back([&, i] {
            WsEchoLoop loop(options, targets, plan.loops[first + i], options.connections,
                            plan.layout.threads, shared.control(), shared.live(first + i));
            results[i] = loop.run();
        });
    }
    for (auto& thread : threads) thread.join();
    WsEchoStats merged;
    for (const auto& result : results) merged.merge(result);
    return merged;
}

/// The options an echo run uses: no idle connections, no pipelining, no HTTP body.
BenchOptions echo_options(const BenchOptions& given) {
    BenchOptions out = given;
    out.idle = 0;
    out.pipeline = 1;
    out.new_connection_per_request = false;
    out.request.method = "GET";
    out.request.body.clear();
    out.request.close_after = false;
    return out;
}

}  // namespace

BenchReport run_ws_echo(const BenchOptions& given) {
    BenchOptions options = echo_options(given);
    if (options.ws.message_size > (16u << 20)) {
        throw std::invalid_argument("--message-size above 16 MiB is not supported with --echo");
    }
    std::vector<Target> targets = prepare_targets(options);
    BenchReport report;
    report.options = options;
    LoopPlan plan = plan_loops(options, targets, raise_descriptor_limit(), ephemeral_port_budget());
    report.layout = plan.layout;
    report.warnings = plan.warnings;
    std::vector<pid_t> server_pids(options.server_pids.begin(), options.server_pids.end());
    ProcSample before = server_pids.empty() ? ProcSample{} : sample_processes(server_pids);

    SharedControl shared(plan.layout.threads);
    std::vector<Worker> workers;
    std::thread local;
    WsEchoStats local_stats;
    if (plan.layout.processes == 1) {
        local = std::thread([&] {
            local_stats = run_echo_loops(options, targets, plan, 0, plan.layout.threads, shared);
        });
    } else {
        for (std::uint32_t p = 0; p < plan.layout.processes; ++p) {
            workers.push_back(fork_worker(
                [&, p] {
                    return run_echo_loops(options, targets, plan, p * plan.loops_per_process,
                                          plan.loops_per_process, shared)
                        .serialize();
                },
                workers));
        }
    }

    Progress progress(options.progress, shared, "messages/s");
    MeasuredInterval interval =
        run_interval(options, plan.layout.threads, shared.control(), progress, server_pids, before);
    WsEchoStats stats;
    if (local.joinable()) {
        local.join();
        stats = std::move(local_stats);
    } else {
        collect_workers(workers, core::monotonic_ns() + options.timeout_ns + 60'000'000'000LL);
        for (std::size_t p = 0; p < workers.size(); ++p) {
            WsEchoStats part;
            if (!part.deserialize(workers[p].bytes)) {
                report.warnings.push_back(fmt::format(
                    "worker process {} of {} sent no results (it died or timed out); its "
                    "connections are missing from the figures",
                    p + 1, workers.size()));
                continue;
            }
            stats.merge(part);
        }
    }
    report.stats = std::move(stats.run);
    report.websocket = std::move(stats.ws);
    report.duration_s =
        static_cast<double>(interval.measure_end_ns - interval.measure_start_ns) / 1e9;
    if (!server_pids.empty()) {
        ServerStats server;
        server.pids.assign(server_pids.begin(), server_pids.end());
        server.processes = interval.at_end.processes;
        server.cpu_s = std::max(0.0, interval.at_end.cpu_s - interval.at_start.cpu_s);
        server.cpu_us_per_request =
            report.stats.requests ? server.cpu_s * 1e6 / report.stats.requests : 0;
        server.rss_kb = interval.at_end.rss_kb;
        server.rss_kb_before = before.rss_kb;
        if (report.stats.connections_open > 0) {
            server.rss_bytes_per_connection =
                (static_cast<double>(interval.at_end.rss_kb) - static_cast<double>(before.rss_kb)) *
                1024.0 / static_cast<double>(report.stats.connections_open);
        }
        if (interval.at_end.processes == 0) {
            report.warnings.push_back("no server process found for --server-pid");
        }
        report.server = server;
    }
    const RunStats& s = report.stats;
    if (s.connections_open < s.connections_target) {
        report.warnings.push_back(fmt::format("only {} of {} connections were open at the end",
                                              s.connections_open, s.connections_target));
    }
    if (report.websocket->bad_echoes > 0) {
        report.warnings.push_back(
            fmt::format("{} echoes were not the message sent next on their connection",
                        report.websocket->bad_echoes));
    }
    return report;
}

}  // namespace c10k::bench

#include "bench/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "bench/layout.hpp"
#include "bench/proc_sampler.hpp"
#include "bench/progress.hpp"
#include "bench/run_control.hpp"
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

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

/// A forked worker process and the pipe its results come back through.
struct Worker {
    pid_t pid = -1;
    int pipe = -1;
    std::vector<std::uint8_t> bytes;
    bool done = false;
};

/// Reads every worker's results, bounded by `deadline_ns`; kills the workers still running then.
void collect_workers(std::vector<Worker>& workers, std::int64_t deadline_ns) {
    while (true) {
        std::vector<pollfd> fds;
        for (auto& worker : workers) {
            if (!worker.done) fds.push_back(pollfd{worker.pipe, POLLIN, 0});
        }
        if (fds.empty()) break;
        std::int64_t left_ms = (deadline_ns - core::monotonic_ns()) / 1'000'000;
        if (left_ms <= 0) break;
        if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<std::int64_t>(left_ms, 1000))) < 0 &&
            errno != EINTR) {
            break;
        }
        for (auto& worker : workers) {
            if (worker.done) continue;
            std::uint8_t buffer[65536];
            ssize_t n = ::read(worker.pipe, buffer, sizeof buffer);
            if (n > 0) {
                worker.bytes.insert(worker.bytes.end(), buffer, buffer + n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                worker.done = true;
            }
        }
    }
    for (auto& worker : workers) {
        if (!worker.done) ::kill(worker.pid, SIGKILL);  // our own child, past its deadline
        ::close(worker.pipe);
        int status = 0;
        ::waitpid(worker.pid, &status, 0);
    }
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
            int fds[2];
            if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe() failed");
            pid_t pid = ::fork();
            if (pid < 0) throw std::runtime_error(fmt::format("fork() failed: {}", std::strerror(errno)));
            if (pid == 0) {
                ::close(fds[0]);
                for (auto& worker : workers) ::close(worker.pipe);
                RunStats stats = run_loops(options, targets, plan, p * plan.loops_per_process,
                                           plan.loops_per_process, shared);
                auto bytes = stats.serialize();
                _exit(write_all(fds[1], bytes.data(), bytes.size()) ? 0 : 1);
            }
            ::close(fds[1]);
            workers.push_back(Worker{pid, fds[0], {}, false});
        }
    }

    // Start only when every loop has opened its connections, so that connecting (which may
    // take seconds for 100,000) is not measured. Each loop bounds its own connects; this bound
    // only guards against a loop that never reports.
    Progress progress(options.progress, shared);
    // Each loop bounds its own connects (--connect-timeout each); this bound only guards
    // against a loop that never reports. Late loops join the schedule when they are ready.
    std::int64_t ready_deadline =
        core::monotonic_ns() + 2 * options.connect_timeout_ns + 30'000'000'000LL;
    auto interrupted = [&] { return options.interrupted != nullptr && options.interrupted->load(); };
    while (control.ready.load() < plan.layout.threads && core::monotonic_ns() < ready_deadline &&
           !interrupted()) {
        progress.connecting();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::int64_t start = core::monotonic_ns() + 20'000'000;
    control.start_ns.store(start);
    std::int64_t measure_start = start + options.warmup_ns;
    std::int64_t measure_end = measure_start + options.duration_ns;
    ProcSample at_start = before;
    bool sampled_start = false;
    while (true) {
        std::int64_t now = core::monotonic_ns();
        if (interrupted() && control.stop_ns.load() == 0) {
            control.stop_ns.store(now);
            measure_end = std::max(std::min(measure_end, now), measure_start);
        }
        if (!sampled_start && now >= measure_start) {
            if (!server_pids.empty()) at_start = sample_processes(server_pids);
            sampled_start = true;
        }
        if (now >= measure_end) break;
        progress.running(now - start);
        std::int64_t next = sampled_start ? measure_end : measure_start;
        std::int64_t step = std::min<std::int64_t>(next - now, 50'000'000);
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(step, 0)));
    }
    if (!sampled_start && !server_pids.empty()) at_start = sample_processes(server_pids);
    ProcSample at_end = server_pids.empty() ? ProcSample{} : sample_processes(server_pids);
    progress.finish();

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

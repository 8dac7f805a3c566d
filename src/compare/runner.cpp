#include "compare/runner.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "compare/json.hpp"
#include "compare/servers.hpp"

namespace c10k::compare {

namespace {

using Clock = std::chrono::steady_clock;

/// A cell fails when more than this share of its requests failed; below it the errors are
/// reported as a warning (one reset among 16,000 requests is noise, not an inability to serve).
constexpr double kMaxErrorShare = 0.01;
/// A cell fails when fewer than this share of its connections were open at the end.
constexpr double kMinOpenShare = 0.99;
/// select() can watch descriptors below this number only (glibc's FD_SETSIZE).
constexpr std::uint32_t kFdSetSize = 1024;
/// Prefork needs one worker process per connection it holds. Tried at 15,000 here, every new
/// connection woke all idle workers (poll on the shared listener: the thundering herd), the
/// load average passed 4,000 and the cell took minutes, starving everyone on this shared
/// 2-core machine; so above this many workers the cell is recorded as failed, not attempted.
constexpr std::uint32_t kMaxPreforkWorkers = 5000;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string first_line(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {};
    char line[512] = {};
    std::string out = std::fgets(line, sizeof line, pipe) ? line : "";
    ::pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string join_counts(const std::map<std::string, std::uint64_t>& counts,
                        const std::string& prefix = "") {
    std::string out;
    for (const auto& [key, count] : counts) {
        if (count == 0) continue;
        out += fmt::format("{}{}{} {}", out.empty() ? "" : ", ", prefix, key, count);
    }
    return out;
}

std::string cell_label(const Cell& cell) {
    if (cell.mode == LoadMode::max_throughput) {
        return fmt::format("{} {} B, max throughput ({} conns)", cell.server.name, cell.size,
                           cell.connections);
    }
    return fmt::format("{} {} B x {} conns", cell.server.name, cell.size, cell.connections);
}

std::string cell_outcome(const CellResult& r) {
    if (!r.held) return "FAILED: " + r.failure;
    return fmt::format("{:.1f} us/req, p99 {:.2f} ms, {:.0f} req/s, {:.0f} B/conn",
                       r.cpu_us_per_request, r.p99_us / 1000.0, r.rps, r.rss_bytes_per_connection);
}

/// The load generator is this same binary's `bench` subcommand in its own process, pinned to
/// CPU 1, writing its JSON report to a file. A separate process, not the bench library called
/// in-process, because (1) a crash or hang of the load generator at 15,000 connections then
/// fails one cell and not the whole 40-minute run, (2) its descriptors, memory and signal
/// handling are its own and start clean for every cell, and (3) it is exactly the tool a user
/// would run by hand, so every cell can be reproduced from the command line in the log.
std::vector<std::string> bench_command(const Plan& plan, const Cell& cell,
                                       const RunnerOptions& options, int port, pid_t server,
                                       const std::string& json_path) {
    std::vector<std::string> argv = {
        options.c10k_binary, "bench", fmt::format("http://127.0.0.1:{}/{}.txt", port, cell.size),
        "-c", std::to_string(cell.connections),
        "--warmup", fmt::format("{}ms", plan.warmup_ms),
        "-d", fmt::format("{}ms", plan.duration_ms),
        "--server-pid", std::to_string(server),
        "--timeout", "5s", "--connect-timeout", "5s",
        "--json", json_path, "-q"};
    if (cell.mode == LoadMode::open_loop) {
        argv.push_back("--rate");
        argv.push_back(fmt::format("{}", plan.rate));
    }
    return argv;
}

CellResult run_cell(const Plan& plan, const Cell& cell, const RunnerOptions& options,
                    const std::string& work, int server_cpu, int client_cpu) {
    auto started = Clock::now();
    CellResult result;
    result.cell = cell;
    if (cell.server.name == "prefork" && cell.connections > kMaxPreforkWorkers) {
        result.failure = fmt::format(
            "not attempted: prefork needs one worker process per connection, and above {} "
            "workers its accept() thundering herd overloads this shared machine (load average "
            "above 4,000 at 15,000 workers)",
            kMaxPreforkWorkers);
        return result;
    }
    LaunchOptions launch;
    launch.c10k_binary = options.c10k_binary;
    launch.root = work + "/root";
    launch.work_dir = work;
    launch.cpu = server_cpu;
    launch.connections = cell.connections;
    std::unique_ptr<ServerProcess> server;
    try {
        server = ServerProcess::start(cell.server, launch);
    } catch (const std::exception& e) {
        result.failure = fmt::format("server could not be started: {}", e.what());
        return result;
    }
    std::string error;
    // Prefork with one worker per connection forks thousands of processes before it answers.
    int ready_ms = 10'000 + static_cast<int>(cell.connections);
    if (!server->wait_ready(fmt::format("/{}.txt", cell.size), ready_ms, error)) {
        result.failure = error;
        return result;
    }
    std::string json_path = work + "/bench.json";
    std::filesystem::remove(json_path);
    auto argv = bench_command(plan, cell, options, server->port(), server->pid(), json_path);
    pid_t bench = spawn_process(argv, work + "/bench.log", client_cpu);
    // Connecting is not timed by the bench; allow about 500 connects a second for it, far
    // below what a healthy server does, plus the 5 s drain and a margin.
    auto limit = std::chrono::seconds((plan.warmup_ms + plan.duration_ms) / 1000 + 30 +
                                      cell.connections / 500);
    int status = wait_bounded(bench, limit);
    std::string server_exit;
    server->exited(server_exit);
    std::string json = read_file(json_path);
    if (status == -1) {
        result.failure = fmt::format("load generator did not finish within {} s (killed)",
                                     limit.count());
    } else if (json.empty()) {
        result.failure = fmt::format("load generator failed ({}) without a report: {}",
                                     WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                     first_line("tail -n 1 " + work + "/bench.log"));
    } else {
        try {
            CellResult measured = cell_from_bench_json(cell, json);
            measured.failure.clear();
            judge_cell(measured, server_exit);
            result = measured;
        } catch (const std::exception& e) {
            result.failure = fmt::format("unreadable load generator report: {}", e.what());
        }
    }
    if (!server_exit.empty() && result.failure.empty()) {
        result.held = false;
        result.failure = fmt::format("server exited during the run ({})", server_exit);
    }
    if (!result.held && !server_exit.empty()) result.warnings.push_back(server->log_tail());
    server->stop();
    result.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
}

}  // namespace

/// Every size gets a file SIZE.txt of printable bytes; the same files for every server.
void make_docroot(const std::string& root, const std::vector<std::uint64_t>& sizes) {
    std::filesystem::create_directories(root);
    for (auto size : sizes) {
        std::string body(size, 'x');
        for (std::uint64_t i = 63; i < size; i += 64) body[i] = '\n';
        std::ofstream(fmt::format("{}/{}.txt", root, size), std::ios::trunc) << body;
    }
    // Readable by the unprivileged workers nginx, h2o and lighttpd switch to when run as root.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        ::chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
    }
    std::filesystem::path up = root;
    while (up.has_parent_path() && up != up.root_path()) {
        up = up.parent_path();
        if (up.string().rfind("/tmp/c10k-compare", 0) == 0) ::chmod(up.c_str(), 0755);
    }
}

/// Waits for `pid` up to `timeout`; kills it past that. Returns the wait status, or -1 when it
/// had to be killed.
int wait_bounded(pid_t pid, std::chrono::seconds timeout) {
    auto deadline = Clock::now() + timeout;
    int status = 0;
    while (Clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

CellResult cell_from_bench_json(const Cell& cell, const std::string& text) {
    Json report = parse_json(text);
    if (string_at(report, "schema") != "c10k-bench/1") {
        throw std::runtime_error("not a c10k-bench/1 report");
    }
    CellResult r;
    r.cell = cell;
    r.requests = count_at(report, "requests");
    r.rps = number_at(report, "rps");
    r.duration_s = number_at(report, "duration_s");
    const Json& connections = member(report, "connections");
    r.connections_open = count_at(connections, "open");
    r.connections_failed = count_at(connections, "failed");
    const Json& errors = member(report, "errors");
    const Json& by_kind = member(errors, "by_kind");
    if (by_kind.is_object()) {
        for (const auto& item : by_kind.items()) {
            r.errors_by_kind[item.key()] = count_at(by_kind, item.key());
        }
    }
    r.errors = count_at(errors, "total");
    const Json& status = member(report, "status");
    if (status.is_object()) {
        for (const auto& item : status.items()) {
            const std::string& code = item.key();
            r.status[code] = count_at(status, code);
            // A 503 from a capped engine is an answer but not the page asked for.
            if (code != "200") {
                r.errors += r.status[code];
                if (r.requests >= r.status[code]) r.requests -= r.status[code];
            }
        }
    }
    const Json& latency = member(member(report, "latency_us"), "corrected");
    r.p50_us = number_at(latency, "p50");
    r.p99_us = number_at(latency, "p99");
    r.p999_us = number_at(latency, "p999");
    // "deadline" is null unless the bench was given --deadline.
    const Json& deadline = member(report, "deadline");
    if (deadline.is_object()) {
        r.deadline_ms = number_at(deadline, "deadline_s") * 1000.0;
        r.good = count_at(deadline, "good");
        r.good_rps = number_at(deadline, "good_rps");
        r.ok_p99_us = number_at(member(deadline, "ok_latency_us"), "p99");
    }
    // "server" is null when the load generator was not told which process to watch.
    const Json& server = member(report, "server");
    r.cpu_s = number_at(server, "cpu_s");
    r.cpu_us_per_request = r.requests > 0 ? r.cpu_s * 1e6 / static_cast<double>(r.requests) : 0;
    r.rss_kb = number_at(server, "rss_kb");
    r.rss_kb_before = number_at(server, "rss_kb_before");
    r.rss_bytes_per_connection = number_at(server, "rss_bytes_per_conn");
    r.server_processes = static_cast<std::uint32_t>(count_at(server, "processes"));
    const Json& warnings = member(report, "warnings");
    if (warnings.is_array()) {
        for (const auto& warning : warnings) r.warnings.push_back(warning.get<std::string>());
    }
    return r;
}

void judge_cell(CellResult& r, const std::string& server_exit) {
    std::vector<std::string> reasons;
    if (!server_exit.empty()) reasons.push_back("server exited during the run (" + server_exit + ")");
    std::uint64_t n = r.cell.connections;
    if (r.connections_failed > 0) {
        reasons.push_back(fmt::format("{} of {} connections could not connect", r.connections_failed, n));
    } else if (static_cast<double>(r.connections_open) < kMinOpenShare * static_cast<double>(n)) {
        reasons.push_back(fmt::format("only {} of {} connections open at the end",
                                      r.connections_open, n));
    }
    double attempted = static_cast<double>(r.requests + r.errors);
    std::string kinds = join_counts(r.errors_by_kind);
    std::map<std::string, std::uint64_t> other_status;
    for (const auto& [code, count] : r.status) {
        if (code != "200") other_status[code] = count;
    }
    std::string statuses = join_counts(other_status, "status ");
    std::string detail = kinds + (kinds.empty() || statuses.empty() ? "" : ", ") + statuses;
    if (r.requests == 0) {
        reasons.push_back(fmt::format("no request succeeded ({})", detail.empty() ? "none sent" : detail));
    } else if (attempted > 0 && static_cast<double>(r.errors) > kMaxErrorShare * attempted) {
        reasons.push_back(fmt::format("{} of {} requests failed ({})", r.errors,
                                      static_cast<std::uint64_t>(attempted), detail));
    } else if (r.errors > 0) {
        r.warnings.push_back(fmt::format("{} errors ({})", r.errors, detail));
    }
    if (r.requests > 0 && r.cpu_s <= 0) {
        // The bench clamps a negative difference to 0: processes of the tree exited during the
        // interval and took their CPU time with them (into a parent's cutime, not sampled).
        r.warnings.push_back("server CPU not measurable: server processes exited during the "
                             "interval");
    }
    r.held = reasons.empty();
    if (r.held) {
        r.failure.clear();
        return;
    }
    std::string text;
    for (const auto& reason : reasons) text += (text.empty() ? "" : "; ") + reason;
    // Name the architectural limit where the counts point at it.
    const std::string& name = r.cell.server.name;
    if (name == "select" && n + 16 >= kFdSetSize) {
        text = "descriptors above FD_SETSIZE refused: " + text;
    } else if ((name == "thread" || name == "fork" || name == "prefork") &&
               (other_status.count("503") || r.connections_failed > 0)) {
        text = "per-connection thread/process cap or creation limit: " + text;
    }
    r.failure = text;
}

RunInfo describe_machine(const std::string& source_dir) {
    RunInfo info;
    utsname names{};
    ::uname(&names);
    info.kernel = fmt::format("{} {} {}", names.sysname, names.release, names.version);
    std::string model = first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    model.erase(0, model.find_first_not_of(' '));
    info.cpus = std::thread::hardware_concurrency();
    long memory_pages = ::sysconf(_SC_PHYS_PAGES);
    double memory_gb = static_cast<double>(memory_pages) * ::sysconf(_SC_PAGESIZE) / (1 << 30);
    info.machine = fmt::format("{} ({}, {} CPUs, {:.0f} GiB)", names.nodename,
                               model.empty() ? names.machine : model, info.cpus, memory_gb);
    info.commit = first_line(fmt::format("git -C '{}' rev-parse HEAD 2>/dev/null", source_dir));
    if (info.commit.empty()) info.commit = "unknown (not a git checkout)";
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    info.started = stamp;
    return info;
}

std::string begin_run(const Plan& plan, Results& results) {
    results.plan = plan;
    results.info = describe_machine(std::filesystem::current_path().string());
    for (const auto& server : plan.servers) {
        if (server.kind == ServerKind::anchor) {
            results.info.versions[server.name] = anchor_version(server.name);
        }
    }
    char pattern[] = "/tmp/c10k-compare-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

Results run_plan(const Plan& plan, const RunnerOptions& options) {
    Results results;
    std::string work = begin_run(plan, results);
    make_docroot(work + "/root", plan.sizes);
    become_subreaper();
    ::signal(SIGPIPE, SIG_IGN);

    // Server on CPU 0, load generator on CPU 1, compare itself beside the load generator.
    bool pin = std::thread::hardware_concurrency() >= 2;
    int server_cpu = pin ? 0 : -1;
    int client_cpu = pin ? 1 : -1;
    results.info.pinned = pin;
    if (pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(1, &set);
        ::sched_setaffinity(0, sizeof set, &set);
    }

    auto cells = plan.cells();
    auto started = Clock::now();
    double estimate = plan.estimated_seconds();
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const Cell& cell = cells[i];
        double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
        double left = i == 0 ? estimate : elapsed / static_cast<double>(i) * (cells.size() - i);
        std::string head = fmt::format("[{:>3}/{}, ~{:.0f} min left] {}", i + 1, cells.size(),
                                       left / 60.0, cell_label(cell));
        if (options.progress && options.progress_tty) {
            std::fprintf(stderr, "\r\033[K%s: measuring", head.c_str());
            std::fflush(stderr);
        }
        CellResult result = run_cell(plan, cell, options, work, server_cpu, client_cpu);
        if (options.progress) {
            std::fprintf(stderr, "%s%s: %s\n", options.progress_tty ? "\r\033[K" : "",
                         head.c_str(), cell_outcome(result).c_str());
            std::fflush(stderr);
        }
        results.cells.push_back(std::move(result));
    }
    results.info.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    std::error_code ignored;
    std::filesystem::remove_all(work, ignored);
    return results;
}

}  // namespace c10k::compare

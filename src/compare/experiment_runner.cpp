// Runs the overload, disk and caching experiments: the same parts as the matrix's runner (a
// fresh server pinned to CPU 0, `c10k bench` processes on CPU 1 writing JSON reports), put
// together per experiment. A failing cell is recorded with its reason and the run goes on.

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "compare/experiments.hpp"
#include "compare/runner.hpp"
#include "compare/servers.hpp"

namespace c10k::compare {

namespace {

using Clock = std::chrono::steady_clock;
/// The disk experiment's cold readers and evictions, beside the measured cached load.
constexpr int kBackgroundNice = 10;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Context {
    const Plan& plan;
    const RunnerOptions& options;
    std::string work;
    int server_cpu = -1;
    int client_cpu = -1;
    Results& results;
};

/// A started bench process and where its report goes.
struct BenchRun {
    pid_t pid = -1;
    std::string json_path;
    std::string log_path;
    std::chrono::seconds limit{0};
    bool reaped = false;  ///< already waited for (the disk experiment polls it)
    int status = 0;
};

BenchRun start_bench(const Context& ctx, const std::string& tag, std::vector<std::string> args,
                     const ServerProcess& server, std::int64_t warmup_ms,
                     std::int64_t duration_ms, int nice = 0) {
    BenchRun run;
    run.json_path = fmt::format("{}/bench-{}.json", ctx.work, tag);
    run.log_path = fmt::format("{}/bench-{}.log", ctx.work, tag);
    std::filesystem::remove(run.json_path);
    std::vector<std::string> argv = {ctx.options.c10k_binary, "bench"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(),
                {"--warmup", fmt::format("{}ms", warmup_ms), "-d", fmt::format("{}ms", duration_ms),
                 "--server-pid", std::to_string(server.pid()), "--timeout", "5s",
                 "--connect-timeout", "5s", "--json", run.json_path, "-q"});
    run.limit = std::chrono::seconds((warmup_ms + duration_ms) / 1000 + 30);
    run.pid = spawn_process(argv, run.log_path, ctx.client_cpu, nice);
    return run;
}

/// Waits for the bench and reads its report into a cell; `server_exit` non-empty when the
/// server died meanwhile. `strict` judges as the matrix does (errors fail the cell); the
/// overload ramp is not strict, because refusals and timeouts are what it measures.
CellResult finish_bench(const Cell& cell, BenchRun& run, ServerProcess& server, bool strict) {
    CellResult result;
    result.cell = cell;
    int status = run.reaped ? run.status : wait_bounded(run.pid, run.limit);
    std::string server_exit;
    server.exited(server_exit);
    std::string json = slurp(run.json_path);
    if (status == -1) {
        result.failure =
            fmt::format("load generator did not finish within {} s (killed)", run.limit.count());
        return result;
    }
    if (json.empty()) {
        result.failure = "load generator failed without a report (see " + run.log_path + ")";
        return result;
    }
    try {
        result = cell_from_bench_json(cell, json);
    } catch (const std::exception& e) {
        result.failure = fmt::format("unreadable load generator report: {}", e.what());
        return result;
    }
    if (strict) {
        judge_cell(result, server_exit);
    } else if (!server_exit.empty()) {
        result.failure = "server exited during the run (" + server_exit + ")";
    } else if (result.requests == 0 && result.errors == 0) {
        result.failure = "no response at all";
    } else {
        result.held = true;
        if (result.errors > 0) {
            result.warnings.push_back(
                fmt::format("{} responses other than 200 or failed "
                            "requests (what overload does)",
                            result.errors));
        }
    }
    return result;
}

std::unique_ptr<ServerProcess> start_server(const Context& ctx, const ServerSpec& spec,
                                            const std::string& root, std::uint32_t connections,
                                            const std::string& ready_path, std::string& error) {
    LaunchOptions launch;
    launch.c10k_binary = ctx.options.c10k_binary;
    launch.root = root;
    launch.work_dir = ctx.work;
    launch.cpu = ctx.server_cpu;
    launch.connections = connections;
    std::unique_ptr<ServerProcess> server;
    try {
        server = ServerProcess::start(spec, launch);
    } catch (const std::exception& e) {
        error = fmt::format("server could not be started: {}", e.what());
        return nullptr;
    }
    if (!server->wait_ready(ready_path, 10'000, error)) return nullptr;
    return server;
}

void record(Context& ctx, CellResult result, Clock::time_point started) {
    result.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    if (ctx.options.progress) {
        std::string what =
            result.held
                ? fmt::format("{:.0f} req/s, p99 {:.2f} ms{}", result.rps, result.p99_us / 1000.0,
                              result.deadline_ms > 0
                                  ? fmt::format(", goodput {:.0f}/s", result.good_rps)
                                  : "")
                : "FAILED: " + result.failure;
        std::fprintf(stderr, "[%s] %s %s%s: %s\n", experiment_name(result.cell.experiment).c_str(),
                     result.cell.server.label().c_str(), result.cell.phase.c_str(),
                     result.cell.load_factor > 0
                         ? fmt::format(" {:g}x", result.cell.load_factor).c_str()
                         : "",
                     what.c_str());
    }
    ctx.results.cells.push_back(std::move(result));
}

CellResult failed(const Cell& cell, const std::string& why) {
    CellResult r;
    r.cell = cell;
    r.failure = why;
    return r;
}

// ---- overload -------------------------------------------------------------------------------

void run_overload(Context& ctx) {
    const auto& plan = ctx.plan;
    const auto& s = plan.settings;
    std::string root = ctx.work + "/root";
    std::string cost_path = fmt::format("{}/{}", kCostPrefix, s.cost_us);
    std::uint32_t connections = plan.connections.front();
    std::string ready = fmt::format("/{}.txt", plan.sizes.front());
    for (const auto& base : plan.servers) {
        // An engine's plain server is measured for its capacity and its variants are offered
        // the same loads; an anchor (its one variant burns the cost) is its own group.
        bool anchor = base.kind == ServerKind::anchor;
        if (!base.variant.empty() && !anchor) continue;
        // Capacity: closed loop on the server without overload control; every variant of this
        // engine is then offered the same loads, so that their goodput compares.
        auto started = Clock::now();
        Cell capacity_cell{
            base,      0, s.capacity_connections, LoadMode::max_throughput, Experiment::overload,
            "capacity"};
        std::string error;
        double capacity = 0;
        if (auto server = start_server(ctx, base, root, s.capacity_connections, ready, error)) {
            auto run = start_bench(ctx, "capacity",
                                   {fmt::format("http://127.0.0.1:{}{}", server->port(), cost_path),
                                    "-c", std::to_string(s.capacity_connections)},
                                   *server, plan.warmup_ms, plan.duration_ms);
            CellResult r = finish_bench(capacity_cell, run, *server, true);
            server->stop();
            if (r.held && r.duration_s > 0)
                capacity = static_cast<double>(r.requests) / r.duration_s;
            record(ctx, std::move(r), started);
        } else {
            record(ctx, failed(capacity_cell, error), started);
        }
        auto rates = ramp_rates(capacity, s.load_factors);
        // Each connection has one request in flight, so at most `connections` requests wait at
        // the server; beyond that the queue forms in the load generator, where no overload
        // control can see it. Say so when the server's queue cannot reach the target.
        double server_queue_ms = capacity > 0 ? connections * 1000.0 / capacity : 0;
        if (capacity > 0 && server_queue_ms < 2.0 * static_cast<double>(s.overload_target_ms)) {
            ctx.results.plan.notes.push_back(fmt::format(
                "{}: {} connections queue at most {:.0f} ms of work at the server (capacity {:.0f} "
                "req/s), under twice the {} ms overload target: the backlog forms in the load "
                "generator instead; give more --connections",
                base.name, connections, server_queue_ms, capacity, s.overload_target_ms));
        }
        for (const auto& spec : plan.servers) {
            if (spec.name != base.name || spec.kind != base.kind) continue;
            for (std::size_t i = 0; i < s.load_factors.size(); ++i) {
                auto cell_started = Clock::now();
                Cell cell{spec,
                          0,
                          connections,
                          LoadMode::open_loop,
                          Experiment::overload,
                          "ramp",
                          rates.empty() ? 0 : rates[i],
                          s.load_factors[i]};
                if (rates.empty()) {
                    record(ctx, failed(cell, "not run: the capacity could not be measured"),
                           cell_started);
                    continue;
                }
                auto server = start_server(ctx, spec, root, connections, ready, error);
                if (!server) {
                    record(ctx, failed(cell, error), cell_started);
                    continue;
                }
                auto run = start_bench(
                    ctx, "ramp",
                    {fmt::format("http://127.0.0.1:{}{}", server->port(), cost_path), "-c",
                     std::to_string(connections), "--rate", fmt::format("{:g}", rates[i]),
                     "--deadline", fmt::format("{}ms", s.deadline_ms)},
                    *server, plan.warmup_ms, plan.duration_ms);
                CellResult r = finish_bench(cell, run, *server, false);
                server->stop();
                record(ctx, std::move(r), cell_started);
            }
        }
    }
}

// ---- disk -----------------------------------------------------------------------------------

/// The cold data set: files of printable bytes, flushed so that their pages are clean and can
/// be evicted. Written once; every server reads the same files.
std::vector<std::string> write_cold_set(const std::string& dir, const ExperimentSettings& s) {
    std::filesystem::create_directories(dir + "/cold");
    std::string chunk(1 << 20, 'c');
    for (std::size_t i = 63; i < chunk.size(); i += 64) chunk[i] = '\n';
    std::vector<std::string> paths;
    for (std::uint32_t i = 0; i < s.disk_files; ++i) {
        std::string name = fmt::format("cold/{}.bin", i);
        std::string path = dir + "/" + name;
        std::error_code error;
        if (std::filesystem::file_size(path, error) != s.disk_file_size) {
            std::ofstream out(path, std::ios::trunc | std::ios::binary);
            for (std::uint64_t left = s.disk_file_size; left > 0;) {
                auto n = std::min<std::uint64_t>(left, chunk.size());
                out.write(chunk.data(), static_cast<std::streamsize>(n));
                left -= n;
            }
            if (!out) throw std::runtime_error("cannot write the cold data set at " + path);
        }
        ::chmod(path.c_str(), 0644);
        paths.push_back("/" + name);
    }
    ::sync();  // dirty pages cannot be evicted
    return paths;
}

/// `c10k evict --quiet DIR`, bounded; its summary line, for the report.
std::string evict(const Context& ctx, const std::string& dir) {
    std::string log = ctx.work + "/evict.log";
    ::truncate(log.c_str(), 0);
    pid_t pid =
        spawn_process({ctx.options.c10k_binary, "evict", "--quiet", dir}, log, ctx.client_cpu,
                      kBackgroundNice);
    wait_bounded(pid, std::chrono::seconds(30));
    return slurp(log);
}

void run_disk(Context& ctx) {
    const auto& plan = ctx.plan;
    const auto& s = plan.settings;
    std::string data = s.data_dir.empty() ? ctx.options.out_dir + "/disk-data" : s.data_dir;
    std::vector<std::string> cold;
    try {
        cold = write_cold_set(data, s);
        make_docroot(data, plan.sizes);
        ::chmod(data.c_str(), 0755);
        ::chmod((data + "/cold").c_str(), 0755);
    } catch (const std::exception& e) {
        for (const auto& spec : plan.servers) {
            record(ctx,
                   failed({spec, plan.sizes.front(), plan.connections.front(), LoadMode::open_loop,
                           Experiment::disk, "idle"},
                          e.what()),
                   Clock::now());
        }
        return;
    }
    if (evict(ctx, data + "/cold").find("tmpfs") != std::string::npos) {
        ctx.results.plan.notes.push_back(
            "the cold data set is on tmpfs, where nothing can be evicted: every read is cached, "
            "so the disk experiment measures nothing here; give --data-dir on a disk");
    }
    std::uint64_t size = plan.sizes.front();
    std::uint32_t connections = plan.connections.front();
    std::string cached = fmt::format("/{}.txt", size);
    for (const auto& spec : plan.servers) {
        auto started = Clock::now();
        Cell idle{spec,   size,     connections, LoadMode::open_loop, Experiment::disk,
                  "idle", plan.rate};
        Cell busy = idle;
        busy.phase = "busy";
        Cell reader{spec,
                    s.disk_file_size,
                    s.cold_connections,
                    s.cold_rate > 0 ? LoadMode::open_loop : LoadMode::max_throughput,
                    Experiment::disk,
                    "cold",
                    s.cold_rate};
        evict(ctx, data + "/cold");
        std::string error;
        auto server =
            start_server(ctx, spec, data, connections + s.cold_connections, cached, error);
        if (!server) {
            for (const auto& cell : {idle, busy, reader}) record(ctx, failed(cell, error), started);
            continue;
        }
        std::string base = fmt::format("http://127.0.0.1:{}", server->port());
        std::vector<std::string> cached_args = {base + cached, "-c", std::to_string(connections),
                                                "--rate", fmt::format("{:g}", plan.rate)};
        auto run = start_bench(ctx, "idle", cached_args, *server, plan.warmup_ms, plan.duration_ms);
        record(ctx, finish_bench(idle, run, *server, true), started);

        // Busy: the cold readers start first and outlast the cached load; the data set is
        // evicted every 200 ms meanwhile, so that their reads keep going to the disk even when
        // the data set is smaller than the page cache.
        started = Clock::now();
        std::vector<std::string> cold_args;
        for (const auto& path : cold) cold_args.push_back(base + path);
        cold_args.insert(cold_args.end(), {"-c", std::to_string(s.cold_connections)});
        if (s.cold_rate > 0) {
            cold_args.insert(cold_args.end(), {"--rate", fmt::format("{:g}", s.cold_rate)});
        }
        // The readers are the background: on the client's CPU they run niced, so that their
        // receiving megabytes never delays the cached load's sends and receipts, whose p99 is
        // the measurement (and would otherwise include the client's own scheduling delay).
        auto readers = start_bench(ctx, "cold", cold_args, *server, plan.warmup_ms,
                                   plan.duration_ms + 1000, kBackgroundNice);
        auto cached_run =
            start_bench(ctx, "busy", cached_args, *server, plan.warmup_ms, plan.duration_ms);
        auto end = Clock::now() + cached_run.limit;
        while (Clock::now() < end) {
            if (::waitpid(cached_run.pid, &cached_run.status, WNOHANG) == cached_run.pid) {
                cached_run.reaped = true;
                break;
            }
            evict(ctx, data + "/cold");
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        // Not reaped only when past its limit: finish_bench then kills it and says so.
        if (!cached_run.reaped) cached_run.limit = std::chrono::seconds(1);
        record(ctx, finish_bench(busy, cached_run, *server, true), started);
        record(ctx, finish_bench(reader, readers, *server, true), started);
        server->stop();
    }
    if (s.data_dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(data, ignored);
    }
}

// ---- caching --------------------------------------------------------------------------------

void run_caching(Context& ctx) {
    const auto& plan = ctx.plan;
    std::string root = ctx.work + "/root";
    for (auto size : plan.sizes) {
        for (const auto& spec : plan.servers) {
            for (auto n : plan.connections) {
                auto started = Clock::now();
                Cell cell{spec,      size,     n, LoadMode::open_loop, Experiment::caching,
                          "caching", plan.rate};
                std::string error;
                std::string path = fmt::format("/{}.txt", size);
                auto server = start_server(ctx, spec, root, n, path, error);
                if (!server) {
                    record(ctx, failed(cell, error), started);
                    continue;
                }
                auto run =
                    start_bench(ctx, "caching",
                                {fmt::format("http://127.0.0.1:{}{}", server->port(), path), "-c",
                                 std::to_string(n), "--rate", fmt::format("{:g}", plan.rate)},
                                *server, plan.warmup_ms, plan.duration_ms);
                CellResult r = finish_bench(cell, run, *server, true);
                server->stop();
                record(ctx, std::move(r), started);
            }
        }
    }
}

}  // namespace

Results run_experiment(const Plan& plan, const RunnerOptions& options) {
    Results results;
    std::string work = begin_run(plan, results);
    Context ctx{plan, options, work, -1, -1, results};
    make_docroot(ctx.work + "/root", plan.sizes);
    become_subreaper();
    ::signal(SIGPIPE, SIG_IGN);
    bool pin = std::thread::hardware_concurrency() >= 2;
    ctx.server_cpu = pin ? 0 : -1;
    ctx.client_cpu = pin ? 1 : -1;
    results.info.pinned = pin;
    if (pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(1, &set);
        ::sched_setaffinity(0, sizeof set, &set);
    }
    auto started = Clock::now();
    switch (plan.experiment) {
        case Experiment::overload:
            run_overload(ctx);
            break;
        case Experiment::disk:
            run_disk(ctx);
            break;
        case Experiment::caching:
            run_caching(ctx);
            break;
        default:
            break;
    }
    results.info.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    std::error_code ignored;
    std::filesystem::remove_all(ctx.work, ignored);
    return results;
}

}  // namespace c10k::compare

// `c10k bench URL [URL...]`: the open-loop / closed-loop load generator, with --sse N,
// --long-poll N or --ws N the push benchmark, and with --ws N --echo the WebSocket echo one. This
// file only turns flags into BenchOptions and the report into output; the work is in src/bench.

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "bench/client_socket.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "commands.hpp"
#include "core/socket_buffers.hpp"

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted.store(true); }

/// Checks a duration flag ("10s", "500ms", "2m") while parsing, so a typo is reported by name.
std::string check_duration(const std::string& text) {
    std::int64_t ns = 0;
    if (c10k::bench::parse_duration(text, ns)) return {};
    return fmt::format("'{}' is not a duration (write 10s, 500ms, 2m or 1h)", text);
}

void to_ns(const std::string& text, std::int64_t& out) { c10k::bench::parse_duration(text, out); }

/// Checks a buffer size flag (--sndbuf, --rcvbuf) while parsing, so a typo is reported by name.
std::string check_buffer_size(const std::string& text) {
    int bytes = 0;
    std::string error;
    if (c10k::core::parse_buffer_size(text, bytes, error)) return {};
    return error;
}

/// The size of a flag check_buffer_size let through; 0 (the kernel's default) when not given.
int buffer_size(const std::string& text) {
    int bytes = 0;
    std::string error;
    if (!text.empty()) c10k::core::parse_buffer_size(text, bytes, error);
    return bytes;
}

/// Warns once when the kernel caps the buffers asked for (net.core.wmem_max / rmem_max): the
/// run goes on with what it gave, but the operator should know the sizes are not the ones asked.
void warn_if_capped(const c10k::core::SocketBuffers& buffers) {
    if (buffers.empty()) return;
    int fd = c10k::bench::open_client_socket(AF_INET, buffers);
    if (fd < 0) return;  // the connections will say why
    std::string shortfall = c10k::core::socket_buffer_shortfall(fd, buffers);
    ::close(fd);
    if (!shortfall.empty()) {
        std::fprintf(stderr, "c10k bench: warning: --sndbuf/--rcvbuf: %s\n", shortfall.c_str());
    }
}

struct BenchFlags {
    c10k::bench::BenchOptions options;
    std::string arrival = "uniform";
    std::string duration = "10s";
    std::string warmup = "0s";
    std::string timeout = "5s";
    std::string connect_timeout = "5s";
    std::string deadline;
    std::string sndbuf;
    std::string rcvbuf;
    std::string json_path;
    std::string csv_path;
    bool quiet = false;
    std::uint32_t sse = 0;
    std::uint32_t long_poll = 0;
    bool sse_given = false;
    bool long_poll_given = false;
    std::uint32_t ws = 0;
    bool ws_given = false;
};

[[noreturn]] void usage_error(const char* message) {
    std::fprintf(stderr, "c10k bench: %s\n", message);
    throw CLI::RuntimeError(2);
}

void run(BenchFlags& flags) {
    auto& o = flags.options;
    o.arrival = flags.arrival == "poisson" ? c10k::bench::Arrival::poisson
                                           : c10k::bench::Arrival::uniform;
    to_ns(flags.duration, o.duration_ns);
    to_ns(flags.warmup, o.warmup_ns);
    to_ns(flags.timeout, o.timeout_ns);
    to_ns(flags.connect_timeout, o.connect_timeout_ns);
    if (!flags.deadline.empty()) {
        to_ns(flags.deadline, o.deadline_ns);
        if (o.deadline_ns <= 0) usage_error("--deadline must be above 0, e.g. --deadline 200ms");
    }
    o.request.close_after = o.new_connection_per_request;
    o.buffers.send_bytes = buffer_size(flags.sndbuf);
    o.buffers.receive_bytes = buffer_size(flags.rcvbuf);
    bool publishing_flags = !o.push.publish_url.empty() || o.push.publish_rate != 0 ||
                            !o.push.publish_token.empty() || o.push.connect_rate != 0;
    if (!flags.ws_given && (o.ws.echo || o.ws.deflate || o.ws.text)) {
        usage_error("--echo, --ws-deflate and --ws-text are for WebSocket runs: add --ws N");
    }
    if (o.ws.text && !o.ws.echo) usage_error("--ws-text is for echo runs: add --echo");
    if (flags.ws_given && o.ws.echo) {
        // An echo run is a request run whose requests are messages.
        if (publishing_flags) {
            usage_error(
                "--publish, --publish-rate, --publish-token and --connect-rate are for "
                "push runs, not --echo");
        }
        if (flags.ws == 0) usage_error("--ws N needs at least 1 connection");
        o.connections = flags.ws;
        o.ws.message_size = o.push.message_size;
    } else if (flags.ws_given) {
        if (o.rate != 0)
            usage_error("--rate is for --echo; subscribers are paced by --publish-rate");
        o.push.transport = c10k::bench::PushTransport::websocket;
        o.push.subscribers = flags.ws;
    } else if (flags.sse_given) {
        o.push.transport = c10k::bench::PushTransport::sse;
        o.push.subscribers = flags.sse;
    } else if (flags.long_poll_given) {
        o.push.transport = c10k::bench::PushTransport::long_poll;
        o.push.subscribers = flags.long_poll;
    } else if (publishing_flags) {
        usage_error(
            "--publish, --publish-rate, --publish-token and --connect-rate are for push "
            "runs: add --sse N, --long-poll N or --ws N");
    }
    o.progress = !flags.quiet && isatty(STDERR_FILENO);
    o.interrupted = &interrupted;
    for (auto& pid : o.server_pids) {
        if (kill(pid, 0) != 0 && errno != EPERM) {
            std::fprintf(stderr, "c10k bench: --server-pid %d: no such process\n", pid);
            throw CLI::RuntimeError(2);
        }
    }
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    warn_if_capped(o.buffers);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    signal(SIGPIPE, SIG_IGN);

    c10k::bench::BenchReport report;
    try {
        report = c10k::bench::run_bench(o);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "c10k bench: %s\n", e.what());
        throw CLI::RuntimeError(2);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "c10k bench: %s\n", e.what());
        throw CLI::RuntimeError(1);
    }
    std::fputs(c10k::bench::format_summary(report).c_str(), stdout);
    std::fflush(stdout);
    if (!flags.json_path.empty()) {
        std::ofstream out(flags.json_path, std::ios::trunc);
        out << c10k::bench::format_json(report);
        if (!out) {
            std::fprintf(stderr, "c10k bench: cannot write %s\n", flags.json_path.c_str());
            throw CLI::RuntimeError(1);
        }
    }
    if (!flags.csv_path.empty()) {
        std::string error;
        if (!c10k::bench::append_csv(flags.csv_path, report, error)) {
            std::fprintf(stderr, "c10k bench: %s\n", error.c_str());
            throw CLI::RuntimeError(1);
        }
    }
    // A run where nothing at all succeeded is a failure a script should notice.
    if (report.push) {
        const auto& push = *report.push;
        if (push.subscribers.connected == 0 ||
            (push.has_publisher && push.subscribers.deliveries == 0)) {
            throw CLI::RuntimeError(3);
        }
        return;
    }
    if (report.stats.requests == 0 && report.options.connections > 0) throw CLI::RuntimeError(3);
}

const c10k::app::CommandRegistrar registrar{[](CLI::App& app) {
    auto flags = std::make_shared<BenchFlags>();
    auto& o = flags->options;
    auto* cmd = app.add_subcommand(
        "bench",
        "HTTP/1.1 load generator: open loop at --rate (evenly paced, latency corrected for "
        "coordinated omission) or closed loop without it; holds 100,000+ connections");
    cmd->add_option("urls", o.urls, "http://HOST[:PORT]/PATH; connection i uses URL i mod count")
        ->required();
    cmd->add_option("-r,--rate", o.rate,
                    "total requests/s over all connections (open loop); default 0 = closed loop");
    cmd->add_option("--arrival", flags->arrival, "open-loop send times: uniform or poisson (default uniform)")
        ->check(CLI::IsMember({"uniform", "poisson"}));
    cmd->add_option("-c,--connections", o.connections, "connections sending requests (default 10)");
    cmd->add_option("--idle", o.idle, "extra connections that connect and only wait (default 0)");
    cmd->add_option("-d,--duration", flags->duration, "measured interval, e.g. 10s, 500ms, 2m (default 10s)")
        ->check(check_duration);
    cmd->add_option("--warmup", flags->warmup, "run this long first without counting (default 0s)")
        ->check(check_duration);
    cmd->add_option("-t,--threads", o.threads, "event-loop threads in all (default 1)");
    cmd->add_option("--processes", o.processes,
                    "worker processes (default 0 = as many as the descriptor limit requires)");
    cmd->add_option("-p,--pipeline", o.pipeline, "requests in flight per connection (default 1)");
    cmd->add_flag("--new-connection-per-request", o.new_connection_per_request,
                  "send 'Connection: close' and open a new connection per request (default: keep-alive)");
    cmd->add_option("-m,--method", o.request.method, "request method (default GET)");
    cmd->add_option("-H,--header", o.request.headers, "extra request header 'Name: value' (repeatable)");
    cmd->add_option("--body", o.request.body, "request body (default none)");
    cmd->add_option("--timeout", flags->timeout,
                    "a response not complete this long after its request is a read timeout; also "
                    "bounds the final drain (default 5s)")
        ->check(check_duration);
    cmd->add_option("--deadline", flags->deadline,
                    "count 200 responses completed within this long of their intended send time "
                    "as good (goodput, and the p99 of 200s apart from the others)")
        ->check(check_duration);
    cmd->add_option("--connect-timeout", flags->connect_timeout, "bound on each connect (default 5s)")
        ->check(check_duration);
    cmd->add_option("--connect-batch", o.connect_batch,
                    "connects in progress at once per thread while opening (default 256)");
    cmd->add_option("--sndbuf", flags->sndbuf,
                    "SO_SNDBUF of every connection, set before connect(): bytes, or with k or m "
                    "(e.g. 16k); capped at net.core.wmem_max (default: the kernel's, autotuned)")
        ->check(check_buffer_size);
    cmd->add_option("--rcvbuf", flags->rcvbuf,
                    "SO_RCVBUF of every connection, set before connect() (so the window scale "
                    "follows it): bytes, or with k or m; capped at net.core.rmem_max (default: "
                    "the kernel's, autotuned)")
        ->check(check_buffer_size);
    cmd->add_option("--server-pid", o.server_pids,
                    "server process to sample CPU and RSS from /proc, with its threads and "
                    "children (repeatable; default none)");
    cmd->add_option("--seed", o.seed, "seed of the Poisson schedule (default 1)");
    auto* sse =
        cmd->add_option("--sse", flags->sse,
                        "push: N subscribers holding Server-Sent Events streams on the URLs "
                        "(GET with Accept: text/event-stream)");
    auto* long_poll =
        cmd->add_option("--long-poll", flags->long_poll,
                        "push: N long-poll subscribers on the URLs, each asking again "
                        "with Last-Event-ID after each answer");
    auto* ws = cmd->add_option(
        "--ws", flags->ws,
        "push: N WebSocket subscribers on the URLs (GET with Upgrade: websocket, the server's "
        "JSON envelope, resuming with ?last_event_id=); with --echo, N echo connections");
    sse->excludes(long_poll);
    sse->excludes(ws);
    long_poll->excludes(ws);
    cmd->add_flag("--ws-deflate", o.ws.deflate,
                  "WebSocket: offer permessage-deflate (the report says how many agreed)");
    cmd->add_flag("--echo", o.ws.echo,
                  "WebSocket: send messages and time their echoes (--rate R in all, open loop, "
                  "or closed loop without it; --message-size B)");
    cmd->add_flag("--ws-text", o.ws.text, "WebSocket echo: text messages (default binary)");
    cmd->add_option("--publish", o.push.publish_url,
                    "push: POST messages to this URL (one keep-alive connection), e.g. "
                    "http://127.0.0.1:8081/pub/CHANNEL");
    cmd->add_option("--publish-rate", o.push.publish_rate,
                    "push: messages/s, evenly paced, open loop (each body starts with t=<ns> "
                    "seq=<n>)");
    cmd->add_option("--message-size", o.push.message_size,
                    "push and --echo: bytes per message (default 200)");
    cmd->add_option("--publish-token", o.push.publish_token,
                    "push: sent as 'Authorization: Bearer TOKEN' with each publish");
    cmd->add_option("--connect-rate", o.push.connect_rate,
                    "push: new subscriber connections/s in all while opening (default 0 = as fast "
                    "as --connect-batch allows)");
    cmd->add_option("--json", flags->json_path, "write the report as JSON (schema: docs/bench.md)");
    cmd->add_option("--csv", flags->csv_path, "append one CSV row per run (header when new)");
    cmd->add_flag("-q,--quiet", flags->quiet, "no live progress line (it only shows on a terminal)");
    cmd->callback([flags, sse, long_poll, ws] {
        flags->sse_given = sse->count() > 0;
        flags->long_poll_given = long_poll->count() > 0;
        flags->ws_given = ws->count() > 0;
        run(*flags);
    });
}};

}  // namespace

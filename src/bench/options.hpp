#pragma once
// Everything one `c10k bench` run is asked to do, filled in by the CLI (or by a test).

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/target.hpp"
#include "core/socket_buffers.hpp"

namespace c10k::bench {

/// How intended send times are spread over a connection's life in open-loop mode.
enum class Arrival {
    uniform,  ///< a fixed period per connection, connections staggered evenly: no bursts at all
    poisson,  ///< exponential gaps per connection, so the total is a Poisson process at `rate`
};

/// How subscribers receive pushed messages (`--sse N`, `--long-poll N` or `--ws N`).
enum class PushTransport {
    none,       ///< not a push run: requests and responses
    sse,        ///< GET with Accept: text/event-stream, one endless chunked stream each
    long_poll,  ///< GET with Last-Event-ID, one message per response, on a keep-alive connection
    websocket,  ///< GET with Upgrade: websocket, one JSON text message per delivery
};

/// A push run: subscribers on the URLs, and optionally one publisher (docs/bench.md, "Push").
struct PushOptions {
    PushTransport transport = PushTransport::none;
    /// Subscribers in all, spread over loops, processes and source addresses like connections.
    std::uint32_t subscribers = 0;
    /// Where to POST messages; empty means no publisher (deliveries come from elsewhere).
    std::string publish_url;
    /// Messages per second, evenly paced, open loop.
    double publish_rate = 0;
    /// Bytes of each message body: "t=<ns> seq=<n> " and then padding.
    std::uint32_t message_size = 200;
    /// Sent as "Authorization: Bearer <token>" with each publish when not empty.
    std::string publish_token;
    /// New subscriber connections per second in all while opening; 0 means as fast as
    /// --connect-batch allows.
    double connect_rate = 0;
};

/// WebSocket specifics (`--ws N`): compression for subscribers and echo connections, and the
/// echo mode (`--ws N URL --echo`), a request-like run where each message's echo is its answer.
struct WsOptions {
    /// Offer permessage-deflate in every handshake (the report says how many agreed).
    bool deflate = false;
    /// Echo mode: `connections` send messages (at `rate` in all, or closed loop) and time each
    /// echo. Not a push run: push.transport stays none.
    bool echo = false;
    /// Echo mode: text messages instead of binary.
    bool text = false;
    /// Echo mode: bytes per message, the send-time stamp included.
    std::uint32_t message_size = 200;
};

struct BenchOptions {
    std::vector<std::string> urls;
    RequestSpec request;

    /// Requests per second over all connections; 0 means closed loop (send on each response).
    double rate = 0;
    Arrival arrival = Arrival::uniform;
    /// Connections that send requests.
    std::uint32_t connections = 10;
    /// Extra connections that connect and wait, never sending (httperf's idle connections).
    std::uint32_t idle = 0;
    /// Requests a connection may have in flight (HTTP/1.1 pipelining); 1 means none.
    std::uint32_t pipeline = 1;
    /// Event-loop threads in all; each is one epoll loop over its share of the connections.
    std::uint32_t threads = 1;
    /// Worker processes; 0 picks as many as the descriptor limit requires.
    std::uint32_t processes = 0;
    /// A new connection for each request ("Connection: close") instead of keep-alive.
    bool new_connection_per_request = false;

    std::int64_t duration_ns = 10'000'000'000;
    /// Time run before the measured interval; its requests are not counted.
    std::int64_t warmup_ns = 0;
    /// A response not complete this long after its request was written is a read timeout.
    std::int64_t timeout_ns = 5'000'000'000;
    /// When above 0, a 200 response completed within this long of its intended send time is
    /// "good" and counted apart (goodput); slower ones still count as requests. 0: not counted.
    std::int64_t deadline_ns = 0;
    /// A connect not complete after this long has timed out.
    std::int64_t connect_timeout_ns = 5'000'000'000;
    /// Connects in progress at once per thread while opening connections, so that opening
    /// 100,000 connections does not overflow the server's listen backlog.
    std::uint32_t connect_batch = 256;
    /// SO_SNDBUF / SO_RCVBUF of every connection to the URLs, set before connect() (--sndbuf,
    /// --rcvbuf); zeros leave the kernel's defaults.
    core::SocketBuffers buffers;

    /// Server processes to sample from /proc (each with its threads and descendants).
    std::vector<pid_t> server_pids;
    /// Live progress line on stderr, about once a second.
    bool progress = false;
    /// Seed for Poisson arrivals; runs with the same seed send on the same schedule.
    std::uint64_t seed = 1;
    /// Subscribers and publisher; transport none for a request run.
    PushOptions push;
    /// WebSocket subscribers' and echo connections' options.
    WsOptions ws;
    /// Set from a signal handler to end the run early (the measured interval is cut short).
    const std::atomic<bool>* interrupted = nullptr;
};

/// Parses "10s", "500ms", "2m", "1h", "250us" or a bare number of seconds into nanoseconds.
/// False for anything else (negative, no digits, unknown unit).
bool parse_duration(std::string_view text, std::int64_t& out_ns);

}  // namespace c10k::bench

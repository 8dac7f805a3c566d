#pragma once
// The layer-7 proxy as an http::Handler: each request is deferred, sent to a server of the
// pool over a connection this loop owns (kept alive between requests, as nginx's upstream
// keepalive), and the server's response is streamed back through the Pending. Backend sockets
// are watched through the loop's DescriptorWatcher, so every engine drives the proxy.
//
// Retries never replay what may have run: a request goes to another server only when its
// connection failed before any byte of it was sent, when a reused keep-alive connection
// closed before answering (the stale-connection case, always safe once on a fresh
// connection), or, for idempotent methods (and POST and PATCH when the operator says so), on
// the failures RetryPolicy lists. Every retry fits the loop's RetryBudget.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "http/context.hpp"
#include "http/handler.hpp"
#include "proxy/balance_key.hpp"
#include "proxy/board.hpp"
#include "proxy/pool.hpp"
#include "proxy/response_parser.hpp"
#include "proxy/retry.hpp"
#include "proxy/sticky.hpp"

namespace c10k::proxy {

struct ProxyOptions {
    PoolSpec pool;
    /// What Balance::hash hashes (source_hash always hashes the client's address).
    HashKey hash_key;
    std::int64_t connect_timeout_ms = 5'000;
    /// From the request's last byte sent to the response head's last byte, and between two
    /// reads of a response body.
    std::int64_t response_timeout_ms = 60'000;
    /// From the request's head to its answer's last byte; 0: no bound. A slow upload, a
    /// server that trickles, a long download: all end here (504, or a cut stream).
    std::int64_t total_timeout_ms = 0;
    /// A kept-alive backend connection unused this long is closed. Shorter than the servers'
    /// own keep-alive timeout, so that the proxy, not the server, closes idle connections
    /// (the server closing first is what makes stale connections).
    std::int64_t idle_timeout_ms = 15'000;
    std::size_t max_idle_per_server = 64;
    /// Connections to one server from one loop (busy and idle); 0: no cap. A request that
    /// finds every usable server at its cap waits in the loop's queue.
    std::uint32_t max_connections_per_server = 0;
    /// Requests waiting for a connection, per loop; beyond it, and after queue_timeout_ms in
    /// it, a request gets 503 with Retry-After.
    std::size_t queue_size = 256;
    std::int64_t queue_timeout_ms = 5'000;
    /// The largest request body, as --max-body-bytes says (413 beyond). Bodies are streamed;
    /// this is also what an Upgrade request's body, read whole, may hold.
    std::uint64_t max_body_bytes = 1024 * 1024;
    /// Bytes held per client each way: response bytes queued for a slow client before the
    /// proxy stops reading the server, and request body bytes the server has not taken (or
    /// kept for a retry) before it stops reading the client.
    std::uint64_t client_buffer_bytes = 256 * 1024;
    /// The cookie that keeps a client on its server; off when its name is empty.
    StickyCookie sticky;
    RetryPolicy retry;
    /// The addresses clients connect to, by listener index (the PROXY protocol's destination).
    std::vector<core::Endpoint> listeners;
    /// The pool's counters, shared by every loop (and process); made by the handler when null.
    std::shared_ptr<PoolBoard> board;
    /// Where the active checks publish the pool's health (pool.health on): made once per
    /// process and shared by every loop's handler; loop 0's handler runs the checks.
    std::shared_ptr<HealthBoard> health_board;
};

class Exchange;
class HealthChecker;
class Upstream;

class ProxyHandler final : public http::Handler {
public:
    explicit ProxyHandler(ProxyOptions options);
    ~ProxyHandler() override;

    void handle(const http::Request& request, http::Response& response) override;
    /// As handle(); `retry_non_idempotent`: the route lets POST and PATCH be retried as
    /// idempotent requests are (its backends are idempotent by design).
    void proxy(const http::Request& request, http::Response& response, bool retry_non_idempotent);
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    /// Request bodies are streamed to the server as they arrive (exchange_upload.cpp); only
    /// an Upgrade request's body is read whole first, up to max_body_bytes.
    bool streams_body(std::uint8_t) const override { return true; }
    std::uint64_t body_limit(std::uint8_t) const override { return options_.max_body_bytes; }
    bool wants_peer() const override { return true; }

    const ProxyOptions& options() const { return options_; }
    /// Whether any server wants a PROXY protocol header.
    bool sends_proxy_protocol() const { return sends_proxy_protocol_; }
    /// The address of listener `index` (unspecified when unknown).
    const sockaddr_storage& listener_address(std::uint8_t index) const;
    Pool& pool() { return pool_; }
    /// This loop's counters of server `index` and of the pool (valid from on_loop_start).
    ServerCounters& counters(std::size_t index) { return slot_.servers[index]; }
    PoolCounters& pool_counters() { return *slot_.pool; }
    /// The servers an operator drains now (a bit each; proxy/board.hpp).
    std::uint64_t draining() const { return options_.board->draining(); }
    http::LoopContext& context() { return *context_; }
    /// A buffer for reading from servers, shared by the loop's exchanges.
    std::vector<char>& read_buffer() { return read_buffer_; }
    /// A response parser, or a string for a request's bytes, with the capacity an earlier
    /// exchange left (pools of this loop: no allocation per request in steady state).
    std::unique_ptr<ResponseParser> take_parser();
    void give_parser(std::unique_ptr<ResponseParser> parser);
    std::string take_bytes();
    void give_bytes(std::string&& bytes);
    /// A Response for building the head of a proxied response (never the loop's own, which a
    /// request being handled may hold).
    http::Response& head_response() { return head_response_; }

    /// A kept-alive connection to `server`, or null when there is none.
    std::unique_ptr<Upstream> take_idle(std::size_t server);
    bool has_idle(std::size_t server) const { return !idle_[server].empty(); }
    /// A connection that finished a response and may serve another.
    void keep_idle(std::unique_ptr<Upstream> upstream);
    /// An idle connection closed or timed out.
    void drop_idle(Upstream& upstream);

    /// The server a sticky cookie value names, or -1 when it names none of the pool's.
    int sticky_server(std::string_view value) const;
    /// The Set-Cookie value that sends a client back to `server` (stickiness on).
    const std::string& sticky_set_cookie(std::size_t server) const { return set_cookies_[server]; }
    /// This loop's retries in flight, and their counts.
    RetryBudget& retry_budget() { return retry_budget_; }

    /// Exchanges in flight (for tests and the stop's bookkeeping).
    std::size_t exchanges() const { return exchanges_; }
    void exchange_started() { ++exchanges_; }
    /// An exchange is done with its connection and server: a queued one may go now.
    void exchange_ended();

    /// Exchanges reading the rest of a response whose client left; a stopping loop ends them.
    void start_draining(Exchange& exchange) { draining_.push_back(&exchange); }
    void stop_draining(Exchange& exchange);

    /// Waits for a connection (every usable server is at its cap). False when the queue is full.
    bool enqueue(Exchange& exchange);
    /// Leaves the queue (timed out, or its client left).
    void unqueue(Exchange& exchange);

private:
    void wake_queued();

    ProxyOptions options_;
    Pool pool_;
    PoolBoard::Slot slot_;
    http::LoopContext* context_ = nullptr;
    std::vector<std::vector<std::unique_ptr<Upstream>>> idle_;  ///< per server, newest last
    std::vector<char> read_buffer_;
    std::vector<std::unique_ptr<ResponseParser>> parser_pool_;
    std::vector<std::string> bytes_pool_;
    http::Response head_response_;
    std::size_t exchanges_ = 0;
    bool sends_proxy_protocol_ = false;
    sockaddr_storage unknown_address_{};
    /// Per server, with stickiness on: the cookie value naming it, and the Set-Cookie value
    /// built from it once rather than for every response.
    std::vector<std::string> sticky_values_;
    std::vector<std::string> set_cookies_;
    RetryBudget retry_budget_;
    std::deque<Exchange*> queue_;  ///< oldest first
    std::vector<Exchange*> draining_;
    bool waking_ = false;  ///< in wake_queued (no recursion through a failed attempt)
    std::unique_ptr<HealthChecker> checker_;  ///< loop 0's only
};

}  // namespace c10k::proxy

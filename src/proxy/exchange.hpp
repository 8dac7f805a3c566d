#pragma once
// One proxied request: from the client's request to the server's last response byte. It
// chooses a server, takes or opens a connection to it, sends the request, and streams the
// response to the client; on a failure it retries where that is provably safe (see
// proxy_handler.hpp) and otherwise answers 502 or 504 itself.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/context.hpp"
#include "http/pending.hpp"
#include "http/request.hpp"
#include "proxy/response_parser.hpp"

namespace c10k::proxy {

class ProxyHandler;
class Upstream;

class Exchange final : public http::UpgradedOwner,
                       public http::BodySink,
                       public ResponseSink,
                       public http::TimerTask {
public:
    /// choose(): every usable server is at its connection cap (wait in the queue).
    static constexpr int kAllFull = -1;
    /// choose(): no server is left to try.
    static constexpr int kNone = -2;

    /// `retry_non_idempotent`: POST and PATCH are retried as idempotent methods are.
    Exchange(ProxyHandler& handler, const http::Request& request, bool retry_non_idempotent);
    ~Exchange();

    /// Starts the first attempt. May finish (and delete) the exchange before it returns.
    void begin(http::Pending pending);

    /// The server for the next attempt: one with a free or idle connection, else kAllFull or
    /// kNone.
    int choose();
    /// The queue let the exchange go, to `server` (a choose() result).
    void leave_queue(int server);
    /// The queue's wait, or the whole request's time (--total-timeout), ran out.
    void on_timer() override;

    /// Ends the exchange now, dropping its backend connection (a stopping loop ends those
    /// still draining a response their client left).
    void abandon();

    void on_upstream_ready(std::uint32_t events);
    void on_upstream_timeout();

    // http::PendingOwner
    void on_pending_closed() override;
    void on_pending_drained() override;
    // http::BodySink: the client's request body, streamed (exchange_upload.cpp)
    void on_request_body(const char* data, std::size_t size) override;
    void on_request_body_end() override;
    // http::UpgradedOwner: a tunnel after the backend's 101 (exchange_tunnel.cpp)
    void on_upgraded_input(const char* data, std::size_t size) override;
    void on_upgraded_stop() override;

    // ResponseSink
    void on_head(const ResponseParser& parser) override;
    void on_body(const char* data, std::size_t size) override;
    void on_complete() override;

private:
    enum class Step : std::uint8_t { connecting, sending, waiting, body, tunnel };
    enum class Failure : std::uint8_t {
        connect,
        send,
        receive,
        connect_timeout,
        response_timeout,
        bad_response
    };

    void attempt();
    /// Arms the exchange's one timer for the nearer of the queue's and the total deadline.
    void arm_deadline();
    void start_on(int server);
    /// Puts a PROXY protocol header before the request, for a new connection to a server
    /// that wants one.
    void put_proxy_header(std::uint8_t version);
    void connected();
    /// Sends what the server has not taken of the request yet. False when the attempt failed
    /// (the exchange went on to another, or ended): the caller returns at once.
    bool send();
    void receive();
    /// Watches the server connection for what this exchange waits for now: writable while
    /// request bytes are unsent (or connecting), readable once connected unless the client
    /// is behind on the response.
    bool update_watch();
    // The streamed request body (exchange_upload.cpp).
    /// Frames `size` bytes of the client's body for the server and queues them.
    void queue_body(const char* data, std::size_t size);
    /// After bytes went out: frees what no retry can need, and lets a paused client go on.
    void after_send();
    /// No retry can need the request any more (its answer began): what was sent is freed.
    void release_request();
    /// Whether all of the request, body included, went to the server.
    bool upload_done() const { return body_done_ && sent_ == request_bytes_.size(); }
    void fail(Failure failure, std::string_view why);
    /// Marks `server` as tried by this request: no retry goes back to it.
    void mark_tried(std::size_t server);
    /// Whether some server of the pool has not been tried by this request.
    bool untried_left() const;
    /// A retry may start: within the loop's budget (an exchange already retrying holds its
    /// place). False when the budget is spent: the client gets what it would have without.
    bool admit_retry();
    /// on_head: whether a response with this status is dropped for another server's.
    bool retries_status(int status);
    /// The head that on_head dropped (`reusable`: the whole response was read and the
    /// connection may serve another request): the request goes to another server.
    void retry_after_status(bool reusable);
    /// Counts a failed request against `server` for passive ejection, and logs an ejection.
    void count_failed_request(std::size_t server);
    void answer_error(int status, std::string_view why);
    void finish(bool reusable);
    void release_server();
    void drop_upstream();
    /// Once part of the response reached the client nothing else may be sent: cuts the
    /// client's connection and ends the exchange. False (and nothing done) before that.
    bool cut_if_started();
    /// Deletes the exchange: the last thing any path does.
    void end();
    // The tunnel (exchange_tunnel.cpp).
    void open_tunnel(const char* rest, std::size_t size);
    void tunnel_ready(std::uint32_t events);
    void tunnel_flush();
    void close_tunnel(bool clean);

    ProxyHandler& handler_;
    http::Pending pending_;
    std::unique_ptr<Upstream> upstream_;
    /// Borrowed from the handler's pool, with the buffers an earlier response grew: a request
    /// then costs no allocation for its response head.
    std::unique_ptr<ResponseParser> parser_;
    /// The request for the server: a PROXY header, the head, and the body as far as it is
    /// held. While `replayable_`, all of it from the first byte (a retry sends it again);
    /// past --client-buffer, bytes the server took are dropped, and no retry is possible.
    std::string request_bytes_;
    std::size_t sent_ = 0;
    bool replayable_ = true;
    /// How the client's body travels to the server: as is (Content-Length) or re-chunked
    /// (it came chunked, its length unknown).
    bool chunked_upload_ = false;
    /// The client's body was all received (or there was none, or it came whole).
    bool body_done_ = true;
    bool body_paused_ = false;      ///< the client is not read: enough of its body is unsent
    bool in_send_ = false;          ///< inside send(): body handed over is queued, not sent
    bool response_paused_ = false;  ///< the server is not read: the client is behind
    std::uint64_t tried_ = 0;  ///< a bit per server this request failed on
    /// What a hashing balancer hashes for this request, taken once (the request's views die
    /// with the handler call); empty for the other balancers.
    std::string balance_key_;
    int attempts_ = 0;
    int failed_server_ = -1;  ///< the server the last attempt failed on, until the next attempt
    /// The server the client's sticky cookie names; -1 when it names none (or sent none).
    int sticky_server_ = -1;
    http::Method method_;
    /// Whether the request may be sent again after it may have run (RetryPolicy).
    bool idempotent_;
    bool holds_retry_ = false;  ///< counted in the loop's RetryBudget until the end
    /// on_head dropped the response head (a status to retry on): its body is not forwarded.
    bool rejected_ = false;
    bool stale_retry_used_ = false;
    bool force_fresh_ = false;
    bool head_sent_ = false;
    bool client_open_ = true;  ///< the Pending may still be written (false once it ended)
    bool complete_ = false;
    bool holding_server_ = false;
    bool server_error_ = false;  ///< the answer is a 5xx
    bool queued_ = false;
    /// The client left after the request was sent: the response is read to its end and
    /// dropped, to keep the connection.
    bool draining_ = false;
    std::size_t drained_ = 0;
    std::uint8_t listener_ = 0;
    std::size_t preamble_size_ = 0;  ///< a PROXY header at the front of request_bytes_
    std::string client_address_;     ///< kept only when a server wants the PROXY protocol
    Step step_ = Step::connecting;
    std::int64_t queue_deadline_ms_ = 0;  ///< while queued_
    std::int64_t total_deadline_ms_ = 0;  ///< 0: none (--total-timeout 0)
    bool upgrade_requested_ = false;  ///< the client asked for a protocol switch
    std::string to_backend_;          ///< tunnel bytes the backend has not taken yet
    bool tunnel_paused_ = false;      ///< the backend is not read until the client catches up
};

}  // namespace c10k::proxy

#pragma once
// One request to a FastCGI application: a connection from the pool (kept-alive or new), the
// request (BEGIN_REQUEST, PARAMS, then the body as STDIN records) on its way out, and the
// application's records on their way in: STDOUT parsed as CGI output and streamed to the
// client, STDERR to the error log, END_REQUEST ending the response and giving the connection
// back to the pool.
//
// Backpressure both ways, within Options::buffer_bytes: a body the application does not read
// pauses the client's body; output the client does not take stops the reading of the
// connection (the application then blocks writing, as php-fpm does on a full socket).
//
// A kept-alive connection may have been closed by the application just before it was reused
// (the pool watches idle ones, but the close can cross the new request on the wire). When such
// a connection ends before the application sent a byte, the request never ran: it is sent again,
// once, on a new connection. What was written is kept for that (up to buffer_bytes; a larger
// body written before the failure is not replayed, and the request fails with 502).
//
// On a multiplexed connection (pool.hpp, mux_connection.hpp) the connection is shared: the
// exchange holds a request id on it, queues its records there and is handed its pieces. The
// application cannot be made to wait for one request, so output a slow client does not take
// is held up to kMultiplexedHold times buffer_bytes; past that the request is aborted
// (FCGI_ABORT_REQUEST) and the client cut, and the others on the connection go on. There is no
// retry there: a broken multiplexed connection fails every request on it.
//
// A chunked body is held whole (BodyBuffer) before the request begins, so that CONTENT_LENGTH
// can be sent; only then is a connection taken from the pool, so a slow uploader ties up no
// worker of the application. Such a body is read again from its buffer for the retry, whatever
// its size. The Session's body limit and body timeout still apply while it is held: past them
// the client is answered (413) or dropped, and the exchange ends before the application hears
// of the request.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cgi/output_head.hpp"
#include "fastcgi/body_buffer.hpp"
#include "fastcgi/pool.hpp"
#include "fastcgi/record_parser.hpp"
#include "http/context.hpp"
#include "http/pending.hpp"
#include "http/request.hpp"

namespace c10k::fastcgi {

class Handler;

class Exchange final : public http::PendingOwner,
                       public http::BodySink,
                       public http::TimerTask,
                       public http::DescriptorTask,
                       public Pool::Waiter,
                       public MuxConnection::Request {
public:
    Exchange(Handler& handler, Pool& pool, std::string script, http::Method method,
             std::vector<std::string> environment);
    ~Exchange();
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    /// Starts: a connection, the request, the body when `body_follows`; with `hold_body` (a
    /// chunked body) the body is read whole first. May end (and delete) the exchange before
    /// it returns.
    void begin(http::Pending pending, bool body_follows, bool hold_body);

    // http::PendingOwner
    void on_pending_closed() override;
    void on_pending_drained() override;
    // http::BodySink
    void on_request_body(const char* data, std::size_t size) override;
    void on_request_body_end() override;
    // http::TimerTask: the queue wait or --fastcgi-timeout ran out.
    void on_timer() override;
    // http::DescriptorTask: the connection.
    void on_ready(std::uint32_t events) override;
    // Pool::Waiter
    void on_connection_free(Connection connection) override;
    void on_pool_ready() override;
    // MuxConnection::Request
    bool on_multiplexed_piece(const Piece& piece) override;
    void on_multiplexed_writable() override;
    void on_multiplexed_lost(std::string_view why) override;

    /// Output held for a slow client on a multiplexed connection, in buffer_bytes, before the
    /// request is aborted.
    static constexpr std::size_t kMultiplexedHold = 4;

private:
    enum class Step { queued, connecting, exchanging };

    /// The held body is whole: the request, with its CONTENT_LENGTH, goes to a connection.
    void body_held();
    /// Tops out_ up with STDIN records from the held body (and its end). False when the body
    /// could not be read back (the exchange ended).
    bool refill();
    void acquire(bool fresh_only);
    void acquire_multiplexed();
    void wait_in_queue(std::int64_t until_ms);
    /// Queues out_ (and a held body's next records) on the multiplexed connection.
    bool write_multiplexed();
    /// Bytes framed and not yet sent: out_, and on a multiplexed connection its queue.
    std::size_t unsent() const;
    void open_connection();
    void use(Connection connection, bool reused);
    void connected();
    bool update_watch();
    void watch_off();
    // Each returns false when the exchange ended (and was deleted) meanwhile.
    bool write_out();
    void read_in();
    bool take_input(std::string_view input);
    bool take_piece(const Piece& piece);
    bool take_stdout(std::string_view bytes);
    void take_stderr(std::string_view bytes);
    void request_ended(ProtocolStatus status, bool leftover);
    /// The connection broke (EOF, reset): retried, failed, or cut.
    void connection_lost(std::string_view why);
    void start_response();
    bool write_body(std::string_view bytes);
    void fail(int status, std::string_view why);
    /// Deletes the exchange; `reusable`: the connection goes back to the pool, else it closes.
    void end(bool reusable);

    Handler& handler_;
    Pool& pool_;
    std::string script_;  ///< SCRIPT_NAME, for the log
    http::Method method_;
    std::vector<std::string> environment_;  ///< until the request head is encoded
    http::Pending pending_;
    Step step_ = Step::queued;
    Connection connection_;
    MuxConnection* multiplexed_ = nullptr;  ///< the shared connection, when multiplexed
    std::uint16_t request_id_ = kRequestId;
    bool ended_by_application_ = false;  ///< its END_REQUEST came
    bool reused_ = false;                ///< the connection served an earlier request
    bool retried_ = false;               ///< this is the one retry
    /// The events the loop watches the connection for on this exchange's behalf; kForeign while
    /// it is still watched for its previous holder.
    std::uint32_t watched_ = 0;
    static constexpr std::uint32_t kForeign = UINT32_MAX;
    std::int64_t deadline_ms_ = 0;
    std::string out_;      ///< records not written yet
    std::string written_;  ///< records written on a reused connection, for the retry
    bool replayable_ = true;
    std::unique_ptr<BodyBuffer> held_;  ///< a chunked body, held whole before the request
    std::uint64_t held_sent_ = 0;       ///< of held_: bytes framed into out_ so far
    std::string request_head_;          ///< with held_: BEGIN_REQUEST and PARAMS, for the retry
    RecordParser parser_;
    cgi::OutputHead head_;
    std::string stderr_line_;
    long long remaining_ = -1;  ///< bytes left of an announced Content-Length
    bool answered_ = false;     ///< a byte came from the application
    bool head_done_ = false;
    bool client_open_ = true;
    bool body_done_ = false;    ///< the request body ended (or there was none)
    bool stdin_ended_ = false;  ///< the empty STDIN record is queued
    bool body_paused_ = false;
    bool in_write_ = false;
    bool output_paused_ = false;
};

}  // namespace c10k::fastcgi

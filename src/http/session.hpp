#pragma once
// http::Session: one HTTP/1.1 connection, without any I/O. The engine feeds it the bytes it
// received and sends the bytes it asks for; the Session parses requests (llhttp), enforces the
// limits, calls the Handler, and queues responses in request order (pipelining).
//
//   engine: read(fd) --> feed()  ...  gather()/front_file() --> writev/sendfile --> consume(n)
//
// Every engine (epoll, poll, io_uring, thread per client, ...) drives this same class, so that
// they all speak exactly the same HTTP.

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

#include <llhttp.h>

#include "http/context.hpp"
#include "http/pending.hpp"

namespace c10k::http {

/// What the connection is doing, which decides the timeout that applies to it.
enum class Phase : std::uint8_t {
    idle,     ///< between requests: keep-alive timeout
    header,   ///< a request head is arriving: header timeout, from its first byte
    body,     ///< a request body is arriving: body timeout, from the last progress
    writing,  ///< output is queued: send timeout, from the last progress
    waiting,  ///< a deferred response or an open stream with nothing queued: no timeout (the
              ///< handler that finishes it owns the time)
};

/// Deadline of a connection that has none (Phase::waiting).
inline constexpr std::int64_t kNoDeadline = INT64_MAX;

/// A file range at the front of the output, for sendfile/splice.
struct FileRange {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

class Session {
public:
    explicit Session(LoopContext& context);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /// Hands received bytes to the parser. Complete requests are answered at once; the bytes
    /// need not outlive the call.
    void feed(const char* data, std::size_t size);
    /// The peer will send nothing more (read returned 0). Output already queued is still sent.
    void on_peer_closed();
    /// Server shutdown: finish the response in progress, then close instead of keeping alive.
    void request_close();

    bool has_output() const { return scratch_ && scratch_->output_front < scratch_->output.size(); }
    /// Fills up to `max` iovecs with the in-memory bytes at the front of the output, stopping at
    /// the first file range. Returns how many were filled (0 when the front is a file or empty).
    std::size_t gather(iovec* iov, std::size_t max) const;
    /// True when the front of the output is a file range; fills `range`.
    bool front_file(FileRange& range) const;
    /// `bytes` from the front of the output were sent.
    void consume(std::size_t bytes);
    /// Total bytes queued and not yet sent.
    std::uint64_t pending_output() const { return pending_bytes_; }

    /// Whether the engine should read more input now. False while closing, or while enough
    /// output is queued that parsing further pipelined requests would only buffer more. While a
    /// response is deferred it stays true (up to a bound of held input), so that a subscriber
    /// who leaves is noticed at once.
    bool wants_read() const {
        if (suspend_ == Suspend::upgraded) {
            return !input_closed_ && !stop_parsing_ && !over_output_limit();
        }
        if (body_streamed_ && !body_complete_ && body_hold_full()) return false;
        return !input_closed_ && !stop_parsing_ && (!paused_ || holds_little_input());
    }
    /// True once nothing remains to send and the connection is finished.
    bool should_close() const {
        return aborted_ || (!has_output() && !paused_ && (input_closed_ || stop_parsing_));
    }
    /// True when the connection must close at once, without lingering or sending what is
    /// queued (a deferred response was dropped: Pending::close, or its client left).
    bool aborted() const { return aborted_; }
    /// True while a response is deferred or streaming, or the connection was upgraded.
    bool suspended() const { return suspend_ != Suspend::none; }
    /// True once the connection left HTTP (Pending::upgrade).
    bool upgraded() const { return suspend_ == Suspend::upgraded; }
    /// True when the Session is closing because of a protocol error; the engine should linger
    /// (shut down writing and drain input briefly) so the error response is not lost to a RST.
    bool closing_after_error() const { return failed_; }
    /// True once the peer closed its side (on_peer_closed).
    bool peer_closed() const { return input_closed_; }

    Phase phase() const;
    /// When this connection times out (monotonic ms), given its phase and last activity.
    std::int64_t deadline_ms() const;
    /// The engine closes the connection because deadline_ms() passed: counts the timeout by
    /// the phase it happened in.
    void count_timeout();

    /// Requests answered on this connection.
    std::uint64_t requests() const { return requests_; }
    /// Set by the engine when an access log is written: the peer's address as text.
    void set_peer(std::string peer) { peer_ = std::move(peer); }
    /// Set by the engine at accept: the index of the listener (its --listen address).
    void set_listener(std::uint8_t index) { listener_ = index; }
    /// Set by the engine at accept when the peer is trusted to send a PROXY protocol header
    /// (--proxy-protocol-from): the connection must begin with one (v1 or v2), whose source
    /// address then stands for the peer's; anything else gets 400.
    void expect_proxy_header() { expect_proxy_header_ = true; }
    const std::string& peer() const { return peer_; }

    /// The engine's own object for this connection, to find it from the ready list.
    void set_engine_data(void* data) { engine_data_ = data; }
    void* engine_data() const { return engine_data_; }

    /// The engine is closing the connection: tells a deferred response's owner, leaves the
    /// ready list. Idempotent; the destructor calls it too.
    void abandon();

    // Deferred responses: Pending forwards here (see http/pending.hpp).
    void pending_begin(PendingOwner& owner);
    void pending_respond(Response& response);
    void pending_start_stream(Response& head);
    bool pending_start_sized_stream(Response& head, std::uint64_t length);
    bool pending_notify_drained(std::uint64_t mark);
    bool pending_chunked() const { return stream_chunked_; }
    void pending_write(std::string_view bytes);
    void pending_write_framed(core::RefPtr<Blob> blob, std::uint64_t offset, std::uint64_t length);
    void pending_finish();
    void pending_close();
    void pending_upgrade(Response& head, UpgradedOwner& owner);
    void pending_read_body(BodySink& sink);
    void pending_pause_body();
    void pending_resume_body();
    void pending_redispatch(Request& request);

private:
    friend struct SessionCallbacks;
    friend class LoopContext;

    enum class Suspend : std::uint8_t { none, waiting, streaming, upgraded };
    /// What a deferred response needs of its request after the handler returned.
    struct DeferredRequest {
        Method method = Method::get;
        bool keep_alive = true;
        int version_minor = 1;
        std::string method_text;  ///< only when an access log is written
        std::string target;       ///< likewise
        /// Referer and User-Agent, likewise: the log's combined format names them, and the
        /// request's own header storage is gone by the time a deferred answer is logged.
        std::string logged_values[2];
        Header logged_headers[2];
        /// Takes a streamed body (Pending::read_body); null until then, and once the body's
        /// end was handed over. Kept here, not in the Session: an idle connection stays small.
        BodySink* body_sink = nullptr;
    };
    BodySink* body_sink() const { return deferred_ ? deferred_->body_sink : nullptr; }

    bool holds_little_input() const;
    void resume_held_requests();
    /// Bytes of a streamed body received and not yet taken by its sink (paused, or not yet
    /// reading) beyond which the client is not read: one engine read's worth, about.
    static constexpr std::size_t kBodyHoldBytes = 64 * 1024;
    std::size_t body_held() const { return scratch_ ? scratch_->body.size() : 0; }
    bool body_hold_full() const { return body_held() >= kBodyHoldBytes; }
    /// Hands held body bytes (then the body's end, once it came) to the sink while it takes
    /// them.
    void deliver_body();
    /// Whether a header value piece starting at `at` (in the input being parsed) continues a
    /// line with obs-fold.
    bool continues_a_folded_line(const char* at) const;
    Request deferred_request() const;
    void close_if_body_unread();
    void end_pending(bool tell_owner);
    void notify_output();
    void deliver_upgraded_input();
    /// How the body after a head is delimited.
    enum class Framing : std::uint8_t { length, stream, none };
    void build_head(const Request& request, Response& response, std::string& head, Framing framing);
    void ensure_scratch();
    void maybe_release_scratch();
    void execute(const char* data, std::size_t size);
    void fail(int status);
    void dispatch();
    void queue_response(const Request& request, Response& response);
    /// A response head was queued: counts it (status, latency) and writes the access log.
    void note_response(const Request& request, int status, std::uint64_t body_bytes);
    void queue_bytes(std::string bytes);
    void queue_chunk(OutputChunk chunk);
    bool over_output_limit() const { return pending_bytes_ > context_.limits().max_pending_output; }

    // llhttp callbacks
    int on_message_begin();
    int on_url(const char* at, std::size_t length);
    int on_header_field(const char* at, std::size_t length);
    int on_header_value(const char* at, std::size_t length);
    int on_headers_complete();
    int on_body(const char* at, std::size_t length);
    int on_message_complete();

    LoopContext& context_;
    llhttp_t parser_;
    std::unique_ptr<Scratch> scratch_;
    std::string peer_;
    PendingOwner* owner_ = nullptr;  ///< of the deferred response, while suspended
    std::unique_ptr<DeferredRequest> deferred_;
    const Request* current_request_ = nullptr;  ///< during dispatch only
    void* engine_data_ = nullptr;
    std::uint64_t body_keep_ = 0;  ///< body bytes the handler wants for this request
    std::uint64_t pending_bytes_ = 0;
    std::uint64_t drained_mark_ = UINT64_MAX;  ///< on_pending_drained at or below; MAX: none asked
    std::uint64_t body_bytes_ = 0;
    std::uint64_t requests_ = 0;
    std::int64_t phase_started_ms_ = 0;  ///< request start (header) or last progress (others)
    std::uint32_t url_length_ = 0;
    std::uint16_t error_status_ = 0;  ///< set by a callback that rejects the request
    bool in_message_ = false;
    bool headers_done_ = false;
    bool in_header_value_ = false;
    bool input_closed_ = false;
    bool stop_parsing_ = false;
    bool paused_ = false;
    bool failed_ = false;
    bool close_requested_ = false;
    bool aborted_ = false;
    bool stream_chunked_ = false;
    bool input_ends_in_line_break_ = false;
    bool expect_proxy_header_ = false;  ///< a PROXY header must come first
    // A streamed request body (Handler::streams_body): the handler was called at the head.
    bool body_streamed_ = false;      ///< this request's body goes to a sink as it arrives
    bool body_complete_ = false;      ///< its last byte arrived (the end may still be held)
    bool body_paused_ = false;        ///< the sink asked for no more for now
    bool body_delivering_ = false;    ///< inside deliver_body (resume_body from a sink call)
    bool continue_wanted_ = false;    ///< the client awaits "100 Continue" before the body
    /// Feeds the connection's first bytes to the PROXY header parser; returns how many of
    /// `size` belong to HTTP (the rest after the header), or SIZE_MAX when it failed.
    std::size_t read_proxy_header(const char* data,
                                  std::size_t size);  ///< the last input ended with LF and blanks
    bool stream_sized_ = false;      ///< the stream's length was announced (Content-Length)
    bool stream_head_only_ = false;  ///< a HEAD request's stream: nothing but the head
    bool ready_marked_ = false;      ///< on the LoopContext's ready list
    std::uint8_t listener_ = 0;
    Suspend suspend_ = Suspend::none;
};

inline void Pending::respond(Response& response) {
    session_->pending_respond(response);
}
inline void Pending::start_stream(Response& head) {
    session_->pending_start_stream(head);
}
inline bool Pending::start_stream(Response& head, std::uint64_t length) {
    return session_->pending_start_sized_stream(head, length);
}
inline bool Pending::notify_drained(std::uint64_t mark) {
    return session_->pending_notify_drained(mark);
}
inline bool Pending::chunked() const {
    return session_->pending_chunked();
}
inline void Pending::write(std::string_view bytes) {
    session_->pending_write(bytes);
}
inline void Pending::write_framed(core::RefPtr<Blob> blob, std::uint64_t offset,
                                  std::uint64_t length) {
    session_->pending_write_framed(std::move(blob), offset, length);
}
inline void Pending::finish() {
    session_->pending_finish();
}
inline void Pending::close() {
    session_->pending_close();
}
inline void Pending::upgrade(Response& head, UpgradedOwner& owner) {
    session_->pending_upgrade(head, owner);
}
inline void Pending::read_body(BodySink& sink) {
    session_->pending_read_body(sink);
}
inline void Pending::pause_body() {
    session_->pending_pause_body();
}
inline void Pending::resume_body() {
    session_->pending_resume_body();
}
inline void Pending::redispatch(Request& request) {
    session_->pending_redispatch(request);
}
inline std::uint64_t Pending::queued_bytes() const {
    return session_->pending_output();
}

}  // namespace c10k::http

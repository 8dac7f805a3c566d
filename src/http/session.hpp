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

namespace c10k::http {

/// What the connection is doing, which decides the timeout that applies to it.
enum class Phase : std::uint8_t {
    idle,     ///< between requests: keep-alive timeout
    header,   ///< a request head is arriving: header timeout, from its first byte
    body,     ///< a request body is arriving: body timeout, from the last progress
    writing,  ///< output is queued: send timeout, from the last progress
};

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
    /// output is queued that parsing further pipelined requests would only buffer more.
    bool wants_read() const { return !input_closed_ && !stop_parsing_ && !paused_; }
    /// True once nothing remains to send and the connection is finished.
    bool should_close() const {
        return !has_output() && !paused_ && (input_closed_ || stop_parsing_);
    }
    /// True when the Session is closing because of a protocol error; the engine should linger
    /// (shut down writing and drain input briefly) so the error response is not lost to a RST.
    bool closing_after_error() const { return failed_; }
    /// True once the peer closed its side (on_peer_closed).
    bool peer_closed() const { return input_closed_; }

    Phase phase() const;
    /// When this connection times out (monotonic ms), given its phase and last activity.
    std::int64_t deadline_ms() const;

    /// Requests answered on this connection.
    std::uint64_t requests() const { return requests_; }
    /// Set by the engine when an access log is written: the peer's address as text.
    void set_peer(std::string peer) { peer_ = std::move(peer); }

private:
    friend struct SessionCallbacks;

    void ensure_scratch();
    void maybe_release_scratch();
    void execute(const char* data, std::size_t size);
    void fail(int status);
    void dispatch();
    void queue_response(const Request& request, Response& response);
    void queue_bytes(std::string bytes);
    void queue_chunk(OutputChunk chunk);
    bool over_output_limit() const { return pending_bytes_ > context_.limits().max_pending_output; }

    // llhttp callbacks
    int on_message_begin();
    int on_url(const char* at, std::size_t length);
    int on_header_field(const char* at, std::size_t length);
    int on_header_value(const char* at, std::size_t length);
    int on_headers_complete();
    int on_body(std::size_t length);
    int on_message_complete();

    LoopContext& context_;
    llhttp_t parser_;
    std::unique_ptr<Scratch> scratch_;
    std::string peer_;
    std::uint64_t pending_bytes_ = 0;
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
};

}  // namespace c10k::http

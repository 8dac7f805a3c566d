#pragma once
// Responses that finish later. A handler that cannot answer at once calls
// Response::defer(owner) and keeps the Pending it gets; later, on an event from elsewhere (a
// publish, a backend's reply, a child's output, a helper thread's result posted to the loop),
// it answers with respond(), or opens a stream with start_stream() and appends to it.
//
// Lifetime, as uWebSockets' onAborted: the Session tells the owner when the client goes away
// (or the server stops, or the connection times out) through on_pending_closed(), and the owner
// must then drop the Pending at once. After respond(), finish() or close() the handler drops it
// itself. A Pending is used only on the loop that handed it out.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/ref_ptr.hpp"

namespace c10k::http {

class Session;
class Response;
struct Request;
struct Blob;

/// Whoever will finish a deferred response.
class PendingOwner {
public:
    /// The connection is going away without the handler's doing: forget the Pending now.
    virtual void on_pending_closed() = 0;
    /// The server stops and ends this stream next (on_pending_closed follows): a last word may
    /// be written now, such as SSE's reconnect hint when a new process takes over.
    virtual void on_pending_stopping() {}
    /// The output queued on the connection fell to the mark given to
    /// Pending::notify_drained(): a producer that paused (a proxy reading a backend) may go
    /// on. Called once per request for the notice, from the engine's write path.
    virtual void on_pending_drained() {}

protected:
    ~PendingOwner() = default;
};

/// The other protocol's side of a connection that left HTTP (Pending::upgrade): WebSocket, or a
/// tunnel. It reads and writes raw bytes through the same Session, so every engine drives it.
class UpgradedOwner : public PendingOwner {
public:
    /// Bytes the client sent after the switch, in order. Those that arrived together with the
    /// request come first (from inside upgrade() when it was called after handle() returned).
    virtual void on_upgraded_input(const char* data, std::size_t size) = 0;
    /// The server is stopping: end the protocol politely (WebSocket: close 1001) and call
    /// Pending::finish() when done; the engine's grace period bounds how long that may take.
    virtual void on_upgraded_stop() = 0;

protected:
    ~UpgradedOwner() = default;
};

/// Takes a request body as it arrives (Handler::streams_body): a proxy sends it on, a CGI
/// gateway writes it to its child, neither holding more of it than its own buffer.
class BodySink {
public:
    /// Body bytes in order, chunked framing removed. The sink takes all it is given; when it
    /// holds enough it calls Pending::pause_body(), and the Session then reads no more from
    /// the client (TCP's flow control reaches the sender) until Pending::resume_body().
    virtual void on_request_body(const char* data, std::size_t size) = 0;
    /// The body ended (a chunked body's trailers are dropped).
    virtual void on_request_body_end() = 0;

protected:
    ~BodySink() = default;
};

/// A handle on one deferred response: a pointer to its Session, nothing more.
class Pending {
public:
    Pending() = default;
    explicit Pending(Session* session) : session_(session) {}

    explicit operator bool() const { return session_ != nullptr; }

    /// Answers with a complete response (status, headers, body as for an immediate answer).
    /// Use a Response of your own: the loop's shared one may be in use by another request.
    /// Ends the Pending; further pipelined requests on the connection are then parsed.
    void respond(Response& response);
    /// Sends the head now (status and headers of `head`; its body is ignored) and keeps the
    /// body open: on HTTP/1.1 with chunked framing, on HTTP/1.0 delimited by the close.
    /// For a HEAD request the stream ends at once (write() becomes a no-op).
    void start_stream(Response& head);
    /// As start_stream, with a body of exactly `length` bytes announced in Content-Length
    /// (a proxied response whose size the backend told): write() sends raw bytes, finish()
    /// ends the response and keeps the connection alive. Writing more or fewer bytes than
    /// announced is the caller's error; a stream cut short must end with close().
    /// False when the head was the whole answer (a HEAD request, a length of 0, a 204 or
    /// 304): the Pending has ended, and nothing more may be written through it.
    bool start_stream(Response& head, std::uint64_t length);
    /// Whether the stream's bytes travel as chunks (HTTP/1.1) or raw (HTTP/1.0).
    bool chunked() const;
    /// Appends bytes to the stream, framing them as a chunk when chunked(). Copies.
    void write(std::string_view bytes);
    /// Appends bytes that are already framed for this stream (a chunk when chunked(), raw
    /// otherwise), without copying: a message sent to many subscribers is framed once and
    /// shared. The range [offset, offset + length) of the blob goes on the wire as is.
    void write_framed(core::RefPtr<Blob> blob, std::uint64_t offset, std::uint64_t length);
    /// Ends the stream cleanly (the last chunk, or the close for HTTP/1.0); ends the Pending.
    void finish();
    /// Drops the connection without finishing (a subscriber past its queue bound, a backend
    /// that broke mid-response). Ends the Pending.
    void close();
    /// Leaves HTTP: sends `head` (its status, normally 101, and headers; no body, no framing)
    /// and from then on the connection carries another protocol. Input goes to `owner`
    /// (which replaces the Pending's owner), write() and write_framed() send raw bytes,
    /// finish() closes once the output is sent, close() drops the connection. Reading pauses
    /// while more than Limits::max_pending_output is queued, so a client that sends without
    /// reading cannot make the server buffer without bound.
    void upgrade(Response& head, UpgradedOwner& owner);
    /// Bytes queued on the connection and not yet taken by the kernel: the backpressure signal
    /// (uWebSockets' getBufferedAmount).
    std::uint64_t queued_bytes() const;
    /// Asks for one PendingOwner::on_pending_drained() when queued_bytes() falls to `mark` or
    /// below. False, and nothing asked, when it already is (or nothing is streaming): the
    /// caller goes on at once.
    bool notify_drained(std::uint64_t mark);

    /// A request whose body follows (Request::body_streamed): starts handing it to `sink`,
    /// first what arrived meanwhile (from inside this call), then as it comes. Sends the
    /// client's awaited "100 Continue" now: the body is wanted. A handler that answers without
    /// reading the body gets its connection closed after the answer (the unread body would
    /// otherwise be taken for the next request).
    void read_body(BodySink& sink);
    /// Stops handing body bytes over: what arrives meanwhile is held, and past a bound the
    /// client is not read.
    void pause_body();
    /// Hands over what was held (from inside this call), and reads the client again.
    void resume_body();
    /// An internal redirect (a CGI program's local Location, RFC 3875 section 6.2.2; nginx's
    /// internal redirect): `request` is served on this connection instead, by the whole
    /// handler chain, as if the client had sent it (the caller counts `redirects`, to stop
    /// loops). Its method, target, headers and peer are the caller's; keep-alive and version
    /// stay the client's. Ends this Pending for its owner (told nothing more); a handler that
    /// defers the new request owns the answer from then on. A body not yet read is not handed
    /// over, and the connection then closes after the answer.
    void redispatch(Request& request);

private:
    Session* session_ = nullptr;
};

}  // namespace c10k::http

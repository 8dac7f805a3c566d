#pragma once
// The application side of the sans-I/O HTTP core: given a request, fill in a response.

#include "http/request.hpp"
#include "http/response.hpp"

namespace c10k::http {

class LoopContext;

/// One Handler per event loop (loops share nothing), so handlers may keep caches without locks.
/// handle() runs on the loop's thread and must not block. It answers at once by filling the
/// response, or later through Response::defer() (see http/pending.hpp).
class Handler {
public:
    virtual ~Handler() = default;
    virtual void handle(const Request& request, Response& response) = 0;

    /// The loop that owns this handler starts (on its thread, before any request) and stops
    /// (after its last connection closed). Handlers that use the loop's services (timers, the
    /// mailbox other threads post to) or register with something process-wide do it here.
    virtual void on_loop_start(LoopContext& context) {}
    virtual void on_loop_stop(LoopContext& context) {}

    /// How many bytes of a request body that arrived on `listener` (the index of its
    /// --listen address) the handler wants in Request::body; larger bodies get 413. 0 (the
    /// default) reads and discards bodies, so a static server holds none.
    virtual std::uint64_t body_limit(std::uint8_t listener) const { return 0; }

    /// Whether a request body that arrives on `listener` is handed over as it comes rather
    /// than read whole first: handle() is called once the head is in, with
    /// Request::body_streamed set, and the handler reads the body through
    /// Pending::read_body(). The body's size is then bounded by Limits::max_body_bytes only,
    /// and memory by the handler's own buffer. For a proxy or a gateway whose uploads may be
    /// larger than memory. (An Upgrade request's body is still read whole: body_limit.)
    virtual bool streams_body(std::uint8_t listener) const { return false; }

    /// Whether requests need Request::peer (the client's address), as a proxy's
    /// X-Forwarded-For does. Off by default: formatting it costs every connection a little.
    virtual bool wants_peer() const { return false; }

    /// Whether handle() may be given `request` on another thread than the loop's (the staged
    /// engine's handler stage runs it on a pool thread, with an instance of its own that only
    /// that thread uses). True promises that, for this request, handle() answers at once (never
    /// defers) and uses no service of the loop (LoopContext's timers, mailbox, descriptors).
    /// False (the default) keeps the request on its loop, as every other engine does.
    virtual bool answers_off_loop(const Request& request) const { return false; }
};

}  // namespace c10k::http

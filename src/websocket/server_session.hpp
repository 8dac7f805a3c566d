#pragma once
// ServerSession: a WebSocket connection on the server, joining the sans-I/O Connection to the
// HTTP connection it came from (http::Pending::upgrade). Bytes the engine reads go through
// http::Session to the Connection; frames it writes go back through the same Session's output
// queue. So every engine that drives http::Session (epoll, poll, select, sigio, io_uring, the
// thread engine) drives WebSocket with no code of its own, and keep-alive pings and the close
// timeout run on the loop's timer wheel.
//
// A ServerSession owns itself: accept() makes it, and it frees itself after telling its
// Endpoint the connection is over (on_session_closed). Endpoint callbacks may send and close;
// a session is never freed inside a callback or a call made from one.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/context.hpp"
#include "http/handler.hpp"
#include "http/pending.hpp"
#include "websocket/connection.hpp"
#include "websocket/handshake.hpp"

namespace c10k::websocket {

/// What a server accepts and how its connections behave; shared by every loop (read only).
struct ServerConfig {
    Options options;
    HandshakePolicy policy;
    /// Push: compress a message once per loop and send the same frame to every subscriber that
    /// agreed to permessage-deflate (they are then always given server_no_context_takeover).
    /// False compresses for each subscriber apart, with its own context: only to measure what
    /// sharing saves.
    bool share_compressed = true;
};

class ServerSession;

/// The application's side of the server's WebSocket connections (an echo location, push
/// channels). Called on the connection's loop.
class Endpoint {
public:
    /// A whole message from the client.
    virtual void on_message(ServerSession& session, MessageType type, std::string_view payload) = 0;
    /// The connection is over: `code` is the close code received (1005 when none), the one
    /// sent after a protocol error, or 1006 when the client vanished. The session is freed
    /// when this returns; forget it.
    virtual void on_session_closed(ServerSession& session, std::uint16_t code) = 0;

protected:
    ~Endpoint() = default;
};

/// Fills a refusal into `response` (status, headers, a one-line reason as the body).
void refuse(const HandshakeResult& result, http::Response& response);

/// The handshake as http::Request saw it.
HandshakeRequest handshake_request(const http::Request& request);

/// True when a request asks to switch to WebSocket (an Upgrade header naming it): a location
/// that also serves plain HTTP answers the others itself.
bool wants_websocket(const http::Request& request);

class ServerSession final : public http::UpgradedOwner,
                            private ConnectionHandler,
                            private ConnectionOutput,
                            private http::TimerTask {
public:
    /// Checks the opening handshake of `request`. Accepted: switches the connection (101) and
    /// returns the new session, which belongs to itself. Refused: fills `response` with the
    /// status and reason and returns nullptr. Call from Handler::handle().
    static ServerSession* accept(const http::Request& request, http::Response& response,
                                 http::LoopContext& context, const ServerConfig& config,
                                 Endpoint& endpoint);

    /// Sends a message (copied; compressed when permessage-deflate was agreed and it gains).
    /// False once nothing can be sent any more.
    bool send_text(std::string_view payload);
    bool send_binary(std::string_view payload);
    /// Queues whole frames built once for many connections (push fan-out), without copying.
    /// Frames with RSV1 suit only sessions whose deflate() says server_no_context_takeover.
    bool send_shared(core::RefPtr<http::Blob> frames, std::uint64_t offset, std::uint64_t length);
    /// Starts the close handshake (code and reason sent; the session ends when the client
    /// answers, or after the close timeout).
    void close(std::uint16_t code, std::string_view reason = {});
    /// Drops the connection at once, without a close frame (a subscriber past its queue bound).
    void abort();

    /// Bytes queued for this client and not yet taken by the kernel.
    std::uint64_t queued_bytes() const;
    /// permessage-deflate's agreed parameters, or null.
    const DeflateParams* deflate() const { return connection_.deflate_params(); }
    /// The subprotocol agreed in the handshake (empty for none).
    const std::string& subprotocol() const { return subprotocol_; }
    /// True while messages may be sent.
    bool open() const { return !ended_ && connection_.can_send(); }

    /// The endpoint's own per-connection state.
    void* user = nullptr;

private:
    ServerSession(http::LoopContext& context, const ServerConfig& config, Endpoint& endpoint,
                  std::optional<DeflateParams> deflate);
    ~ServerSession() override;

    // http::UpgradedOwner
    void on_pending_closed() override;
    void on_upgraded_input(const char* data, std::size_t size) override;
    void on_upgraded_stop() override;
    // ConnectionHandler
    void on_message(MessageType type, std::string_view payload) override;
    void on_close(std::uint16_t code, std::string_view reason) override;
    // ConnectionOutput
    void write(std::string frames) override;
    // http::TimerTask
    void on_timer() override;

    /// Brackets every entry point: the outermost one ends the session if it is over, and
    /// re-arms the timer otherwise.
    struct Entry {
        explicit Entry(ServerSession& s) : session(s) { ++session.depth_; }
        ~Entry() {
            if (--session.depth_ == 0) session.settle();
        }
        ServerSession& session;
    };
    void settle();

    http::LoopContext& context_;
    Endpoint& endpoint_;
    http::Pending pending_;
    Connection connection_;
    std::string subprotocol_;
    std::uint16_t close_code_ = 0;
    std::uint16_t depth_ = 0;
    bool ended_ = false;  ///< on_session_closed was called
};

}  // namespace c10k::websocket

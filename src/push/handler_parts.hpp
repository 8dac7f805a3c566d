#pragma once
// PushHandler's private parts, shared by handler.cpp (SSE, long-poll, the publish API) and
// handler_ws.cpp (WebSocket).

#include <array>
#include <memory>
#include <string>

#include "core/handover.hpp"
#include "http/pending.hpp"
#include "push/handler.hpp"
#include "push/sse.hpp"

namespace c10k::push {

struct PushHandler::Subscriber final : http::PendingOwner, http::TimerTask {
    Subscriber(PushHandler& h, LocalChannel& c) : handler(h), channel(&c) {}
    void on_pending_closed() override {
        // The client left, timed out, or the server is stopping: the Pending is gone.
        pending = http::Pending();
        handler.drop(*this);
    }
    void on_pending_stopping() override {
        // A successor takes over: come back soon rather than after the usual retry.
        if (sse && pending && core::handover_draining()) {
            std::string hint;
            append_sse_retry(hint, kHandoverRetryMs);
            pending.write(hint);
        }
    }
    void on_timer() override { handler.on_long_poll_timeout(*this); }

    /// The SSE reconnect delay asked for as the server hands over to a new process.
    static constexpr std::int64_t kHandoverRetryMs = 250;

    PushHandler& handler;
    LocalChannel* channel;
    http::Pending pending;
    std::uint64_t last_id = 0;  ///< the newest id this subscriber has (or was told of)
    std::uint64_t incarnation = 0;
    std::int64_t last_write_ms = 0;
    bool sse = false;
    /// Redis backplane: the channel cannot say yet what this subscriber must be sent (not
    /// loaded, or the resume id is ahead); last_id holds the resume id meanwhile.
    bool waiting = false;
    bool resume = false;     ///< it came with a resume id (last_id while waiting)
    bool waited = false;     ///< a catch-up was asked for it: an id still ahead is lost
    WsClient* ws = nullptr;  ///< a WebSocket subscription: delivered through ws->session
    Subscriber* prev = nullptr;
    Subscriber* next = nullptr;
    Subscriber* ws_next = nullptr;  ///< the same WebSocket's other subscriptions
};

struct PushHandler::LocalChannel {
    explicit LocalChannel(std::string_view n) : name(n) {}
    std::string name;
    Subscriber* head = nullptr;
    std::size_t count = 0;
    // The last message framed on this loop, per transport: framed once, shared by every
    // subscriber's output queue.
    std::uint64_t framed_id = 0;
    core::RefPtr<http::Blob> sse_chunked;
    core::RefPtr<http::Blob> sse_raw;
    std::string ws_payload;                                ///< the JSON envelope, once framed
    core::RefPtr<http::Blob> ws_plain;                     ///< an uncompressed text frame
    std::array<core::RefPtr<http::Blob>, 16> ws_deflated;  ///< compressed, by window bits
    bool ws_incompressible = false;  ///< compressing framed_id's message did not pay

    /// Forgets the frames of the previous message when `id` is another one.
    void frame_message(std::uint64_t id) {
        if (framed_id == id) return;
        framed_id = id;
        sse_chunked = {};
        sse_raw = {};
        ws_payload.clear();
        ws_plain = {};
        for (auto& frame : ws_deflated) frame = {};
        ws_incompressible = false;
    }
};

/// A publish or delete waiting for Redis's answer.
struct PushHandler::PublishWait final : http::PendingOwner {
    void on_pending_closed() override { pending = http::Pending(); }
    http::Pending pending;
};

/// One WebSocket connection of the push locations (a subscriber of any number of channels) or
/// of the publish listener (a publisher to one channel).
struct PushHandler::WsClient {
    explicit WsClient(websocket::ServerSession& s) : session(&s) {}
    websocket::ServerSession* session;
    Subscriber* subscriptions = nullptr;  ///< singly linked through ws_next
    std::size_t count = 0;
    std::string publish_channel;  ///< set on the publish listener
    /// A publisher with the backplane: answers come later, and find it through this (null once
    /// the connection is gone).
    std::shared_ptr<WsClient*> self;
    WsClient* prev = nullptr;
    WsClient* next = nullptr;
};

}  // namespace c10k::push

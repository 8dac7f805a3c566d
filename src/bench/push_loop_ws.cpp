// PushLoop's WebSocket subscribers (--ws): the handshake (resuming with ?last_event_id= after
// a drop), the check of the 101, the Connection that reads frames and answers pings, and the
// server's JSON envelope turned into the same accounting as SSE events.

#include <algorithm>
#include <cstring>

#include "bench/push_loop.hpp"
#include "bench/push_message.hpp"
#include "bench/ws_message.hpp"
#include "websocket/handshake.hpp"

namespace c10k::bench {
namespace {

constexpr std::string_view history_lost_event = "history-lost";
constexpr std::string_view subscribed_event = "subscribed";
constexpr std::string_view unsubscribed_event = "unsubscribed";

}  // namespace

void PushLoop::build_ws_request(Subscriber& sub) {
    SubscriberExtra& extra = sub.need_extra();
    std::string key = websocket::make_client_key();
    std::memcpy(extra.ws_key.data(), key.data(), std::min(key.size(), extra.ws_key.size()));
    // Resume where this subscriber is: after the last id it saw, or, before its first message,
    // at the channel position the server reported when it subscribed.
    std::optional<std::uint64_t> resume;
    if (extra.have_resume) {
        resume = extra.resume_id;
    } else if (sub.have_id) {
        resume = sub.last_id;
    }
    scratch_.clear();
    append_ws_request(scratch_, ws_requests_[sub.target],
                      std::string_view(extra.ws_key.data(), extra.ws_key.size()), resume);
}

bool PushLoop::on_ws_head(Subscriber& sub, const PushResponseParser::Head& head) {
    SubscriberExtra& extra = sub.need_extra();
    WsHandshakeCheck check = check_ws_handshake(
        head, std::string_view(extra.ws_key.data(), extra.ws_key.size()), options_.ws.deflate);
    switch (check.outcome) {
        case WsHandshakeCheck::Outcome::refused:
            stats_.bad_status[head.status]++;
            sub.drop = DropReason::refused;
            return false;
        case WsHandshakeCheck::Outcome::bad_handshake:
            stats_.ws.bad_handshakes++;
            stats_.protocol_errors++;
            sub.drop = DropReason::refused;
            return false;
        case WsHandshakeCheck::Outcome::accepted:
            break;
    }
    stats_.ws.handshakes++;
    if (check.deflate) stats_.ws.deflate_agreed++;
    static const WsLinkCallbacks callbacks{&PushLoop::ws_message_thunk, &PushLoop::ws_close_thunk,
                                           &PushLoop::ws_output_thunk};
    extra.ws_context = SubscriberRef{this, &sub};
    extra.ws = std::make_unique<WsLink>(ws_options_, callbacks, &extra.ws_context,
                                        now_ns_ / 1'000'000, check.deflate);
    sub.subscribed = true;
    open_++;
    settle(sub);
    if (sub.ever_subscribed && counting()) count(sub, [](PushStats& s) { s.reconnects++; });
    sub.ever_subscribed = true;
    sub.failures = 0;
    return true;
}

bool PushLoop::feed_ws(Subscriber& sub, const char* data, std::size_t size) {
    WsLink* link = sub.ws();
    if (!link) {
        // Upgraded without an accepted head cannot happen (on_ws_head stops the parser first).
        stats_.protocol_errors++;
        drop(sub, DropReason::refused);
        return false;
    }
    if (size > 0) link->connection().feed(data, size, now_ns_ / 1'000'000);
    if (sub.has_unsent()) flush(sub);
    if (sub.state != ConnectionState::open) return false;  // the flush found the socket gone
    if (link->connection().finished() || sub.drop != DropReason::none) {
        drop(sub, sub.drop == DropReason::none ? DropReason::stream_closed : sub.drop);
        return false;
    }
    return true;
}

void PushLoop::ws_message_thunk(void* context, websocket::MessageType, std::string_view payload) {
    auto* ref = static_cast<SubscriberRef*>(context);
    ref->loop->on_ws_message(*ref->sub, payload);
}

void PushLoop::ws_close_thunk(void* context, std::uint16_t code) {
    auto* ref = static_cast<SubscriberRef*>(context);
    ref->loop->on_ws_close(*ref->sub, code);
}

void PushLoop::ws_output_thunk(void* context, std::string frames) {
    // Pongs and the close reply: queued, and flushed once feed() has returned.
    static_cast<SubscriberRef*>(context)->sub->need_extra().unsent += frames;
}

void PushLoop::ws_peer_closed(Subscriber& sub) {
    if (!sub.ws()) return;
    // Reports 1006 through on_ws_close unless a close handshake already ended it.
    sub.ws()->connection().on_peer_closed();
}

void PushLoop::on_ws_close(Subscriber& sub, std::uint16_t code) {
    if (counting() && phase_ != Phase::done) stats_.ws.close_codes[code]++;
    if (sub.ws() && sub.ws()->connection().failed()) {
        // The server broke the protocol: a refusal, retried after a pause.
        stats_.protocol_errors++;
        sub.drop = DropReason::refused;
    } else if (sub.drop == DropReason::none) {
        sub.drop = DropReason::stream_closed;
    }
}

void PushLoop::on_ws_message(Subscriber& sub, std::string_view payload) {
    WsEnvelope envelope;
    if (!parse_ws_envelope(payload, envelope, ws_scratch_)) {
        if (counting()) stats_.without_id++;
        return;
    }
    if (envelope.has_error) {
        // The server refused a command; the bench sends none, so this is a server fault.
        stats_.protocol_errors++;
        return;
    }
    if (envelope.has_id) {
        auto id = parse_decimal_id(envelope.id);
        if (!id) {
            if (counting()) stats_.without_id++;
            return;
        }
        on_message(sub, *id, envelope.data);
        return;
    }
    if (envelope.event == subscribed_event) {
        // Before its first message a subscriber resumes from here, so a drop loses nothing.
        auto position = parse_decimal_id(envelope.last_id);
        if (!sub.have_id && position) {
            SubscriberExtra& extra = sub.need_extra();
            extra.resume_id = *position;
            extra.have_resume = true;
        }
    } else if (envelope.event == history_lost_event) {
        if (counting()) count(sub, [](PushStats& s) { s.history_lost++; });
        sub.resync = sub.have_id;
    } else if (envelope.event == unsubscribed_event) {
        // The channel was deleted: like an SSE stream's end, subscribe again, resuming.
        sub.drop = DropReason::stream_closed;
    } else if (counting()) {
        stats_.without_id++;
    }
}

}  // namespace c10k::bench

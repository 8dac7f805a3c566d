// PushHandler's WebSocket transport: subscribers of several channels on one connection, and
// publishers on the publish listener (push/ws_format.hpp has the messages).

#include <fmt/core.h>

#include <algorithm>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "push/handler.hpp"
#include "push/handler_parts.hpp"
#include "push/names.hpp"
#include "push/ws_format.hpp"
#include "websocket/frame.hpp"

namespace c10k::push {

namespace {

/// The id a WebSocket subscriber resumes after: as for SSE, Last-Event-ID or ?last_event_id=.
std::optional<std::uint64_t> resume_after(const http::Request& request) {
    std::string_view text = request.header("last-event-id");
    if (text.empty()) text = query_param(request.query(), "last_event_id");
    if (text.empty()) return std::nullopt;
    return parse_event_id(text);
}

void refuse_plain(http::Response& response, int status, std::string_view text) {
    response.set_status(status);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.set_body(std::string(text) + "\n");
}

}  // namespace

void PushHandler::subscribe_websocket(const http::Request& request, http::Response& response,
                                      std::string_view name) {
    if (!ws_subscribers_) {
        refuse_plain(response, 501, "WebSocket is not served here");
        return;
    }
    // GET <prefix> alone opens a connection that subscribes by command only.
    if (!name.empty() && !valid_channel_name(name)) {
        refuse_plain(response, 400,
                     "bad channel name: use 1-128 of A-Z a-z 0-9 . _ ~ : @ - (not . or ..)");
        return;
    }
    auto* session =
        websocket::ServerSession::accept(request, response, *context_, *ws_subscribers_, *this);
    if (session == nullptr) return;  // refused: the response says why
    auto* client = new WsClient(*session);
    session->user = client;
    client->next = ws_clients_;
    if (ws_clients_ != nullptr) ws_clients_->prev = client;
    ws_clients_ = client;
    ++stats_.websocket_sessions;
    if (!name.empty()) ws_subscribe(*client, name, resume_after(request));
}

void PushHandler::publish_websocket(const http::Request& request, http::Response& response,
                                    std::string_view name) {
    if (!ws_publishers_) {
        refuse_plain(response, 501, "WebSocket is not served here");
        return;
    }
    auto* session =
        websocket::ServerSession::accept(request, response, *context_, *ws_publishers_, *this);
    if (session == nullptr) return;
    auto* client = new WsClient(*session);
    client->publish_channel = std::string(name);
    session->user = client;
    client->next = ws_clients_;
    if (ws_clients_ != nullptr) ws_clients_->prev = client;
    ws_clients_ = client;
    ++stats_.websocket_sessions;
}

void PushHandler::ws_subscribe(WsClient& client, std::string_view name,
                               std::optional<std::uint64_t> after) {
    std::string out;
    for (Subscriber* s = client.subscriptions; s != nullptr; s = s->ws_next) {
        if (s->channel->name == name) {
            append_ws_error(out, fmt::format("already subscribed to '{}'", name));
            client.session->send_text(out);
            return;
        }
    }
    if (client.count >= kMaxWsSubscriptions) {
        append_ws_error(out,
                        fmt::format("at most {} channels per connection", kMaxWsSubscriptions));
        client.session->send_text(out);
        return;
    }
    Registry::Subscribed subscribed =
        hub_->registry().subscribe(name, loop_, after, options_.first_count, core::wall_ms());
    ask_backplane(name, subscribed);
    LocalChannel& channel = local_channel(name);
    auto* subscriber = new Subscriber(*this, channel);
    subscriber->ws = &client;
    subscriber->incarnation = subscribed.incarnation;
    subscriber->waiting = subscribed.wait;
    subscriber->resume = after.has_value();
    subscriber->waited = subscribed.need_catch_up;
    subscriber->last_id = subscribed.wait ? after.value_or(0) : subscribed.last_id;
    subscriber->last_write_ms = context_->now_ms();
    link(channel, *subscriber);
    subscriber->ws_next = client.subscriptions;
    client.subscriptions = subscriber;
    ++client.count;
    ++stats_.subscribed;
    // A waiting subscriber is told "subscribed" when the channel is ready (channel_ready).
    if (!subscribed.wait) ws_send_backlog(client, name, subscribed, after);
}

void PushHandler::ws_send_backlog(WsClient& client, std::string_view name,
                                  const Registry::Subscribed& subscribed,
                                  std::optional<std::uint64_t> after) {
    std::string out;
    append_ws_subscribed(out, name, subscribed.last_id);
    client.session->send_text(out);
    if (subscribed.lost) {
        out.clear();
        append_ws_history_lost(out, name, after.value_or(0),
                               subscribed.backlog.empty() ? 0 : subscribed.backlog.front()->id);
        client.session->send_text(out);
    }
    for (const auto& message : subscribed.backlog) {
        out.clear();
        append_ws_event(out, name, *message);
        client.session->send_text(out);
    }
}

void PushHandler::ws_unsubscribe(WsClient& client, std::string_view name) {
    std::string out;
    for (Subscriber* s = client.subscriptions; s != nullptr; s = s->ws_next) {
        if (s->channel->name == name) {
            drop(*s);
            append_ws_unsubscribed(out, name);
            client.session->send_text(out);
            return;
        }
    }
    append_ws_error(out, fmt::format("not subscribed to '{}'", name));
    client.session->send_text(out);
}

void PushHandler::send_to_ws(Subscriber& subscriber, LocalChannel& channel,
                             const Message& message) {
    websocket::ServerSession& session = *subscriber.ws->session;
    if (!session.open()) return;  // closing: its end drops the subscription
    channel.frame_message(message.id);
    if (!channel.ws_plain) {
        channel.ws_payload.clear();
        append_ws_event(channel.ws_payload, channel.name, message);
        channel.ws_plain = core::RefPtr<http::Blob>(
            new http::Blob(websocket::make_frame(websocket::Opcode::text, channel.ws_payload)));
    }
    core::RefPtr<http::Blob>* frame = &channel.ws_plain;
    const websocket::DeflateParams* deflate = session.deflate();
    if (deflate != nullptr && !ws_subscribers_->share_compressed) {
        // Measuring what sharing saves: this subscriber's own compressor, with its context.
        if (session.queued_bytes() > options_.max_queue_bytes) {
            session.abort();
            return;
        }
        session.send_text(channel.ws_payload);
        subscriber.last_id = message.id;
        subscriber.last_write_ms = context_->now_ms();
        count_delivered();
        return;
    }
    if (deflate != nullptr && deflate->server_no_context_takeover && !channel.ws_incompressible &&
        message.data.size() >= ws_subscribers_->options.compress_min_bytes) {
        // Compressed once per loop and window size, and shared: every message is compressed
        // alone (no context), which every client that agreed to deflate can read.
        int bits = std::clamp(deflate->server_max_window_bits, 9, 15);
        core::RefPtr<http::Blob>& compressed = channel.ws_deflated[static_cast<std::size_t>(bits)];
        if (!compressed) {
            auto& deflater = ws_deflaters_[static_cast<std::size_t>(bits)];
            if (!deflater) deflater = std::make_unique<websocket::Deflater>(bits, true);
            std::string packed;
            if (deflater->compress(channel.ws_payload, packed) &&
                packed.size() < channel.ws_payload.size()) {
                std::string wire;
                websocket::append_frame(wire, websocket::Opcode::text, packed, true, true);
                compressed = core::RefPtr<http::Blob>(new http::Blob(std::move(wire)));
            } else {
                channel.ws_incompressible = true;
            }
        }
        if (compressed) frame = &compressed;
    }
    std::uint64_t queued = session.queued_bytes();
    std::uint64_t size = (*frame)->data.size();
    if (queued + size > options_.max_queue_bytes) {
        count_closed_slow();
        if (slow_log_.allow(context_->now_ms())) {
            core::log(core::LogLevel::warn,
                      "closing a slow WebSocket subscriber of channel '{}': {} bytes queued, over "
                      "--push-max-queue {} ({} closed on this loop so far)",
                      channel.name, queued, options_.max_queue_bytes, stats_.closed_slow);
        }
        session.abort();  // its end drops every subscription it had, this one included
        return;
    }
    session.send_shared(*frame, 0, size);
    subscriber.last_id = message.id;
    subscriber.last_write_ms = context_->now_ms();
    count_delivered();
}

void PushHandler::on_message(websocket::ServerSession& session, websocket::MessageType type,
                             std::string_view payload) {
    auto& client = *static_cast<WsClient*>(session.user);
    if (!client.publish_channel.empty()) {
        if (payload.size() > options_.max_message_bytes) {
            session.close(websocket::close_code::message_too_big, "over --push-max-message");
            return;
        }
        std::string content_type = type == websocket::MessageType::text
                                       ? "text/plain; charset=utf-8"
                                       : "application/octet-stream";
        if (hub_->external()) {
            // Acknowledged in order when Redis answers: one connection carries the publishes
            // of this loop, and Redis answers them in the order they were sent.
            if (!client.self) client.self = std::make_shared<WsClient*>(&client);
            publish_external(
                client.publish_channel, "", std::string(payload), std::move(content_type),
                [self = client.self](const PublishOutcome& outcome) {
                    WsClient* publisher = *self;
                    if (publisher == nullptr || !publisher->session->open()) return;
                    std::string channel = core::json_quote(publisher->publish_channel);
                    publisher->session->send_text(
                        outcome.ok
                            ? fmt::format("{{\"channel\":{},\"id\":\"{}\",\"receivers\":{}}}",
                                          channel, outcome.message->id, outcome.receivers)
                            : fmt::format("{{\"channel\":{},\"error\":{}{}}}", channel,
                                          core::json_quote(outcome.error),
                                          outcome.unknown ? ",\"maybe_published\":true" : ""));
                });
            return;
        }
        auto published = hub_->publish(client.publish_channel, "", std::string(payload),
                                       std::move(content_type));
        if (!published.message) {  // a handover (reload, upgrade): the new process takes it
            session.send_text(fmt::format(
                "{{\"channel\":{},\"error\":\"the server is reloading: publish again\"}}",
                core::json_quote(client.publish_channel)));
            return;
        }
        session.send_text(fmt::format("{{\"channel\":{},\"id\":\"{}\",\"subscribers\":{}}}",
                                      core::json_quote(client.publish_channel),
                                      published.message->id, published.subscribers));
        return;
    }
    WsCommand command;
    std::string error;
    if (type != websocket::MessageType::text || !parse_ws_command(payload, command, error)) {
        if (error.empty()) error = "commands are text messages";
        std::string out;
        append_ws_error(out, error);
        session.send_text(out);
        return;
    }
    if (command.kind == WsCommand::Kind::subscribe) {
        ws_subscribe(client, command.channel, command.last_event_id);
    } else {
        ws_unsubscribe(client, command.channel);
    }
}

void PushHandler::on_session_closed(websocket::ServerSession& session, std::uint16_t code) {
    auto* client = static_cast<WsClient*>(session.user);
    if (client->self) *client->self = nullptr;
    while (client->subscriptions != nullptr) drop(*client->subscriptions);
    if (client->prev != nullptr) client->prev->next = client->next;
    if (client->next != nullptr) client->next->prev = client->prev;
    if (ws_clients_ == client) ws_clients_ = client->next;
    --stats_.websocket_sessions;
    delete client;
}

void PushHandler::close_websockets() {
    for (WsClient* client = ws_clients_; client != nullptr;) {
        WsClient* next = client->next;
        client->session->close(websocket::close_code::service_restart, "reconnect and resume");
        client = next;
    }
}

}  // namespace c10k::push

#include "push/handler.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "http/session.hpp"
#include "push/backplane.hpp"
#include "push/group_member.hpp"
#include "push/handler_parts.hpp"
#include "push/info_json.hpp"
#include "push/names.hpp"
#include "push/sse.hpp"
#include "push/ws_format.hpp"

namespace c10k::push {

namespace {

constexpr std::string_view kPublishPath = "/pub/";
constexpr std::int64_t kTickMs = 1000;
/// A handover: how often loop 0 looks whether the old process's channels came, and when it
/// stops waiting for them (the old process is stuck: its subscribers' history is lost).
constexpr std::int64_t kHandoverPollMs = 5;
constexpr std::int64_t kHandoverGiveUpMs = 30'000;

void append_chunk(std::string& out, std::string_view bytes) {
    char size[20];
    auto end = std::to_chars(size, size + sizeof size, bytes.size(), 16).ptr;
    out.append(size, end);
    out.append("\r\n");
    out.append(bytes);
    out.append("\r\n");
}

std::string quoted_id(std::uint64_t id) {
    return fmt::format("\"{}\"", id);
}

void plain(http::Response& response, int status, std::string_view text) {
    response.set_status(status);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.add_header("Cache-Control", "no-store");
    response.set_body(std::string(text) + "\n");
}

void json(http::Response& response, int status, std::string body) {
    response.set_status(status);
    response.add_header("Content-Type", "application/json");
    response.add_header("Cache-Control", "no-store");
    response.set_body(std::move(body) + "\n");
}

/// The id a subscriber says it saw last: Last-Event-ID (EventSource sends it on reconnect), the
/// last_event_id query parameter (a page that reconnects by hand), or an ETag-style
/// If-None-Match (long-poll clients that echo the ETag). Malformed ids count as none.
std::optional<std::uint64_t> last_seen_id(const http::Request& request) {
    std::string_view text = request.header("last-event-id");
    if (text.empty()) text = query_param(request.query(), "last_event_id");
    if (text.empty()) text = request.header("if-none-match");
    if (text.empty()) return std::nullopt;
    return parse_event_id(text);
}

/// A long-poll's answer carrying one message: its id as the ETag, its event, its body.
void set_message_answer(http::Response& response, const Message& message) {
    response.add_header("ETag", quoted_id(message.id));
    if (!message.event.empty()) response.add_header("X-Event", message.event);
    response.add_header("Content-Type", message.content_type.empty()
                                            ? std::string_view("text/plain; charset=utf-8")
                                            : std::string_view(message.content_type));
    response.set_body(message.data);
}

/// A long-poll that has something to take now (what it missed, or that it cannot have it):
/// one message per poll, or the history-lost notice.
void answer_poll_now(http::Response& response, const Registry::Subscribed& subscribed,
                     std::optional<std::uint64_t> after) {
    response.add_header("Cache-Control", "no-cache");
    if (subscribed.lost) {
        const MessagePtr first = subscribed.backlog.empty() ? nullptr : subscribed.backlog.front();
        // The next poll asks for what follows the one before the oldest held: it gets that.
        std::uint64_t resume = first ? first->prev_id : subscribed.last_id;
        response.add_header("ETag", quoted_id(resume));
        response.add_header("X-Event", "history-lost");
        std::string body;
        append_sse_history_lost(body, after.value_or(0), first ? first->id : 0);
        // The SSE framing carries the JSON in its data line: hand the JSON alone.
        auto start = body.find("data: ");
        auto stop = body.find('\n', start);
        json(response, 200, body.substr(start + 6, stop - start - 6));
        return;
    }
    set_message_answer(response, *subscribed.backlog.front());
}

/// What an SSE subscriber is sent before live messages: the history-lost notice, the backlog.
void append_sse_backlog(std::string& out, const Registry::Subscribed& subscribed,
                        std::optional<std::uint64_t> after) {
    if (subscribed.lost) {
        append_sse_history_lost(out, after.value_or(0),
                                subscribed.backlog.empty() ? 0 : subscribed.backlog.front()->id);
    }
    for (const auto& message : subscribed.backlog) append_sse_event(out, *message);
}

}  // namespace

struct PushHandler::Tick final : http::TimerTask {
    explicit Tick(PushHandler& h) : handler(h) {}
    void on_timer() override { handler.on_tick(); }
    PushHandler& handler;
};

struct PushHandler::HandoverTick final : http::TimerTask {
    explicit HandoverTick(PushHandler& h) : handler(h) {}
    void on_timer() override { handler.on_handover_tick(); }
    PushHandler& handler;
};

struct PushHandler::PeriodicTick final : http::TimerTask {
    explicit PeriodicTick(PushHandler& h) : handler(h) {}
    void on_timer() override { handler.publish_periodic(); }
    PushHandler& handler;
};

PushHandler::PushHandler(std::shared_ptr<Hub> hub, std::unique_ptr<http::Handler> fallback,
                         std::shared_ptr<const websocket::ServerConfig> websocket)
    : hub_(std::move(hub)),
      options_(hub_->options()),
      fallback_(std::move(fallback)),
      heartbeat_raw_(new http::Blob(std::string(sse_heartbeat()))) {
    if (websocket) {
        // Subscribers send only commands; every message to them is compressed alone, so one
        // compressed frame per loop serves all (RFC 7692 server_no_context_takeover).
        auto subscribers = std::make_shared<websocket::ServerConfig>(*websocket);
        subscribers->options.max_message_bytes = kMaxCommandBytes;
        if (websocket->share_compressed) {
            subscribers->policy.deflate.server_no_context_takeover = true;
        }
        ws_subscribers_ = std::move(subscribers);
        auto publishers = std::make_shared<websocket::ServerConfig>(*websocket);
        publishers->options.max_message_bytes = options_.max_message_bytes;
        ws_publishers_ = std::move(publishers);
    }
    std::string chunked;
    append_chunk(chunked, sse_heartbeat());
    heartbeat_chunked_ = core::RefPtr<http::Blob>(new http::Blob(std::move(chunked)));
}

PushHandler::~PushHandler() {
    // Connections close before the loop stops, and closing drops every subscriber, so nothing
    // is left here; the loop's timer wheel may be gone already, so nothing is cancelled.
    context_ = nullptr;
    free_subscribers();
}

void PushHandler::free_subscribers() {
    for (auto& entry : channels_) {
        Subscriber* s = entry.second->head;
        while (s != nullptr) {
            Subscriber* next = s->next;
            if (context_ != nullptr) {
                context_->timers().cancel(*s);
                context_->count(&http::LoopMetrics::push_unsubscribed);
            }
            delete s;
            s = next;
        }
        entry.second->head = nullptr;
        entry.second->count = 0;
    }
}

void PushHandler::on_loop_start(http::LoopContext& context) {
    context_ = &context;
    loop_ = context.loop_index();
    hub_->attach(loop_, *this, context.mailbox());
    tick_ = std::make_unique<Tick>(*this);
    context.timers().schedule(*tick_, context.now_ms() + kTickMs);
    next_heartbeat_ms_ = context.now_ms() + options_.heartbeat_ms;
    if (loop_ == 0 && hub_->in_group()) {
        group_ = std::make_unique<GroupMember>(*hub_, context);
        group_->start();
    }
    if (loop_ == 0 && options_.redis) {
        backplane_ =
            std::make_unique<Backplane>(*hub_, context, *options_.redis, hub_->registry().limits());
        backplane_->start();
    }
    if (loop_ == 0 && hub_->refusing_publishes() && !hub_->external()) {
        // A handover: the old process's channels are on their way (Hub::await_handover).
        handover_tick_ = std::make_unique<HandoverTick>(*this);
        context.timers().schedule(*handover_tick_, context.now_ms() + kHandoverPollMs);
    }
    if (loop_ == 0 && options_.periodic && hub_->process_index() == 0) {
        periodic_ = std::make_unique<PeriodicTick>(*this);
        publish_periodic();
    }
    if (fallback_) fallback_->on_loop_start(context);
}

void PushHandler::on_loop_stop(http::LoopContext& context) {
    hub_->detach(loop_);
    if (group_) group_->stop();
    if (backplane_) backplane_->stop();
    if (tick_) context.timers().cancel(*tick_);
    if (periodic_) context.timers().cancel(*periodic_);
    if (handover_tick_) context.timers().cancel(*handover_tick_);
    free_subscribers();  // none, unless the loop stopped with connections open
    context_ = nullptr;
    if (fallback_) fallback_->on_loop_stop(context);
}

bool PushHandler::streams_body(std::uint8_t listener) const {
    // The publish listener reads its messages whole; the rest is the fallback's to say.
    if (options_.publish_listener >= 0 && listener == options_.publish_listener) return false;
    return fallback_ && fallback_->streams_body(listener);
}

std::uint64_t PushHandler::body_limit(std::uint8_t listener) const {
    if (options_.publish_listener >= 0 && listener == options_.publish_listener) {
        return options_.max_message_bytes;
    }
    return fallback_ ? fallback_->body_limit(listener) : 0;
}

bool PushHandler::answers_off_loop(const http::Request& request) const {
    if (options_.publish_listener >= 0 && request.listener == options_.publish_listener) {
        return false;
    }
    std::string_view path = request.path();
    for (const auto& prefix : options_.prefixes) {
        if (path.size() >= prefix.size() && path.substr(0, prefix.size()) == prefix) return false;
    }
    return fallback_ && fallback_->answers_off_loop(request);
}

void PushHandler::handle(const http::Request& request, http::Response& response) {
    if (options_.publish_listener >= 0 && request.listener == options_.publish_listener) {
        serve_publish_api(request, response);
        return;
    }
    std::string_view path = request.path();
    for (const auto& prefix : options_.prefixes) {
        if (path.size() >= prefix.size() && path.substr(0, prefix.size()) == prefix) {
            if (websocket::wants_websocket(request)) {
                subscribe_websocket(request, response, path.substr(prefix.size()));
            } else {
                subscribe(request, response, path.substr(prefix.size()));
            }
            return;
        }
    }
    if (fallback_) {
        fallback_->handle(request, response);
    } else {
        plain(response, 404, "not found");
    }
}

// ---- subscribers ------------------------------------------------------------------------------

PushHandler::LocalChannel& PushHandler::local_channel(std::string_view name) {
    auto found = channels_.find(name);
    if (found != channels_.end()) return *found->second;
    auto channel = std::make_unique<LocalChannel>(name);
    LocalChannel& ref = *channel;
    channels_.emplace(std::string(name), std::move(channel));
    return ref;
}

void PushHandler::link(LocalChannel& channel, Subscriber& subscriber) {
    subscriber.next = channel.head;
    if (channel.head != nullptr) channel.head->prev = &subscriber;
    channel.head = &subscriber;
    ++channel.count;
    context_->count(&http::LoopMetrics::push_subscribed);
}

void PushHandler::drop(Subscriber& subscriber, bool tell_registry) {
    LocalChannel& channel = *subscriber.channel;
    if (subscriber.prev != nullptr) subscriber.prev->next = subscriber.next;
    if (subscriber.next != nullptr) subscriber.next->prev = subscriber.prev;
    if (channel.head == &subscriber) channel.head = subscriber.next;
    --channel.count;
    if (subscriber.ws != nullptr) {
        WsClient& client = *subscriber.ws;
        for (Subscriber** at = &client.subscriptions; *at != nullptr; at = &(*at)->ws_next) {
            if (*at == &subscriber) {
                *at = subscriber.ws_next;
                --client.count;
                break;
            }
        }
    }
    if (tell_registry) {
        hub_->registry().unsubscribe(channel.name, loop_, subscriber.incarnation);
    }
    context_->timers().cancel(subscriber);
    context_->count(&http::LoopMetrics::push_unsubscribed);
    // The LocalChannel itself stays until the next tick: a delivery may be walking it now.
    delete &subscriber;
}

void PushHandler::subscribe(const http::Request& request, http::Response& response,
                            std::string_view name) {
    if (request.method != http::Method::get && request.method != http::Method::head) {
        plain(response, 405, "subscribe with GET");
        response.add_header("Allow", "GET, HEAD");
        return;
    }
    if (!valid_channel_name(name)) {
        plain(response, 400,
              "bad channel name: use 1-128 of A-Z a-z 0-9 . _ ~ : @ - (not . or ..)");
        return;
    }
    bool sse = request.header("accept").find("text/event-stream") != std::string_view::npos;
    if (request.method == http::Method::head) {
        // What a GET would start, without waiting or subscribing.
        response.add_header("Content-Type", sse ? "text/event-stream" : "text/plain");
        response.add_header("Cache-Control", "no-cache");
        response.set_body_length_only(0);
        return;
    }
    std::optional<std::uint64_t> after = last_seen_id(request);
    Registry::Subscribed subscribed =
        hub_->registry().subscribe(name, loop_, after, options_.first_count, core::wall_ms());
    ask_backplane(name, subscribed);

    if (!sse && !subscribed.wait && (subscribed.lost || !subscribed.backlog.empty())) {
        // A long-poll that has something to take now answers at once, one message per poll.
        hub_->registry().unsubscribe(name, loop_, subscribed.incarnation);
        answer_poll_now(response, subscribed, after);
        return;
    }

    LocalChannel& channel = local_channel(name);
    auto* subscriber = new Subscriber(*this, channel);
    subscriber->sse = sse;
    subscriber->incarnation = subscribed.incarnation;
    subscriber->waiting = subscribed.wait;
    subscriber->resume = after.has_value();
    subscriber->waited = subscribed.need_catch_up;
    subscriber->last_id = subscribed.wait ? after.value_or(0) : subscribed.last_id;
    subscriber->last_write_ms = context_->now_ms();
    link(channel, *subscriber);
    ++stats_.subscribed;
    subscriber->pending = response.defer(*subscriber);

    if (!sse) {
        context_->timers().schedule(*subscriber,
                                    context_->now_ms() + options_.long_poll_timeout_ms);
        return;
    }
    // A waiting subscriber gets its head when the channel is ready: the head says "from here
    // on you get every message", which is known only once the channel's last id is.
    if (!subscribed.wait) start_sse(*subscriber, subscribed, after);
}

void PushHandler::start_sse(Subscriber& subscriber, const Registry::Subscribed& subscribed,
                            std::optional<std::uint64_t> after) {
    http::Response& head = later_;
    head.clear();
    head.add_header("Content-Type", "text/event-stream");
    head.add_header("Cache-Control", "no-cache");
    head.add_header("X-Accel-Buffering", "no");  // intermediaries: do not buffer the stream
    subscriber.pending.start_stream(head);
    std::string opening;
    append_sse_retry(opening, options_.retry_ms);
    append_sse_backlog(opening, subscribed, after);
    subscriber.pending.write(opening);
    subscriber.last_write_ms = context_->now_ms();
}

void PushHandler::ask_backplane(std::string_view channel, const Registry::Subscribed& subscribed) {
    if (subscribed.need_sync) hub_->request_sync(channel);
    if (subscribed.need_catch_up) hub_->request_catch_up(channel);
}

void PushHandler::channel_ready(const std::string& name, std::uint64_t last_id) {
    auto found = channels_.find(name);
    if (found == channels_.end()) return;
    for (Subscriber* s = found->second->head; s != nullptr;) {
        Subscriber* next = s->next;  // a long-poll answered now is dropped
        if (s->waiting) resume_waiting(*s, last_id);
        s = next;
    }
}

void PushHandler::resume_waiting(Subscriber& subscriber, std::uint64_t ready_last_id) {
    const std::string& name = subscriber.channel->name;
    std::optional<std::uint64_t> after;
    if (subscriber.resume) after = subscriber.last_id;
    auto subscribed = hub_->registry().backlog(name, after, options_.first_count,
                                               !subscriber.waited, core::wall_ms());
    if (!subscribed) return;  // the channel is gone: its close follows
    if (subscribed->wait) {
        if (subscribed->need_catch_up) {
            subscriber.waited = true;
            hub_->request_catch_up(name);
        }
        return;
    }
    subscriber.waiting = false;
    if (!after) {
        // A new subscriber joins at the channel as it was when the ready was posted: what came
        // since is on its way to this loop behind it, and must reach this subscriber too.
        std::erase_if(subscribed->backlog,
                      [&](const MessagePtr& m) { return m->id > ready_last_id; });
        subscribed->last_id = ready_last_id;
    }
    subscriber.last_id = subscribed->last_id;
    if (subscriber.ws != nullptr) {
        ws_send_backlog(*subscriber.ws, name, *subscribed, after);
    } else if (subscriber.sse) {
        start_sse(subscriber, *subscribed, after);
    } else if (subscribed->lost || !subscribed->backlog.empty()) {
        http::Response& response = later_;
        response.clear();
        answer_poll_now(response, *subscribed, after);
        http::Pending pending = subscriber.pending;
        drop(subscriber);
        pending.respond(response);
        count_delivered();
    }
}

void PushHandler::history_lost(const std::string& name, std::uint64_t first_id,
                               std::uint64_t last_id) {
    auto found = channels_.find(name);
    if (found == channels_.end()) return;
    for (Subscriber* s = found->second->head; s != nullptr;) {
        Subscriber* next = s->next;
        if (s->waiting) {  // it takes its backlog from the channel as it is now
            s = next;
            continue;
        }
        std::uint64_t had = s->last_id;
        s->last_id = last_id;
        if (s->ws != nullptr) {
            std::string out;
            append_ws_history_lost(out, name, had, first_id);
            s->ws->session->send_text(out);
        } else if (s->sse) {
            std::string out;
            append_sse_history_lost(out, had, first_id);
            s->pending.write(out);
            s->last_write_ms = context_->now_ms();
        } else {
            Registry::Subscribed lost;
            lost.lost = true;
            lost.last_id = last_id;
            http::Response& response = later_;
            response.clear();
            answer_poll_now(response, lost, had);
            http::Pending pending = s->pending;
            drop(*s);
            pending.respond(response);
        }
        s = next;
    }
}

void PushHandler::deliver(const std::string& name, const MessagePtr& message) {
    auto found = channels_.find(name);
    if (found == channels_.end()) return;
    LocalChannel& channel = *found->second;
    for (Subscriber* s = channel.head; s != nullptr;) {
        Subscriber* next = s->next;  // s may be dropped below
        if (message->id > s->last_id && !s->waiting) {
            if (s->ws != nullptr) {
                send_to_ws(*s, channel, *message);
            } else if (s->sse) {
                send_to_sse(*s, channel, *message);
            } else {
                answer_long_poll(*s, *message);
            }
        }
        s = next;
    }
}

void PushHandler::send_to_sse(Subscriber& subscriber, LocalChannel& channel,
                              const Message& message) {
    channel.frame_message(message.id);
    bool chunked = subscriber.pending.chunked();
    core::RefPtr<http::Blob>& frame = chunked ? channel.sse_chunked : channel.sse_raw;
    if (!frame) {
        std::string event;
        append_sse_event(event, message);
        if (chunked) {
            std::string framed;
            framed.reserve(event.size() + 16);
            append_chunk(framed, event);
            event = std::move(framed);
        }
        frame = core::RefPtr<http::Blob>(new http::Blob(std::move(event)));
    }
    std::uint64_t queued = subscriber.pending.queued_bytes();
    if (queued + frame->data.size() > options_.max_queue_bytes) {
        close_slow(subscriber, queued);
        return;
    }
    subscriber.pending.write_framed(frame, 0, frame->data.size());
    subscriber.last_id = message.id;
    subscriber.last_write_ms = context_->now_ms();
    count_delivered();
}

void PushHandler::close_slow(Subscriber& subscriber, std::uint64_t queued) {
    count_closed_slow();
    if (slow_log_.allow(context_->now_ms())) {
        core::log(core::LogLevel::warn,
                  "closing a slow subscriber of channel '{}': {} bytes queued, over "
                  "--push-max-queue {} ({} closed on this loop so far)",
                  subscriber.channel->name, queued, options_.max_queue_bytes, stats_.closed_slow);
    }
    http::Pending pending = subscriber.pending;
    drop(subscriber);
    pending.close();
}

void PushHandler::answer_long_poll(Subscriber& subscriber, const Message& message) {
    http::Response& response = later_;
    response.clear();
    response.add_header("Cache-Control", "no-cache");
    set_message_answer(response, message);
    http::Pending pending = subscriber.pending;
    drop(subscriber);
    pending.respond(response);
    count_delivered();
}

void PushHandler::on_long_poll_timeout(Subscriber& subscriber) {
    ++stats_.long_poll_timeouts;
    http::Response& response = later_;
    response.clear();
    response.set_status(304);
    response.add_header("Cache-Control", "no-cache");
    // The same id comes back, so the next poll asks again from where this one stood.
    response.add_header("ETag", quoted_id(subscriber.last_id));
    http::Pending pending = subscriber.pending;
    drop(subscriber);
    pending.respond(response);
}

void PushHandler::close_channel(const std::string& name) {
    auto found = channels_.find(name);
    if (found == channels_.end()) return;
    LocalChannel& channel = *found->second;
    for (Subscriber* s = channel.head; s != nullptr;) {
        Subscriber* next = s->next;
        http::Pending pending = s->pending;
        // A stream not started yet (waiting for the backplane) is answered like a long-poll.
        bool sse = s->sse && !s->waiting;
        WsClient* ws = s->ws;
        drop(*s, false);  // the Registry forgot the channel already
        if (ws != nullptr) {
            // The connection may carry other channels: only this one ends.
            std::string notice;
            append_ws_unsubscribed(notice, name);
            ws->session->send_text(notice);
        } else if (sse) {
            pending.finish();
        } else {
            http::Response& response = later_;
            response.clear();
            plain(response, 410, "channel deleted");
            pending.respond(response);
        }
        s = next;
    }
}

void PushHandler::publish_periodic() {
    const PushOptions::Periodic& periodic = *options_.periodic;
    if (hub_->external()) {
        publish_external(periodic.channel, "", periodic.next(), periodic.content_type,
                         [](const PublishOutcome&) {});  // a failure is logged by the backplane
    } else {
        hub_->publish(periodic.channel, "", periodic.next(), periodic.content_type);
    }
    context_->timers().schedule(*periodic_, context_->now_ms() + periodic.interval_ms);
}

void PushHandler::on_handover_tick() {
    if (hub_->poll_handover(core::monotonic_ms(), kHandoverGiveUpMs)) {
        context_->timers().schedule(*handover_tick_, context_->now_ms() + kHandoverPollMs);
    }
}

void PushHandler::close_all() {
    close_websockets();
    std::vector<std::string> names;
    for (const auto& entry : channels_) names.push_back(entry.first);
    for (const auto& name : names) close_channel(name);
}

void PushHandler::on_tick() {
    std::int64_t now = context_->now_ms();
    bool heartbeat = now >= next_heartbeat_ms_;
    if (heartbeat) next_heartbeat_ms_ = now + options_.heartbeat_ms;
    for (auto it = channels_.begin(); it != channels_.end();) {
        LocalChannel& channel = *it->second;
        if (channel.count == 0) {
            it = channels_.erase(it);
            continue;
        }
        if (heartbeat) {
            // Only streams that were silent for a whole period: a busy channel needs none.
            for (Subscriber* s = channel.head; s != nullptr;) {
                Subscriber* next = s->next;
                if (s->sse && !s->waiting && now - s->last_write_ms >= options_.heartbeat_ms) {
                    const auto& frame = s->pending.chunked() ? heartbeat_chunked_ : heartbeat_raw_;
                    if (s->pending.queued_bytes() + frame->data.size() > options_.max_queue_bytes) {
                        close_slow(*s, s->pending.queued_bytes());
                    } else {
                        s->pending.write_framed(frame, 0, frame->data.size());
                        s->last_write_ms = now;
                    }
                }
                s = next;
            }
        }
        ++it;
    }
    if (loop_ == 0) hub_->registry().prune(core::wall_ms());
    if (group_) group_->on_tick();
    context_->timers().schedule(*tick_, now + kTickMs);
}

// ---- the publish API --------------------------------------------------------------------------

bool PushHandler::authorized(const http::Request& request, http::Response& response) const {
    if (options_.token.empty()) return true;
    std::string_view given = request.header("authorization");
    constexpr std::string_view scheme = "Bearer ";
    bool ok = false;
    if (given.size() == scheme.size() + options_.token.size() &&
        http::iequals(given.substr(0, scheme.size()), scheme)) {
        // Compare every byte, whatever the first difference, so that timing tells nothing.
        unsigned char diff = 0;
        std::string_view token = given.substr(scheme.size());
        for (std::size_t i = 0; i < token.size(); ++i) {
            diff |= static_cast<unsigned char>(token[i] ^ options_.token[i]);
        }
        ok = diff == 0;
    }
    if (ok) return true;
    if (given.empty()) {
        plain(response, 401, "publishing needs Authorization: Bearer <token>");
        response.add_header("WWW-Authenticate", "Bearer realm=\"c10k publish\"");
    } else {
        plain(response, 403, "wrong publish token");
    }
    return false;
}

void PushHandler::serve_publish_api(const http::Request& request, http::Response& response) {
    std::string_view path = request.path();
    if (path.size() < kPublishPath.size() || path.substr(0, kPublishPath.size()) != kPublishPath) {
        plain(response, 404, "the publish listener serves /pub/<channel> only");
        return;
    }
    if (!authorized(request, response)) return;
    std::string_view name = path.substr(kPublishPath.size());
    if (name.empty() &&
        (request.method == http::Method::get || request.method == http::Method::head)) {
        // The push service's own state: channels held here, the backplane's counters.
        const RedisAddress* redis = options_.redis ? &options_.redis->address : nullptr;
        json(response, 200,
             push_status_json(hub_->registry().channel_count(), redis, hub_->backplane_stats()));
        return;
    }
    if (!valid_channel_name(name)) {
        plain(response, 400,
              "bad channel name: use 1-128 of A-Z a-z 0-9 . _ ~ : @ - (not . or ..)");
        return;
    }
    if (websocket::wants_websocket(request)) {
        publish_websocket(request, response, name);
        return;
    }
    switch (request.method) {
        case http::Method::post:
        case http::Method::put:
            publish(request, response, name);
            return;
        case http::Method::get:
        case http::Method::head: {
            auto info = hub_->registry().info(name, core::wall_ms());
            if (!info) {
                json(response, 404,
                     fmt::format("{{\"channel\":{},\"error\":\"no such channel\"}}",
                                 core::json_quote(name)));
                return;
            }
            json(response, 200, channel_info_json(name, *info));
            return;
        }
        case http::Method::delete_:
            if (hub_->external()) {
                remove_external(response, name);
                return;
            }
            if (!hub_->remove(name)) {
                json(response, 404,
                     fmt::format("{{\"channel\":{},\"error\":\"no such channel\"}}",
                                 core::json_quote(name)));
                return;
            }
            json(response, 200,
                 fmt::format("{{\"channel\":{},\"deleted\":true}}", core::json_quote(name)));
            return;
        default:
            plain(response, 405, "publish with POST, describe with GET, close with DELETE");
            response.add_header("Allow", "GET, HEAD, POST, PUT, DELETE");
            return;
    }
}

void PushHandler::publish(const http::Request& request, http::Response& response,
                          std::string_view name) {
    std::string_view event = request.header("x-event");
    if (event.empty()) event = query_param(request.query(), "event");
    if (!event.empty() && !valid_event_name(event)) {
        plain(response, 400, "bad event name: use 1-64 of A-Z a-z 0-9 . _ : -");
        return;
    }
    if (hub_->external()) {
        auto wait = std::make_shared<PublishWait>();
        wait->pending = response.defer(*wait);
        std::string channel(name);
        publish_external(
            channel, std::string(event), std::string(request.body),
            std::string(request.header("content-type")),
            [this, wait, channel](const PublishOutcome& outcome) {
                if (!wait->pending) return;  // the client left
                http::Response& answer = later_;
                answer.clear();
                if (outcome.ok) {
                    json(answer, 200,
                         fmt::format("{{\"channel\":{},\"id\":\"{}\",\"receivers\":{}}}",
                                     core::json_quote(channel), outcome.message->id,
                                     outcome.receivers));
                } else if (outcome.unknown) {
                    // Sent and unanswered: Redis may have stored it. Not a 503, which tells a
                    // publisher that trying again makes no duplicate.
                    json(answer, 504,
                         fmt::format("{{\"channel\":{},\"error\":{},\"maybe_published\":true}}",
                                     core::json_quote(channel), core::json_quote(outcome.error)));
                } else {
                    json(answer, 503,
                         fmt::format("{{\"channel\":{},\"error\":{}}}", core::json_quote(channel),
                                     core::json_quote(outcome.error)));
                    answer.add_header("Retry-After", "1");
                }
                http::Pending pending = wait->pending;
                wait->pending = http::Pending();
                pending.respond(answer);
            });
        return;
    }
    auto published = hub_->publish(name, std::string(event), std::string(request.body),
                                   std::string(request.header("content-type")));
    if (!published.message) {
        // A handover (reload, upgrade) between two processes: the old one has passed its
        // channels on, or the new one has not received them yet. The retry reaches the new one.
        json(response, 503,
             fmt::format("{{\"channel\":{},\"error\":\"the server is reloading: publish "
                         "again\"}}",
                         core::json_quote(name)));
        response.add_header("Retry-After", "1");
        return;
    }
    json(response, 200,
         fmt::format("{{\"channel\":{},\"id\":\"{}\",\"subscribers\":{}}}", core::json_quote(name),
                     published.message->id, published.subscribers));
}

void PushHandler::publish_external(std::string channel, std::string event, std::string data,
                                   std::string content_type, PublishDone done) {
    std::shared_ptr<Hub> hub = hub_;
    std::size_t loop = loop_;
    hub_->to_backplane([hub, loop, channel = std::move(channel), event = std::move(event),
                        data = std::move(data), content_type = std::move(content_type),
                        done = std::move(done)](Backplane& backplane) mutable {
        backplane.publish(channel, event, data, content_type,
                          [hub, loop, done = std::move(done)](const PublishOutcome& outcome) {
                              hub->post_to_loop(loop, [done, outcome] { done(outcome); });
                          });
    });
}

void PushHandler::remove_external(http::Response& response, std::string_view name) {
    auto wait = std::make_shared<PublishWait>();
    wait->pending = response.defer(*wait);
    std::shared_ptr<Hub> hub = hub_;
    std::size_t loop = loop_;
    auto answer = [this, wait, channel = std::string(name)](bool ok, bool existed,
                                                            const std::string& error) {
        if (!wait->pending) return;
        http::Response& response = later_;
        response.clear();
        if (!ok) {
            json(response, 503,
                 fmt::format("{{\"channel\":{},\"error\":{}}}", core::json_quote(channel),
                             core::json_quote(error)));
            response.add_header("Retry-After", "1");
        } else if (!existed) {
            json(response, 404,
                 fmt::format("{{\"channel\":{},\"error\":\"no such channel\"}}",
                             core::json_quote(channel)));
        } else {
            json(response, 200,
                 fmt::format("{{\"channel\":{},\"deleted\":true}}", core::json_quote(channel)));
        }
        http::Pending pending = wait->pending;
        wait->pending = http::Pending();
        pending.respond(response);
    };
    hub_->to_backplane([hub, loop, channel = std::string(name),
                        answer = std::move(answer)](Backplane& backplane) mutable {
        backplane.remove(channel, [hub, loop, answer = std::move(answer)](
                                      bool ok, bool existed, const std::string& error) {
            hub->post_to_loop(loop, [answer, ok, existed, error] { answer(ok, existed, error); });
        });
    });
}

}  // namespace c10k::push

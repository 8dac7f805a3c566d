#pragma once
// PushHandler: the per-loop side of live push. GET <prefix><channel> subscribes (Server-Sent
// Events when the client accepts text/event-stream, long-poll otherwise); the publish listener
// serves /pub/<channel> (POST publishes, GET describes, DELETE closes). Everything else goes to
// the fallback handler (static files).
//
// WebSocket (an Upgrade to GET <prefix><channel>, or to GET <prefix> alone) subscribes a
// connection that may then subscribe to more channels with commands (push/ws_format.hpp); on
// the publish listener, a WebSocket to /pub/<channel> publishes each message it sends.
//
// Subscribers are deferred responses (http/pending.hpp). Each loop keeps its own subscribers
// per channel; a message reaches the loop once (posted by the Hub), is framed once per transport
// into a shared buffer, and every SSE subscriber's queue takes a reference to it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/log.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"
#include "push/hub.hpp"
#include "websocket/server_session.hpp"

namespace c10k::push {
class Backplane;
class GroupMember;
}  // namespace c10k::push

namespace c10k::push {

/// Counters of one loop (for tests and the status page to come).
struct PushStats {
    std::uint64_t subscribed = 0;
    std::uint64_t delivered = 0;
    std::uint64_t closed_slow = 0;  ///< closed at --push-max-queue
    std::uint64_t long_poll_timeouts = 0;
    std::uint64_t websocket_sessions = 0;  ///< WebSocket connections open on this loop now
};

class PushHandler final : public http::Handler, private websocket::Endpoint {
public:
    /// The largest command a WebSocket subscriber may send ({"subscribe":...}).
    static constexpr std::uint64_t kMaxCommandBytes = 4096;
    /// Channels one WebSocket may subscribe to at once.
    static constexpr std::size_t kMaxWsSubscriptions = 64;

    /// `websocket`: how WebSocket subscribers and publishers are served; null refuses them.
    PushHandler(std::shared_ptr<Hub> hub, std::unique_ptr<http::Handler> fallback,
                std::shared_ptr<const websocket::ServerConfig> websocket = nullptr);
    ~PushHandler() override;

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    std::uint64_t body_limit(std::uint8_t listener) const override;
    bool streams_body(std::uint8_t listener) const override;
    /// Subscriptions and the publish API stay on the loop (channels are per loop); the rest
    /// is the fallback's call.
    bool answers_off_loop(const http::Request& request) const override;

    /// On this loop's thread (posted by the Hub): gives `message` to the channel's subscribers.
    void deliver(const std::string& channel, const MessagePtr& message);
    /// On this loop's thread: the channel was deleted; ends its subscribers' responses.
    void close_channel(const std::string& channel);
    /// On this loop's thread: ends every subscriber's response (the sequencer process is gone).
    void close_all();
    /// On this loop's thread (Redis backplane): the channel was loaded or caught up, so
    /// subscribers that waited for it take their backlog now. `last_id` is the channel's last
    /// id when this was posted: a new subscriber starts there, as every later message is
    /// posted to this loop after this call.
    void channel_ready(const std::string& channel, std::uint64_t last_id);
    /// On this loop's thread (Redis backplane): the channel's stream does not continue from
    /// what its subscribers have; they are told history-lost and go on from `last_id`. `first_id`
    /// is the first message after the gap (0: none yet).
    void history_lost(const std::string& channel, std::uint64_t first_id, std::uint64_t last_id);
    /// Loop 0 with --redis: the backplane (null elsewhere).
    Backplane* backplane() { return backplane_.get(); }

    const PushStats& stats() const { return stats_; }

private:
    struct Subscriber;
    struct LocalChannel;
    struct Tick;
    struct PeriodicTick;
    struct HandoverTick;
    struct WsClient;
    struct PublishWait;

    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view name) const noexcept {
            return std::hash<std::string_view>{}(name);
        }
    };

    void subscribe(const http::Request& request, http::Response& response,
                   std::string_view channel);
    void serve_publish_api(const http::Request& request, http::Response& response);
    void publish(const http::Request& request, http::Response& response, std::string_view channel);
    /// With the backplane: publishes through loop 0's Backplane; `done` runs on this loop.
    void publish_external(std::string channel, std::string event, std::string data,
                          std::string content_type, PublishDone done);
    /// With the backplane: DELETE answered when Redis has.
    void remove_external(http::Response& response, std::string_view channel);
    /// What registry().subscribe() asked of the backplane (load, catch-up), passed on.
    void ask_backplane(std::string_view channel, const Registry::Subscribed& subscribed);
    /// A subscriber that waited (Subscribed::wait) looks again; takes its backlog if it can.
    void resume_waiting(Subscriber& subscriber, std::uint64_t ready_last_id);
    /// Sends an SSE subscriber its head, the retry field, and what it must get first.
    void start_sse(Subscriber& subscriber, const Registry::Subscribed& subscribed,
                   std::optional<std::uint64_t> after);
    bool authorized(const http::Request& request, http::Response& response) const;
    LocalChannel& local_channel(std::string_view name);
    /// Puts a new subscriber on its channel (and counts it for /metrics).
    void link(LocalChannel& channel, Subscriber& subscriber);
    void count_delivered() {
        ++stats_.delivered;
        context_->count(&http::LoopMetrics::push_delivered);
    }
    void count_closed_slow() {
        ++stats_.closed_slow;
        context_->count(&http::LoopMetrics::push_closed_slow);
    }
    /// Forgets a subscriber: unlinks it, tells the Registry, frees it.
    void drop(Subscriber& subscriber, bool tell_registry = true);
    void send_to_sse(Subscriber& subscriber, LocalChannel& channel, const Message& message);
    void answer_long_poll(Subscriber& subscriber, const Message& message);
    void on_long_poll_timeout(Subscriber& subscriber);
    void on_tick();
    void on_handover_tick();
    void close_slow(Subscriber& subscriber, std::uint64_t queued);
    void free_subscribers();
    void publish_periodic();

    // WebSocket (handler_ws.cpp)
    void subscribe_websocket(const http::Request& request, http::Response& response,
                             std::string_view channel);
    void publish_websocket(const http::Request& request, http::Response& response,
                           std::string_view channel);
    /// Subscribes `client` to `channel`, sends it "subscribed" and what it missed.
    void ws_subscribe(WsClient& client, std::string_view channel,
                      std::optional<std::uint64_t> after);
    void ws_unsubscribe(WsClient& client, std::string_view channel);
    /// Sends "subscribed", then history-lost if so, then the backlog.
    void ws_send_backlog(WsClient& client, std::string_view channel,
                         const Registry::Subscribed& subscribed,
                         std::optional<std::uint64_t> after);
    void send_to_ws(Subscriber& subscriber, LocalChannel& channel, const Message& message);
    void on_message(websocket::ServerSession& session, websocket::MessageType type,
                    std::string_view payload) override;
    void on_session_closed(websocket::ServerSession& session, std::uint16_t code) override;
    /// Closes every WebSocket subscriber with 1012 (service restart), so that it reconnects
    /// and resumes.
    void close_websockets();

    std::shared_ptr<Hub> hub_;
    const PushOptions& options_;
    std::unique_ptr<http::Handler> fallback_;
    /// Subscribers' and publishers' WebSocket policies (derived from the server's: small
    /// messages and no compression context for subscribers, the publish limit for publishers).
    std::shared_ptr<const websocket::ServerConfig> ws_subscribers_;
    std::shared_ptr<const websocket::ServerConfig> ws_publishers_;
    /// One compressor per window size for frames shared by every subscriber of a loop.
    std::unique_ptr<websocket::Deflater> ws_deflaters_[16];
    WsClient* ws_clients_ = nullptr;  ///< every WebSocket of this loop, doubly linked
    http::LoopContext* context_ = nullptr;
    std::size_t loop_ = 0;
    std::unordered_map<std::string, std::unique_ptr<LocalChannel>, NameHash, std::equal_to<>>
        channels_;
    std::unique_ptr<Tick> tick_;
    std::unique_ptr<GroupMember> group_;      ///< loop 0 of a --processes group
    std::unique_ptr<Backplane> backplane_;    ///< loop 0 with --redis
    std::unique_ptr<PeriodicTick> periodic_;  ///< loop 0 of the publishing process
    std::unique_ptr<HandoverTick> handover_tick_;  ///< loop 0 of a new process, while awaiting
    http::Response later_;  ///< for answers given outside handle(): the loop's own is busy then
    core::RefPtr<http::Blob> heartbeat_chunked_;
    core::RefPtr<http::Blob> heartbeat_raw_;
    std::int64_t next_heartbeat_ms_ = 0;
    core::RateLimitedLog slow_log_;
    PushStats stats_;
};

}  // namespace c10k::push

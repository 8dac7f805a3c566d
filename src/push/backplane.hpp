#pragma once
// The Redis backplane's policy: which channels this process holds in Redis, how each one's
// local copy (the Registry's history) follows its stream, and what subscribers are told when
// it cannot. It runs on loop 0 of each process and drives a StreamStore (two Redis connections);
// the other loops reach it through Hub::to_backplane.
//
// Following a stream. A channel with subscribers here is subscribed in Redis (Pub/Sub), then
// loaded (its newest messages, and the stream's last id); subscribers that came before the load
// wait for it. Each message that arrives is stored only if it continues the chain (its prev_id
// is the channel's last id): a duplicate is dropped, and a gap (a Pub/Sub message missed while
// the connection was down, say) makes the backplane read the stream from the last id it has,
// buffering what arrives meanwhile. The same catch-up runs for every channel when the
// subscription connection is made again after a loss. If the stream does not continue from the
// last id (trimmed past it, or lost with a Redis restarted without persistence), subscribers
// get the history-lost notice and the channel goes on from what the stream holds.
//
// Why the read comes after the SUBSCRIBE is confirmed: Redis runs one command at a time and the
// publish script appends and publishes atomically, so every message is either in the stream
// when the read runs or published to this connection after the confirmation. Nothing falls
// between them; what falls in both is dropped by id.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "http/context.hpp"
#include "push/hub.hpp"
#include "push/names.hpp"
#include "push/stream_store.hpp"

namespace c10k::push {

class Backplane final : private http::TimerTask {
public:
    Backplane(Hub& hub, http::LoopContext& context, const RedisBackplaneOptions& options,
              HistoryLimits history);
    ~Backplane();
    Backplane(const Backplane&) = delete;
    Backplane& operator=(const Backplane&) = delete;

    void start();
    void stop();

    /// A subscriber waits on a channel that is not loaded here: subscribe and load it.
    void sync(const std::string& channel);
    /// A subscriber resumes from an id this process has not seen: read the stream.
    void catch_up(const std::string& channel);
    /// Appends to the channel's stream and publishes; `done` runs on loop 0.
    void publish(std::string_view channel, std::string_view event, std::string_view data,
                 std::string_view content_type, PublishDone done);
    /// Deletes the channel in Redis and on every server; `done(ok, existed, error)`.
    void remove(std::string_view channel,
                std::function<void(bool ok, bool existed, const std::string& error)> done);

    /// redis://HOST:PORT, for messages (no password).
    const std::string& where() const { return where_; }

private:
    struct Follow {
        bool subscribed = false;  ///< Redis confirmed the SUBSCRIBE on the current connection
        bool busy = false;        ///< a load or catch-up read is in flight
        bool again = false;       ///< another catch-up was asked for meanwhile
        bool retry = false;       ///< the last read failed: try again when Redis is back
        std::vector<MessagePtr> buffered;  ///< arrived while busy, applied after
    };

    void on_timer() override;
    void on_message(std::string_view channel, MessagePtr message);
    /// Applies a message that continues the channel's chain, drops a duplicate, or reads the
    /// stream after a gap (buffering it meanwhile).
    void follow(std::string_view channel, MessagePtr message);
    void on_subscribed(std::string_view channel);
    void on_state(bool commands_up, bool subscriptions_up, std::string_view why);
    void load(const std::string& channel);
    void fetch(const std::string& channel);
    void on_fetched(const std::string& channel, std::uint64_t from, const Loaded& loaded);
    /// A load or catch-up read answered: false when there is nothing more to do with it (the
    /// channel left, the backplane stopped, or the read failed and is retried on the timer).
    bool read_done(const std::string& channel, const Loaded& loaded, std::string_view what);
    /// After a read was applied: what arrived meanwhile, then a catch-up asked for meanwhile.
    void after_read(const std::string& channel);
    /// Applies what arrived while a read was in flight, in id order.
    void drain(const std::string& channel);
    /// Subscribes in Redis to channels that gained subscribers here, and leaves those the
    /// Registry dropped (nobody watched them here for RegistryOptions::external_linger_ms).
    void follow_counts();

    Hub& hub_;
    http::LoopContext& context_;
    HistoryLimits history_;
    std::string where_;
    std::unique_ptr<StreamStore> store_;
    std::unordered_map<std::string, Follow, ChannelNameHash, std::equal_to<>> follows_;
    bool started_ = false;
    bool was_up_ = false;
    unsigned ticks_ = 0;
    /// Until the first connection attempt has succeeded or failed, publishes wait here rather
    /// than get 503: a process per client (fork, prefork) starts its backplane with each
    /// connection, and its client's publish comes at once.
    bool first_attempt_done_ = false;
    struct Queued {
        std::string channel, event, data, content_type;
        PublishDone done;
    };
    std::vector<Queued> queued_;
    BackplaneStats& stats_;  ///< the Hub's: it outlives this loop
    core::RateLimitedLog log_{10'000};
};

}  // namespace c10k::push

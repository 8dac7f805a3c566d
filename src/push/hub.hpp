#pragma once
// The process-wide side of push: the channel Registry, and the event loops that hold
// subscribers. A publish goes through the Hub, which assigns the id and posts the message to
// every loop with subscribers on the channel. Posting happens under one mutex, so each loop
// receives a channel's messages in id order even when several loops publish at once; the
// delivery itself (framing, writing to subscribers) runs on each loop, without the lock.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mailbox.hpp"
#include "core/unique_fd.hpp"
#include "push/group_link.hpp"
#include "push/redis_address.hpp"
#include "push/redis_client.hpp"
#include "push/registry.hpp"

namespace c10k::push {

class Backplane;
class PushHandler;

/// Where `--redis` points and how the backplane talks to it (push/backplane.hpp).
struct RedisBackplaneOptions {
    RedisAddress address;
    /// Stream keys and Pub/Sub channels are this prefix + the channel name.
    std::string prefix = "c10k:";
    RedisClientOptions client;
};

/// What became of a publish through the backplane, told to the loop that asked.
struct PublishOutcome {
    bool ok = false;
    /// Why not, for the 503 (Redis unreachable, an error reply, no answer in time).
    std::string error;
    /// Not ok because it was sent and no answer came: Redis may have stored it (a 504, so
    /// that a publisher that retries knows it may make a duplicate).
    bool unknown = false;
    MessagePtr message;
    /// Redis connections that received it (each a loop of some server with subscribers).
    long long receivers = 0;
};
using PublishDone = std::function<void(const PublishOutcome&)>;

/// Counters for the status page and the tests; written on loop 0, read from any thread.
struct BackplaneStats {
    std::atomic<std::uint64_t> published{0};       ///< publishes Redis accepted
    std::atomic<std::uint64_t> publish_failed{0};  ///< answered 503
    std::atomic<std::uint64_t> received{0};        ///< Pub/Sub messages
    std::atomic<std::uint64_t> duplicates{0};      ///< received and already held
    std::atomic<std::uint64_t> gaps{0};            ///< received out of chain: a catch-up ran
    std::atomic<std::uint64_t> caught_up{0};       ///< messages read from streams by catch-ups
    std::atomic<std::uint64_t> history_lost{0};    ///< channels whose stream did not continue
    std::atomic<std::uint64_t> connection_losses{0};
    std::atomic<bool> commands_up{false};
    std::atomic<bool> subscriptions_up{false};
};

/// What `c10k serve --push ...` configures.
struct PushOptions {
    /// URL path prefixes whose GET is a subscription ("/live/" -> GET /live/<channel>).
    std::vector<std::string> prefixes;
    /// Index of the listener that serves the publish API (/pub/<channel>); -1: none.
    int publish_listener = -1;
    /// When set, publishing needs "Authorization: Bearer <token>".
    std::string token;
    /// Messages a new subscriber without a Last-Event-ID gets at once (0: none).
    std::size_t first_count = 0;
    /// An SSE stream that sent nothing for this long gets a comment line.
    std::int64_t heartbeat_ms = 15'000;
    /// A long-poll that saw no message for this long is answered 304.
    std::int64_t long_poll_timeout_ms = 30'000;
    /// A subscriber with more than this queued (not taken by its socket) is closed.
    std::uint64_t max_queue_bytes = 256 * 1024;
    /// Largest publish body; larger gets 413.
    std::uint64_t max_message_bytes = 64 * 1024;
    /// The SSE `retry:` field: how long a browser waits before reconnecting.
    std::int64_t retry_ms = 2'000;

    /// A source of messages published every `interval_ms` to `channel` (the demo's game), run by
    /// a timer of the publishing process's first loop: no thread of its own, so nothing is
    /// running when a --processes group forks. `next()` is called on that loop's thread only.
    struct Periodic {
        std::string channel;
        std::string content_type;
        std::int64_t interval_ms = 0;
        std::function<std::string()> next;
    };
    std::optional<Periodic> periodic;

    /// Set: channels are shared through Redis (--redis): publishes go to a Redis Stream and reach
    /// every server's subscribers through Pub/Sub; ids are the stream's ids.
    std::optional<RedisBackplaneOptions> redis;
};

class Hub {
public:
    Hub(PushOptions options, RegistryOptions registry_options);
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    const PushOptions& options() const { return options_; }
    Registry& registry() { return registry_; }

    /// A loop starts serving (on its thread): messages for it go to `handler` via `mailbox`.
    void attach(std::size_t loop, PushHandler& handler, core::Mailbox& mailbox);
    /// The loop stopped: nothing more is posted to it.
    void detach(std::size_t loop);

    /// Ids come from the Redis backplane (PushOptions::redis).
    bool external() const { return options_.redis.has_value(); }

    // ---- with the Redis backplane, which runs on loop 0 (push/backplane.hpp) ----

    /// From any loop: runs `task` on loop 0's thread with its backplane (not at all when loop 0
    /// is gone: the server is stopping).
    void to_backplane(std::function<void(Backplane&)> task);
    /// Runs `task` on loop `loop`'s thread (not at all when that loop is gone).
    void post_to_loop(std::size_t loop, std::function<void()> task);
    /// A subscriber waits on an unloaded channel (Registry::Subscribed::need_sync).
    void request_sync(std::string_view channel);
    /// A subscriber resumes from an id ahead of this process (need_catch_up).
    void request_catch_up(std::string_view channel);
    /// The backplane: stores `message` if it continues the channel's chain (or `force`) and
    /// posts it to the loops with subscribers.
    Registry::Applied deliver_chained(std::string_view channel, const MessagePtr& message,
                                      bool force);
    /// The backplane read the channel from its stream: fills it and tells the loops, whose
    /// waiting subscribers then take their backlog.
    void loaded(std::string_view channel, std::vector<MessagePtr> messages, std::uint64_t last_id);
    /// The backplane caught the channel up: subscribers that waited for that look again.
    void post_ready(std::string_view channel);
    /// The stream lost what the channel held: every subscriber is told (history-lost) and the
    /// channel continues from `last_id`; `first_id` is the first message after the gap (0:
    /// none yet).
    void lost(std::string_view channel, std::uint64_t first_id, std::uint64_t last_id);
    /// A channel deleted through any server: its subscribers here are closed.
    bool remove_local(std::string_view channel);
    /// The backplane's counters (kept here, so that any loop may read them while loop 0 stops).
    BackplaneStats& backplane_stats() { return backplane_stats_; }

    /// Stores the message and posts it to every loop with subscribers on the channel.
    Registry::Published publish(std::string_view channel, std::string event, std::string data,
                                std::string content_type);
    /// Deletes the channel and tells its loops to close its subscribers. False: no such channel.
    bool remove(std::string_view channel);

    /// In each process of a --processes group, after the fork and before its loops start:
    /// process 0 is the sequencer (it alone serves the publish listener); every other process
    /// connects to it at the abstract unix address `link_name` and receives each publish and
    /// delete (push/group_link.hpp says why a socket). Loop 0's handler runs the links.
    /// `size`: the group's processes (0: unknown), so that a sequencer taking channels over
    /// from a predecessor takes publishes only once every other process is linked (one that
    /// links later would miss what was published before).
    void join_group(std::size_t index, std::string link_name, std::size_t size = 0);
    bool in_group() const { return !link_name_.empty(); }
    /// With --redis and --processes N: this process's number, without a group link (each
    /// process follows Redis itself). Only process 0 runs PushOptions::periodic.
    void set_process_index(std::size_t index) { process_index_ = index; }
    std::size_t process_index() const { return process_index_; }
    bool sequencer() const { return process_index_ == 0; }
    const std::string& link_name() const { return link_name_; }
    /// The sequencer: another process connected; it gets every publish from now on. Returns the
    /// link's number (for apply_counts and close_downstream), reused once the link is closed.
    std::size_t add_downstream(core::unique_fd link);
    /// The sequencer, on loop 0: what the process on `link` reported; counts frames only (false
    /// for anything else, which that process must not send: close its link).
    bool apply_counts(std::size_t link, const std::vector<GroupFrame>& frames);
    /// The sequencer, on loop 0 (which reads the links, so nothing else closes them): the link
    /// ended or broke; it is closed, and its process's subscribers leave every count.
    void close_downstream(std::size_t link);
    /// Applies what the sequencer sent: stores each message with its id, posts it to the loops.
    void apply(std::vector<GroupFrame>& frames);
    /// The sequencer is gone: subscribers here would wait forever, so their streams are ended
    /// (browsers reconnect, and resume with Last-Event-ID wherever they land).
    void upstream_lost();

    // ---- a handover to the next process (reload, upgrade: core/handover.hpp) ----

    /// The old process, as it stops: refuses every later publish (a 503 with Retry-After: the
    /// publisher's retry reaches the new process) and returns the registry's snapshot.
    std::string hand_over();
    /// The new process, before its loops start (and before a group forks, so that every
    /// process of it waits): subscribers wait and publishes are refused until the old server
    /// has written its channels to `state` (core::read_handover_state).
    void await_handover(core::unique_fd state);
    /// Publishes are refused now (see hand_over and await_handover).
    bool refusing_publishes() const { return refusing_.load(std::memory_order_acquire); }
    /// Loop 0, every few milliseconds while awaiting: takes the snapshot once it is there, or
    /// gives up after `give_up_ms` (subscribers are then answered from an empty history).
    /// True while still awaiting.
    bool poll_handover(std::int64_t now_ms, std::int64_t give_up_ms);

private:
    struct Slot {
        PushHandler* handler = nullptr;
        core::Mailbox* mailbox = nullptr;
    };

    /// Called with mutex_ held: posts to every loop in `loops`.
    void post_delivery(std::string_view channel, const MessagePtr& message,
                       const std::vector<std::size_t>& loops);
    void post_close(std::string_view channel, const std::vector<std::size_t>& loops);
    void post_ready(std::string_view channel, const std::vector<std::size_t>& loops,
                    std::uint64_t last_id);
    /// Called with mutex_ held: writes a frame to every downstream process.
    void send_downstream(const std::string& frame);

    /// A link to another process. It is written from any loop under mutex_, and read and closed
    /// by loop 0 alone: a write that fails only shuts it down, which loop 0 then reads as the
    /// end, so that a descriptor loop 0 watches is never closed under it.
    struct Downstream {
        core::unique_fd fd;
        bool broken = false;  ///< a write failed: no more writes
    };

    PushOptions options_;
    Registry registry_;
    std::mutex mutex_;         ///< orders posts: a loop gets a channel's ids in order
    std::vector<Slot> loops_;  ///< guarded by mutex_
    std::size_t process_index_ = 0;
    std::string link_name_;               ///< empty outside a --processes group
    std::vector<Downstream> downstream_;  ///< the sequencer: one per other process; mutex_
    BackplaneStats backplane_stats_;
    std::atomic<bool> refusing_{false};
    core::unique_fd handover_state_;  ///< loop 0 alone, while awaiting
    std::int64_t awaiting_since_ms_ = 0;
    std::int64_t restored_ms_ = 0;  ///< when the snapshot was taken in (loop 0)
    std::size_t group_size_ = 0;
};

}  // namespace c10k::push

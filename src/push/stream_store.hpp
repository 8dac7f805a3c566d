#pragma once
// The Redis side of the push backplane: one channel's messages live in a Redis Stream (its
// history, shared by every server of a fleet) and are announced on a Pub/Sub channel of the same
// name (live delivery). StreamStore owns the two connections this takes, one for commands and
// one for Pub/Sub (a subscribed connection cannot run other commands), and speaks in
// push::Message terms; which channels to hold, catch-up and history-lost are its owner's policy.
//
// Ids: a message's id IS its stream id "MS-SEQ", packed into one number, MS * 1'000'000 + SEQ,
// so that every transport (SSE `id:`, JSON, ETag) keeps numeric ids and the decimal number reads
// as the stream id with SEQ zero-padded to 6 digits. Stream ids are increasing but not
// consecutive, so each message also carries prev_id, the stream's last id before it: an owner
// that checks prev_id against the id it delivered last sees every gap (a trimmed or lost stream,
// a missed Pub/Sub message).
//
// Storage in Redis, for a channel C and the prefix P (default "c10k:"):
// - the stream P+C, entries with fields p (prev stream id), e (event), t (content type) and d
//   (data), capped with MAXLEN ~ max(1, max_messages). With an age bound, entries older than it
//   are trimmed (XTRIM MINID ~) on every publish and the key expires max_age_ms + 1 hour after
//   the last publish, so that an abandoned channel leaves Redis by itself. Without an age bound
//   a stream stays until remove(). "~" trims whole stream nodes only (stream-node-max-entries,
//   100 by default), so a stream may hold somewhat more, and older, entries than the bounds.
// - the Pub/Sub channel P+C, whose payloads are encode_message_payload()'s and
//   removed_payload()'s (see there).
//
// Publishing is one Lua script (XADD, trim, PUBLISH), so no other server's message can come
// between a message's prev and its id. Runs on one loop's thread; no method may be called from
// another thread, and stop() or the destructor not from inside one of its callbacks.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.hpp"
#include "http/context.hpp"
#include "push/history.hpp"
#include "push/message.hpp"
#include "push/redis_address.hpp"
#include "push/redis_client.hpp"

namespace c10k::push {

/// "MS-SEQ" (decimal digits, SEQ < 1'000'000) to MS * 1'000'000 + SEQ; nullopt for anything else
/// (empty, junk, a sign, a missing part, SEQ too large, overflow).
std::optional<std::uint64_t> parse_stream_id(std::string_view text);
/// The inverse of parse_stream_id: "MS-SEQ" without padding; 0 gives "0-0".
std::string format_stream_id(std::uint64_t id);

/// What a Pub/Sub payload announces.
struct StreamNotice {
    enum class Kind {
        message,  ///< a published message: `message`
        removed,  ///< the channel was removed (its stream deleted)
    };
    Kind kind = Kind::message;
    Message message;
};

/// The payload that announces `message`, as the publish script builds it:
/// "M <id> <prev>\n<event>\n<content_type>\n<data>", with the ids as stream ids ("MS-SEQ", as the
/// script has them; Lua's numbers cannot hold a packed id). The event and the content type never
/// contain '\n' (the publisher validated them); the data is everything after the third '\n' and
/// may hold any byte, NUL and '\n' included.
std::string encode_message_payload(const Message& message);
/// The payload that announces a removed channel: "D".
std::string_view removed_payload();
/// Decodes either payload; nullopt for anything malformed (an unknown kind, a missing line, a
/// bad id, an id of 0 or a prev_id not below the id). A message's published_ms is its id's MS.
std::optional<StreamNotice> decode_payload(std::string_view payload);

struct StreamStoreOptions {
    /// Stream key and Pub/Sub channel = prefix + channel name, so that one Redis can hold
    /// several fleets (or other data) side by side.
    std::string prefix = "c10k:";
    /// MAXLEN ~ max(1, max_messages) (the stream keeps at least one message: it is the stream's
    /// last id that a publish chains to); the age bound (0 = none) as described above.
    HistoryLimits history;
    /// For both connections.
    RedisClientOptions client;
};

/// The answer of publish / load / fetch_after / remove.
struct StoreResult {
    bool ok = false;
    /// Why not (Redis down, an error reply, the connection lost...) when !ok. A publish whose
    /// connection was lost after it was sent may have been applied all the same.
    std::string error;
    /// !ok because the command was sent and no answer came (the connection was lost or timed
    /// out): Redis may have done it. False when it was refused or never sent.
    bool unknown = false;
};

struct Published : StoreResult {
    /// The message as stored (id, prev_id, published_ms = the MS of its id) when ok.
    MessagePtr message;
    /// PUBLISH's count: the subscribed connections that got it (this store's own included when
    /// it is subscribed to the channel), i.e. servers, not clients.
    long long receivers = 0;
};

struct Loaded : StoreResult {
    /// The stream key exists.
    bool exists = false;
    /// The stream's last-generated-id (0 if !exists): the id a resuming client is up to date
    /// with even when the stream holds nothing newer than what it asked after.
    std::uint64_t last_id = 0;
    /// Oldest first. Entries that are not this store's (missing or bad fields) are left out
    /// and logged, which the prev_id chain then shows as a gap.
    std::vector<MessagePtr> messages;
};

class StreamStore {
public:
    StreamStore(RedisAddress address, http::LoopContext& context, StreamStoreOptions options);
    /// Stops (pending callbacks are told, with ok=false).
    ~StreamStore();
    StreamStore(const StreamStore&) = delete;
    StreamStore& operator=(const StreamStore&) = delete;

    /// Starts both connections; each connects again after a loss (RedisClientOptions' delays).
    void start();
    /// Closes both connections: every pending callback is called with ok=false, and no handler
    /// is called after.
    void stop();
    /// About once a tick: both clients' on_tick (reconnects).
    void on_tick();

    /// The command connection is up (publishes can go).
    bool commands_ready() const { return commands_.ready(); }
    /// The Pub/Sub connection is up (SUBSCRIBEs are sent or on their way).
    bool subscriptions_ready() const { return subscriptions_.ready(); }

    /// A Pub/Sub message of a wanted channel, decoded (id, prev_id, event, data, content_type,
    /// published_ms = the MS of its id).
    void set_message_handler(std::function<void(std::string_view channel, MessagePtr)> handler) {
        on_message_ = std::move(handler);
    }
    /// A wanted channel was removed by any server (see remove()), this one included.
    void set_removed_handler(std::function<void(std::string_view channel)> handler) {
        on_removed_ = std::move(handler);
    }
    /// A SUBSCRIBE for a wanted `channel` was confirmed: after subscribe(), and again for every
    /// wanted channel after the subscription connection is made again, since what was published
    /// meanwhile was missed: the owner catches up from the stream then.
    void set_subscribed_handler(std::function<void(std::string_view channel)> handler) {
        on_subscribed_ = std::move(handler);
    }
    /// Either connection became ready or was lost (`why` is empty when it became ready).
    void set_state_handler(
        std::function<void(bool commands_up, bool subscriptions_up, std::string_view why)>
            handler) {
        on_state_ = std::move(handler);
    }

    /// `channel` is wanted from now on (idempotent): SUBSCRIBEd now or once the subscription
    /// connection is up, and again after each reconnect.
    void subscribe(std::string_view channel);
    /// `channel` is not wanted any more (idempotent): UNSUBSCRIBEd; its messages and
    /// confirmations still on their way are dropped.
    void unsubscribe(std::string_view channel);
    bool wanted(std::string_view channel) const { return wanted_.contains(channel); }

    /// Appends to the stream and publishes, atomically (one Lua script: EVALSHA, with the
    /// script loaded on every connect and EVAL when the server answers NOSCRIPT). The callback
    /// is called exactly once, on the loop's thread, and synchronously (ok=false) when the
    /// command connection is down.
    void publish(std::string_view channel, std::string_view event, std::string_view data,
                 std::string_view content_type, std::function<void(const Published&)> done);
    /// The newest `count` messages, oldest first (for a channel this server starts to hold).
    void load(std::string_view channel, std::size_t count, std::function<void(const Loaded&)> done);
    /// The messages with id > after_id, oldest first, at most `count`.
    void fetch_after(std::string_view channel, std::uint64_t after_id, std::size_t count,
                     std::function<void(const Loaded&)> done);
    /// DELs the stream and publishes the removed notice (to every server subscribed to the
    /// channel: this one's removed handler too when it wants it), atomically. ok is whether
    /// both ran; `existed` whether there was a stream to delete (false when !ok). The notice is
    /// published either way, so that servers holding a channel Redis already lost drop it too.
    void remove(std::string_view channel,
                std::function<void(const StoreResult&, bool existed)> done);

private:
    /// A Lua script: its body, and its SHA1 once a SCRIPT LOAD answered (until then, EVAL).
    struct Script {
        std::string_view body;
        std::string sha;
    };
    /// Counts how deep this store is in callbacks of one client's connection: a client must not
    /// be flushed from inside them (a failed write would destroy the connection that is feeding
    /// them), and it flushes by itself once they return.
    struct Depth {
        explicit Depth(int& depth) : depth_(depth) { ++depth_; }
        ~Depth() { --depth_; }
        Depth(const Depth&) = delete;
        Depth& operator=(const Depth&) = delete;
        int& depth_;
    };

    void on_commands_ready();
    void on_subscriptions_ready();
    void on_subscriptions_lost(std::string_view why);
    void report_state(std::string_view why);
    /// Called with the script's reply and its arguments (to move what it needs out of them).
    /// `sent`: the command went to Redis (a `failed` reply then means no answer came, not that
    /// nothing was done).
    using ScriptDone =
        std::function<void(const RedisReply&, std::vector<std::string>& args, bool sent)>;
    /// One script run: kept until it is answered, since a NOSCRIPT answer sends it again.
    struct ScriptCall {
        std::vector<std::string> args;
        ScriptDone done;
    };
    /// Runs `script` with `args` (KEYS[1] first, then ARGV); falls back to EVAL on NOSCRIPT.
    /// `done` is called exactly once: at once with a `failed` reply when the command connection
    /// is down.
    void run_script(Script& script, std::vector<std::string> args, ScriptDone done);
    void send_script(RedisConnection& connection, Script& script, bool by_sha,
                     const std::shared_ptr<ScriptCall>& call);
    /// The fetch script: "newest" (count) or "after" (after_id, count).
    void fetch(std::string_view channel, bool newest, std::uint64_t after_id, std::size_t count,
               std::function<void(const Loaded&)> done);
    /// SUBSCRIBE (subscribe true) or UNSUBSCRIBE `channels` (prefixed), 512 per command.
    void send_subscription(bool subscribe, const std::vector<std::string>& channels);
    void on_confirmation(bool subscribed, std::string_view key);
    void on_payload(std::string_view key, std::string_view payload);
    /// The channel name of a prefixed key; nullopt when the key lacks the prefix.
    std::optional<std::string_view> channel_of(std::string_view key) const;
    void flush_commands();
    void flush_subscriptions();
    /// Logs at most once per interval (malformed payloads or entries could be a flood).
    void warn(std::string_view what, std::string_view detail);

    http::LoopContext& context_;
    StreamStoreOptions options_;
    RedisClient commands_;
    RedisClient subscriptions_;
    int commands_depth_ = 0;
    int subscriptions_depth_ = 0;
    Script publish_script_;
    Script fetch_script_;
    Script remove_script_;
    /// Channel names (without the prefix) the owner wants.
    std::set<std::string, std::less<>> wanted_;
    /// Channels whose last command on the current subscription connection was a SUBSCRIBE: an
    /// UNSUBSCRIBE is sent only for these, once.
    std::set<std::string, std::less<>> sent_;
    bool stopped_ = true;
    /// Why the command connection is down, for the answers to commands refused meanwhile.
    std::string commands_down_why_ = "redis: not started";
    std::function<void(std::string_view, MessagePtr)> on_message_;
    std::function<void(std::string_view)> on_removed_;
    std::function<void(std::string_view)> on_subscribed_;
    std::function<void(bool, bool, std::string_view)> on_state_;
    core::RateLimitedLog log_{10'000};
};

}  // namespace c10k::push

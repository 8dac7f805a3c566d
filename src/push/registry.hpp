#pragma once
// The process-wide table of push channels, shared by every event loop of the process.
//
// Each loop keeps its own subscribers (their sockets and queues) and tells the Registry only how
// many it has per channel. A publish returns the loops to post the message to; each loop then
// frames it once and writes it to its subscribers without holding the Registry's lock. So the
// lock is held for a hash lookup and a few counter updates, never for I/O or per-subscriber work.
//
// Ids. A channel's first id is its creation wall time in microseconds (now_ms * 1000), then +1 per
// message. Ids are therefore monotonic and consecutive per channel, and a server restarted later
// starts above any id the old one handed out (unless the old one published more than a million
// messages a second on average, or the wall clock stepped back). A client resuming with an id from
// an earlier incarnation is then told that history was lost: its id is either below the oldest
// message held (it missed messages we no longer have) or above the last id assigned (it saw
// messages we never had). A channel that is removed, or forgotten by prune(), and created again
// starts a new range the same way, and strictly above every id the Registry handed out on a
// channel it dropped, even if the clock did not move.
//
// Counts across a --processes group. Each process counts its own subscribers per loop. The other
// processes report their counts to the sequencer (push/group_link.hpp): there each channel also
// keeps the last count reported by each other process, and every count the Registry answers with
// (publish's, info's) is the sum. A channel that only other processes' subscribers hold exists on
// the sequencer too (as subscribing creates it in a single process), so its GET says how many
// watch it before anything was published. A report of 0 for a channel the sequencer no longer
// has creates nothing; a report about a channel that was deleted meanwhile may re-create it
// until the process's next report (about a second later) says 0.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "push/group_link.hpp"
#include "push/history.hpp"
#include "push/message.hpp"

namespace c10k::push {

struct RegistryOptions {
    /// What each channel keeps for resuming clients and new subscribers.
    HistoryLimits history;
    /// How many event loops share the Registry; they are numbered 0..loops-1.
    std::size_t loops = 1;
    /// Ids come from elsewhere (the Redis backplane, push/backplane.hpp): publish() is not used,
    /// a channel holds nothing until load() fills it from the stream (subscribers wait till
    /// then), apply_chained() checks each message's prev_id against the last id, and a channel
    /// with no subscriber here is dropped at prune() (the stream keeps its history).
    bool external = false;
    /// External ids: how long a channel nobody watches here stays followed (subscribed in Redis
    /// and loaded) before prune() drops it, so that long-poll clients, which leave and come
    /// back with every message, do not make the server subscribe and read the stream each time.
    std::int64_t external_linger_ms = 30'000;
};

/// Thread-safe: every public call takes one std::mutex briefly.
class Registry {
public:
    /// Throws std::invalid_argument when options.loops is 0 (start-up configuration).
    explicit Registry(RegistryOptions options);

    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    struct Published {
        /// The stored message, with its id; share it, never copy it.
        MessagePtr message;
        /// The loops that have at least one subscriber on the channel, in increasing order: the
        /// caller posts the message to each of them.
        std::vector<std::size_t> loops_to_notify;
        /// Subscribers on the channel across all loops at the time of publication (on the
        /// sequencer of a group, plus the other processes' last reported counts).
        std::uint64_t subscribers = 0;
    };
    /// Assigns the next id and stores the message (creating the channel if needed). The channel
    /// name must satisfy valid_channel_name(); the caller checks it and answers 400 otherwise.
    Published publish(std::string_view channel, std::string event, std::string data,
                      std::string content_type, std::int64_t now_ms);

    /// Stores a message whose id was assigned by another process's Registry (the sequencer of a
    /// --processes group), as publish() would, and returns the loops to post it to. A message
    /// at or below the channel's last id is a duplicate: nothing is stored and no loop is
    /// returned. Ids must arrive in increasing order per channel (the link is a stream).
    Published apply(std::string_view channel, MessagePtr message, std::int64_t now_ms);

    struct Subscribed {
        /// What the new subscriber must be sent before live messages, oldest first.
        std::vector<MessagePtr> backlog;
        /// A resume found a gap it cannot fill (see History::Since::lost): tell the client.
        bool lost = false;
        /// The channel's last assigned id, 0 if it has none yet (a long-poll waits for the next).
        std::uint64_t last_id = 0;
        /// Identifies this incarnation of the channel (its first id). Pass it to unsubscribe() so
        /// that a subscriber of a channel that was removed and created again meanwhile does not
        /// decrement the new channel's count.
        std::uint64_t incarnation = 0;
        /// External ids: nothing can be said yet (the channel is not loaded, or the client
        /// resumes from an id above the last this process has, which may be on its way): the
        /// subscriber waits for the channel's next "ready" and then asks backlog().
        bool wait = false;
        /// With `wait`: this call is the first to find the channel unloaded; the caller has the
        /// backplane load it (Hub::request_sync).
        bool need_sync = false;
        /// With `wait`: the resume id is ahead of this process; the caller has the backplane
        /// catch the channel up (Hub::request_catch_up).
        bool need_catch_up = false;
    };
    /// A subscriber arrives on `loop` (< loops; std::out_of_range otherwise, a programming error).
    /// Counts it (creating the channel if needed) and returns what it must be sent first: with a
    /// `last_id`, every held message after it (History::since, with `lost`); without one, the
    /// newest `first_count` messages (0 = none).
    /// The loop is notified of every publish after this call, but a message published just
    /// before it may still be on its way to the loop (posted for another subscriber there) while
    /// also being in the backlog. So the loop starts the subscriber's cursor at `last_id` and
    /// gives it only posted messages with a greater id: nothing is lost and nothing repeated.
    Subscribed subscribe(std::string_view channel, std::size_t loop,
                         std::optional<std::uint64_t> last_id, std::size_t first_count,
                         std::int64_t now_ms);

    /// What a subscriber that waited (Subscribed::wait) must be sent now, without counting it
    /// again; nullopt when the channel is gone. `may_wait` false: an id still ahead of the
    /// channel is reported lost rather than waited for again (it was waited for once).
    std::optional<Subscribed> backlog(std::string_view channel,
                                      std::optional<std::uint64_t> last_id, std::size_t first_count,
                                      bool may_wait, std::int64_t now_ms);

    /// A subscriber on `loop` leaves. `incarnation` is Subscribed::incarnation; 0 means whatever
    /// channel of that name exists now. Nothing happens when the channel (or that incarnation of
    /// it) no longer exists, or when the loop has no subscriber counted on it.
    void unsubscribe(std::string_view channel, std::size_t loop, std::uint64_t incarnation = 0);

    struct Info {
        std::uint64_t subscribers = 0;  ///< this process's, plus the others' last reported
        std::uint64_t last_id = 0;      ///< 0 if no message was published
        std::size_t messages = 0;       ///< held in history, after pruning by age at now_ms
    };
    // ---- external ids (RegistryOptions::external) ----

    /// The channel as the backplane read it from its stream: its newest `messages` (oldest
    /// first, an unbroken chain) and the stream's last id. Replaces what the channel held and
    /// marks it loaded. Returns the loops with subscribers (to post "ready" to); nothing when the
    /// channel is gone meanwhile.
    std::vector<std::size_t> load(std::string_view channel, std::vector<MessagePtr> messages,
                                  std::uint64_t last_id, std::int64_t now_ms);

    enum class Chain {
        applied,    ///< stored; post it to loops_to_notify
        duplicate,  ///< at or below the last id: already here
        gap,        ///< its prev_id is not the last id: something before it is missing
        absent,     ///< no such channel here, or not loaded yet: nothing to do with it
    };
    struct Applied {
        Chain chain = Chain::absent;
        std::vector<std::size_t> loops_to_notify;
        std::uint64_t subscribers = 0;
    };
    /// Stores a message from the backplane if it continues the channel's chain. `force` takes
    /// it even when it does not (after the caller reported the gap with reset()).
    Applied apply_chained(std::string_view channel, const MessagePtr& message, bool force,
                          std::int64_t now_ms);

    /// The stream lost what the channel held (history-lost): forgets the history and continues
    /// from `last_id`. Returns the loops with subscribers, to tell them.
    std::vector<std::size_t> reset(std::string_view channel, std::uint64_t last_id);

    /// The loops with subscribers on the channel (none when there is no such channel).
    std::vector<std::size_t> loops_of(std::string_view channel) const;

    /// The channel's last id and whether it is loaded; nullopt when there is no such channel.
    struct ChainHead {
        std::uint64_t last_id = 0;
        bool loaded = false;
    };
    std::optional<ChainHead> head(std::string_view channel) const;

    /// The channel's figures; nullopt when there is no such channel. Does not create it.
    std::optional<Info> info(std::string_view channel, std::int64_t now_ms);

    /// Deletes the channel; returns the loops that had subscribers on it (to tell them to close
    /// those subscribers), nullopt if there was no such channel.
    std::optional<std::vector<std::size_t>> remove(std::string_view channel);

    /// Drops history older than the age limit in every channel, and forgets channels with no
    /// subscribers and no history (external ids: no subscribers for external_linger_ms), so
    /// that the table does not grow without bound. It visits every
    /// channel under the lock: call it from a timer (about once a second), not per request.
    void prune(std::int64_t now_ms);

    /// The sequencer of a --processes group: the other process on link `process` (any small
    /// number that stays the link's until forget_process()) now holds `subscribers` on `channel`.
    /// Creates the channel at `now_ms` when it is absent and `subscribers` is not 0.
    void set_process_count(std::string_view channel, std::size_t process, std::uint64_t subscribers,
                           std::int64_t now_ms);
    /// The sequencer: the link of `process` closed; its counts leave every channel. Visits every
    /// channel under the lock (a process leaving is rare).
    void forget_process(std::size_t process);

    /// Another process of a group: from now on, remember which channels' subscriber counts change,
    /// for take_count_changes(). Off by default, so that a sequencer or a lone process keeps no
    /// list nobody takes.
    void track_count_changes();
    /// The channels whose count of this process's subscribers changed since the last call, each
    /// with its count now (0 for a channel that is gone); `all`: every channel with a nonzero
    /// count instead (a new link to the sequencer, which knows nothing of this process yet).
    std::vector<ChannelCount> take_count_changes(bool all);

    // ---- a handover to the next process (reload, upgrade: core/handover.hpp) ----

    /// The new process, until restore(): every subscriber waits (Subscribed::wait), as for an
    /// unloaded external channel, so that one resuming with an id of the old process is not
    /// told its history is lost before that history has arrived.
    void await_handover();
    bool awaiting_handover() const;
    /// Every channel, its ids and its history, as bytes for restore() in the next process (the
    /// same binary or a newer one on the same machine).
    std::string snapshot() const;
    /// A channel restore() brought back that has subscribers waiting here.
    struct Restored {
        std::string name;
        std::vector<std::size_t> loops;
        std::uint64_t last_id = 0;
    };
    /// Takes the old process's channels: ids continue where they were, the history is its,
    /// and waiting subscribers may take their backlog (the caller posts "ready" to their
    /// loops). Ends the waiting even when `bytes` is empty or unreadable (false then: nothing
    /// was taken, and resumes are told what is lost).
    bool restore(std::string_view bytes, std::int64_t now_ms, std::vector<Restored>& ready);

    std::size_t channel_count() const;
    const HistoryLimits& limits() const { return limits_; }
    std::size_t loops() const { return loops_; }

private:
    struct Channel {
        Channel(HistoryLimits limits, std::size_t loops, std::uint64_t first_id)
            : history(limits), per_loop(loops, 0), first_id(first_id), next_id(first_id) {}

        History history;
        /// Subscribers on each loop; a publish notifies the loops with a nonzero count.
        std::vector<std::uint64_t> per_loop;
        std::uint64_t subscribers = 0;  ///< this process's: the sum of per_loop
        /// The sequencer: each other process's last reported count, by link number (empty until
        /// a process reports one), and their sum.
        std::vector<std::uint64_t> per_process;
        std::uint64_t elsewhere = 0;
        /// Another process: the channel is on changed_ now.
        bool changed = false;
        /// The first id of this incarnation, which also identifies it.
        std::uint64_t first_id;
        std::uint64_t next_id;
        /// 0 until the first publish.
        std::uint64_t last_id = 0;
        /// External ids: load() filled the channel; a subscriber before then waits.
        bool loaded = false;
        /// External ids: a subscriber asked for the load already.
        bool load_requested = false;
        /// External ids: when prune() first found it without subscribers (0: it has some).
        std::int64_t unused_since_ms = 0;
    };

    /// Transparent hashing, so that a lookup by std::string_view allocates no std::string.
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view name) const noexcept {
            return std::hash<std::string_view>{}(name);
        }
    };
    using Table = std::unordered_map<std::string, Channel, NameHash, std::equal_to<>>;

    /// The channel named `name`, created at `now_ms` if absent. Called with mutex_ held.
    Channel& find_or_create(std::string_view name, std::int64_t now_ms);
    /// Raises retired_floor_ above every id `channel` handed out, before it is dropped, and
    /// notes the drop for the next count report.
    void retire(std::string_view name, const Channel& channel);
    /// Notes that this process's count on `channel` changed (when tracking). mutex_ held.
    void note_change(std::string_view name, Channel& channel);
    /// What a subscriber resuming after `last_id` (or new, wanting `first_count`) gets.
    void fill_backlog(Channel& state, std::optional<std::uint64_t> last_id, std::size_t first_count,
                      bool may_wait, Subscribed& result) const;
    /// The loops with a subscriber on `channel`, in increasing order.
    static std::vector<std::size_t> loops_with_subscribers(const Channel& channel);

    const HistoryLimits limits_;
    const std::size_t loops_;
    const bool external_;
    const std::int64_t linger_ms_;
    mutable std::mutex mutex_;
    Table channels_;
    /// The highest id (first or assigned) of any channel dropped so far: a new channel starts
    /// above it, so that a re-created channel never reuses an id its predecessor handed out.
    std::uint64_t retired_floor_ = 0;
    /// Another process of a group: the names of channels whose count changed since the last
    /// report (each once while Channel::changed, and once more when dropped), and the nonzero
    /// counts the sequencer was told last. The latter is apart from the channels because it
    /// outlives them: a channel dropped after a report must be reported as 0.
    bool tracking_ = false;
    std::vector<std::string> changed_;
    std::unordered_map<std::string, std::uint64_t, NameHash, std::equal_to<>> reported_;
    /// The new process of a handover, until restore() (mutex_).
    bool awaiting_ = false;
};

}  // namespace c10k::push

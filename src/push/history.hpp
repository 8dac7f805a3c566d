#pragma once
// One channel's retained messages, so that a client that reconnects with the last id it saw gets
// what it missed (or is told that it cannot), and a new subscriber can get the current state.
// Not thread-safe: the Registry holds one per channel behind its mutex.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "push/message.hpp"

namespace c10k::push {

/// How much history a channel keeps: at most `max_messages` (0 keeps none, so any resume after
/// a gap is reported as lost), none older than `max_age_ms` (0 means no age limit).
struct HistoryLimits {
    std::size_t max_messages = 100;
    std::int64_t max_age_ms = 600'000;
};

/// The newest messages of one channel, oldest first. The held messages always form an unbroken
/// chain (each one's prev_id is the id before it) ending at the newest appended message: pruning
/// only ever drops the oldest, and the caller appends in chain order. That is what lets since()
/// tell a gap from ids alone, whether ids are consecutive (a local channel) or Redis stream ids.
class History {
public:
    explicit History(HistoryLimits limits = {}) : limits_(limits) {}

    /// Stores `message`, whose id must be greater than every id appended before and whose
    /// prev_id is the last appended (the caller checks the chain; clear() starts a new one), and
    /// drops the oldest messages beyond max_messages.
    void append(MessagePtr message);

    /// Drops the messages older than max_age_ms at `now_ms` (nothing when the age limit is 0).
    /// Stops at the first young enough message so that the held ids stay consecutive, even if the
    /// wall clock stepped back between two publications.
    void prune(std::int64_t now_ms);

    /// What a client that saw up to `after_id` must be sent.
    struct Since {
        /// The held messages with id > after_id, oldest first (everything held when `lost`).
        std::vector<MessagePtr> messages;
        /// Some message the client did not see is not held any more (the first held message
        /// after after_id does not continue from it, or nothing is held while after_id <
        /// last_assigned), or after_id is not an id of this incarnation of the channel (greater
        /// than any it assigned, or between two held ids): the client cannot be trusted to have
        /// what we have.
        bool lost = false;
    };
    /// `last_assigned` is the channel's last assigned id (0 if none): it is needed because the
    /// history may hold nothing (max_messages 0, or everything aged out).
    Since since(std::uint64_t after_id, std::uint64_t last_assigned) const;

    /// The last `count` messages (fewer if fewer are held), oldest first.
    std::vector<MessagePtr> newest(std::size_t count) const;

    /// Forgets every message: the chain is broken (a backplane's stream was lost).
    void clear() { messages_.clear(); }

    std::size_t size() const { return messages_.size(); }
    bool empty() const { return messages_.empty(); }
    /// The newest held message; null when none is held.
    MessagePtr back() const { return messages_.empty() ? nullptr : messages_.back(); }
    /// The oldest held message; null when none is held.
    MessagePtr front() const { return messages_.empty() ? nullptr : messages_.front(); }

    const HistoryLimits& limits() const { return limits_; }

private:
    HistoryLimits limits_;
    std::deque<MessagePtr> messages_;
};

}  // namespace c10k::push

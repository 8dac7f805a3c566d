#pragma once
// One published message of a push channel, as every transport (SSE, long-poll) sees it.

#include <cstdint>
#include <memory>
#include <string>

namespace c10k::push {

/// One published message; immutable once published, shared across loops (std::shared_ptr<const
/// Message>: the atomic count is paid once per message per loop, not per subscriber: each loop
/// frames it once into its own buffer, and its subscribers share that).
struct Message {
    /// Monotonic per channel and consecutive (+1 per message), so that a gap in what a client
    /// saw is visible from the ids alone. See Registry for where a channel's ids start.
    std::uint64_t id = 0;
    /// The id of the message before it in its channel (0: none). Local ids are consecutive, so
    /// it is id - 1 there; with the Redis backplane ids are stream ids, which are not, and this
    /// chain is what tells a gap (a trimmed or lost stream, a missed Pub/Sub message) from the
    /// ids alone.
    std::uint64_t prev_id = 0;
    /// SSE event name; empty means the default "message". Checked with valid_event_name().
    std::string event;
    /// The payload, which may contain newlines (SSE splits it into several data lines).
    std::string data;
    /// The publish request's Content-Type, for long-poll responses.
    std::string content_type;
    /// Wall clock (ms since the epoch) at publication, for the history's age limit.
    std::int64_t published_ms = 0;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace c10k::push

#pragma once
// What push measurement counts, in forms that merge across loops and travel through a worker's
// pipe: per-loop subscriber counters (deliveries, latency, gaps, duplicates, reconnects, the
// first and last id each subscriber saw, the receipt span of each message id), the publisher's
// record of what the server acknowledged, and the arithmetic that turns both into "messages
// lost".

#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench/ws_stats.hpp"
#include "core/histogram.hpp"

namespace c10k::bench {

/// First and last receipt of one message id over every subscriber (CLOCK_REALTIME ns).
struct ReceiptSpan {
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    std::uint64_t receipts = 0;
};

/// Counters of the subscribers of one loop, or of a whole run once merged.
struct PushStats {
    /// Receipt wall time minus the `t=` send time in the message, microseconds; one value per
    /// counted delivery that carried a `t=`.
    core::Histogram latency;
    /// New ids received (id > the subscriber's last), counted when the message was sent (its
    /// `t=`, else its receipt) within the measured interval.
    std::uint64_t deliveries = 0;
    /// Ids skipped in a subscriber's sequence (id > last + 1), from the start of measurement.
    std::uint64_t gap_lost = 0;
    /// Events with id <= the subscriber's last id, from the start of measurement.
    std::uint64_t duplicates = 0;
    std::uint64_t history_lost = 0;   ///< `history-lost` events (SSE) or responses (long-poll)
    std::uint64_t without_id = 0;     ///< events or responses that carried no usable id
    std::uint64_t heartbeats = 0;     ///< SSE comment lines
    std::uint64_t poll_timeouts = 0;  ///< long-poll 304 Not Modified
    std::uint64_t bytes_read = 0;     ///< from the start of measurement

    std::uint64_t subscribers = 0;  ///< asked for
    std::uint64_t connected = 0;    ///< subscribed when the run started
    std::uint64_t failed = 0;       ///< of those asked for, not subscribed when it started
    std::uint64_t open = 0;         ///< subscribed at the end of the measured interval
    std::uint64_t reconnects = 0;   ///< subscribed again after a close, from the start
    std::uint64_t disconnects = 0;  ///< streams ended or reset by the peer, from the start
    std::map<int, std::uint64_t> connect_failures;  ///< every failed connect, by errno
    std::map<int, std::uint64_t> bad_status;        ///< answers that were not a subscription
    std::uint64_t protocol_errors = 0;  ///< bad HTTP or SSE framing (the connection is dropped)

    /// Of the subscribers whose channel the publisher publishes on: how many first saw each id,
    /// how many last saw each id, and how many saw nothing at all. With the publisher's
    /// acknowledged ids these give the messages a subscriber never saw (unseen_messages()).
    std::map<std::uint64_t, std::uint64_t> first_ids;
    std::map<std::uint64_t, std::uint64_t> last_ids;
    std::uint64_t saw_nothing = 0;
    /// Of those subscribers, where a sequence started again after history-lost: (last id before,
    /// first id after) and how many subscribers made that jump. Acknowledged ids between the
    /// two were never seen.
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> resync_gaps;

    /// Per message id counted as a delivery: first and last receipt (fan-out span).
    std::unordered_map<std::uint64_t, ReceiptSpan> spans;
    /// WebSocket subscribers (--ws): handshakes, compression agreed, how connections ended.
    WsCounters ws;

    void merge(const PushStats& other);
    std::vector<std::uint8_t> serialize() const;
    bool deserialize(std::span<const std::uint8_t> bytes);
};

/// What the publisher did.
struct PublisherStats {
    /// Every acknowledged publish: (message id from the answer, intended send time, monotonic ns).
    std::vector<std::pair<std::uint64_t, std::int64_t>> acked;
    std::uint64_t published = 0;        ///< acknowledged, intended within the measured interval
    std::uint64_t sent = 0;             ///< written, intended within the measured interval
    std::uint64_t acks_without_id = 0;  ///< 2xx answers whose body had no "id"
    std::map<int, std::uint64_t> error_status;  ///< non-2xx answers by status
    std::uint64_t unanswered = 0;  ///< written, then the connection failed or time ran out
    std::uint64_t connect_failures = 0;
    /// From the intended send time to the answer, microseconds (a late publish shows here).
    core::Histogram ack_latency;

    std::uint64_t errors() const;
};

/// Messages that subscribers never saw: for each acknowledged id in `window_ids` (sorted), each
/// expected subscriber that saw nothing misses it, and a subscriber that saw ids first..last
/// misses those below its first, above its last, and strictly inside a jump it made after
/// history-lost (other ids between first and last are covered by gap counting).
std::uint64_t unseen_messages(const PushStats& stats, const std::vector<std::uint64_t>& window_ids);

/// The fan-out span of each id (last receipt minus first), microseconds.
core::Histogram span_histogram(const PushStats& stats);

}  // namespace c10k::bench

namespace c10k::bench {

/// A push run's figures, as reported (BenchReport::push).
struct PushReport {
    PushStats subscribers;  ///< every loop's counters merged
    /// Present when there was a publisher; its `acked` list is emptied once used.
    bool has_publisher = false;
    PublisherStats publisher;
    std::uint64_t window_ids = 0;  ///< distinct ids acknowledged for the measured interval
    std::uint64_t unseen = 0;      ///< of those, per expected subscriber, the ones never seen
    std::uint64_t expected_subscribers = 0;  ///< subscribers on the publisher's channel
    core::Histogram spans;                   ///< fan-out span per message id, microseconds
    double deliveries_per_s = 0;
    double cpu_us_per_delivery = 0;       ///< with --server-pid
    double rss_bytes_per_subscriber = 0;  ///< with --server-pid

    std::uint64_t lost() const { return subscribers.gap_lost + unseen; }
};

}  // namespace c10k::bench

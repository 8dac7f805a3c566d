#pragma once
// What push measurement counts, in forms that merge across loops and travel through a worker's
// pipe: per-loop subscriber counters (deliveries, latency, gaps, duplicates, reconnects, the
// first and last id each subscriber saw, the receipt span of each message id), the publisher's
// record of what the server acknowledged, and the arithmetic that turns both into "messages
// lost".

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench/ws_stats.hpp"
#include "core/histogram.hpp"

namespace c10k::bench {

/// First and last receipt of one message id over every subscriber (CLOCK_REALTIME ns), and the
/// message's `t=` (0 when it had none).
struct ReceiptSpan {
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    std::uint64_t receipts = 0;
    std::int64_t sent_ns = 0;
};

/// Counters of the subscribers of one loop, or of a whole run once merged.
struct PushStats {
    /// Receipt wall time minus the `t=` send time in the message, microseconds; one value per
    /// counted delivery that carried a `t=`.
    core::Histogram latency;
    /// New ids received (id > the subscriber's last), counted when the message was sent (its
    /// `t=`, else its receipt) within the measured interval.
    std::uint64_t deliveries = 0;
    /// Messages skipped in the sequence of a subscriber NOT on the publisher's channel, from the
    /// start of measurement. Without acknowledged ids to compare with, a jump from id a to id b
    /// counts the smaller of b - a - 1 and the publisher's `seq=` difference minus one (ids that
    /// are consecutive make the first exact; Redis stream ids, which are not, leave the second,
    /// which also counts publishes the server refused). Subscribers on the publisher's channel
    /// record their jumps instead (`jumps`).
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
    /// Of those subscribers, from the start of measurement: every step over more than one id
    /// (last id, next id) and how many subscribers made it. The acknowledged ids strictly between
    /// the two are the messages skipped (skipped_messages()): right for any increasing ids, where
    /// `id - last - 1` takes Redis stream ids (milliseconds * 1,000,000 + sequence) for millions
    /// of lost messages, and a publish the server refused (503) is no message at all. Subscribers
    /// that lose nothing share the same steps, so this holds about one entry per message.
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> jumps;

    /// Per message id counted as a delivery: first and last receipt (fan-out span).
    std::unordered_map<std::uint64_t, ReceiptSpan> spans;
    /// WebSocket subscribers (--ws): handshakes, compression agreed, how connections ended.
    WsCounters ws;
    /// With several subscribe URLs, the same per-subscriber counters for each URL's subscribers
    /// (index = the URL's position): subscribers, reconnects, deliveries, latency, gaps, jumps,
    /// duplicates, history-lost, first/last ids and spans. Empty with one URL (the totals are
    /// that URL's).
    std::vector<PushStats> targets;

    void merge(const PushStats& other);
    std::vector<std::uint8_t> serialize() const;
    bool deserialize(std::span<const std::uint8_t> bytes);

private:
    void append_to(std::vector<std::uint8_t>& out) const;
    bool read_from(std::span<const std::uint8_t> bytes, std::size_t& offset, bool nested);
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
/// history-lost (other ids between first and last are counted by skipped_messages()).
std::uint64_t unseen_messages(const PushStats& stats, const std::vector<std::uint64_t>& window_ids);

/// Messages skipped inside subscribers' jumps: for each jump (a, b) of `stats.jumps`, the ids
/// of `acked_ids` (sorted, distinct) strictly between a and b, once per subscriber that jumped.
std::uint64_t skipped_messages(const PushStats& stats, const std::vector<std::uint64_t>& acked_ids);

/// The fan-out span of each id (last receipt minus first), microseconds.
core::Histogram span_histogram(const PushStats& stats);

}  // namespace c10k::bench

namespace c10k::bench {

/// One subscribe URL's share of a push run (PushReport::targets).
struct PushTargetReport {
    std::string url;
    std::uint64_t subscribers = 0;  ///< asked for on this URL
    std::uint64_t expected = 0;     ///< of those, on the publisher's channel
    std::uint64_t reconnects = 0;
    std::uint64_t deliveries = 0;
    core::Histogram latency;  ///< receipt - t=, microseconds
    core::Histogram spans;    ///< fan-out span per message id over this URL's subscribers
    std::uint64_t gaps = 0;   ///< gap_lost + skipped, as for the run
    std::uint64_t unseen = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t history_lost = 0;

    std::uint64_t lost() const { return gaps + unseen; }
};

/// One delivered message, for a timeline of the run (PushReport::messages).
struct MessageReceipts {
    std::uint64_t id = 0;
    std::int64_t sent_ns = 0;   ///< its `t=` (CLOCK_REALTIME), 0 without one
    std::int64_t first_ns = 0;  ///< first receipt by any subscriber (CLOCK_REALTIME)
    std::int64_t last_ns = 0;   ///< last receipt
    std::uint64_t receipts = 0;
    bool acknowledged = false;  ///< the publisher had a 2xx answer with this id
};

/// A push run's figures, as reported (BenchReport::push).
struct PushReport {
    PushStats subscribers;  ///< every loop's counters merged
    /// Present when there was a publisher; its `acked` list is emptied once used.
    bool has_publisher = false;
    PublisherStats publisher;
    std::uint64_t window_ids = 0;  ///< distinct ids acknowledged for the measured interval
    std::uint64_t unseen = 0;      ///< of those, per expected subscriber, the ones never seen
    /// Acknowledged ids that expected subscribers skipped inside their sequences (jumps).
    std::uint64_t skipped = 0;
    std::uint64_t expected_subscribers = 0;  ///< subscribers on the publisher's channel
    core::Histogram spans;                   ///< fan-out span per message id, microseconds
    double deliveries_per_s = 0;
    double cpu_us_per_delivery = 0;       ///< with --server-pid
    double rss_bytes_per_subscriber = 0;  ///< with --server-pid

    /// Per subscribe URL, in the order given (one entry with one URL).
    std::vector<PushTargetReport> targets;
    /// Every message counted as a delivery, by id, when there are at most
    /// `max_reported_messages` of them (else empty and `messages_omitted` set): when each message
    /// was sent and first and last received, e.g. to see how long delivery took to come back
    /// after an outage.
    std::vector<MessageReceipts> messages;
    bool messages_omitted = false;

    /// Gaps (counted without acknowledged ids, and acknowledged ids skipped) plus never seen.
    std::uint64_t gaps() const { return subscribers.gap_lost + skipped; }
    std::uint64_t lost() const { return gaps() + unseen; }
};

/// The most messages listed in PushReport::messages (a JSON row each): an hour at 1/s.
inline constexpr std::size_t max_reported_messages = 3600;

}  // namespace c10k::bench

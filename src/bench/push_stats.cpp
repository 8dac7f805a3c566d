#include "bench/push_stats.hpp"
#include "bench/wire.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace c10k::bench {
namespace {

using wire::get;
using wire::get_map;
using wire::put;
using wire::put_map;

template <typename Key>
void add_map(std::map<Key, std::uint64_t>& into, const std::map<Key, std::uint64_t>& from) {
    for (auto [key, count] : from) into[key] += count;
}

void add_span(ReceiptSpan& into, const ReceiptSpan& from) {
    if (into.receipts == 0) {
        into = from;
        return;
    }
    into.first_ns = std::min(into.first_ns, from.first_ns);
    into.last_ns = std::max(into.last_ns, from.last_ns);
    into.receipts += from.receipts;
    if (into.sent_ns == 0) into.sent_ns = from.sent_ns;
}

using Jumps = std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t>;

void put_jumps(std::vector<std::uint8_t>& out, const Jumps& jumps) {
    put(out, jumps.size());
    for (auto [jump, count] : jumps) {
        put(out, jump.first);
        put(out, jump.second);
        put(out, count);
    }
}

bool get_jumps(std::span<const std::uint8_t> bytes, std::size_t& offset, Jumps& jumps) {
    std::uint64_t count = 0;
    if (!get(bytes, offset, count) || count > bytes.size() / 24) return false;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t before = 0, after = 0, subscribers = 0;
        if (!get(bytes, offset, before) || !get(bytes, offset, after) ||
            !get(bytes, offset, subscribers)) {
            return false;
        }
        jumps[{before, after}] += subscribers;
    }
    return true;
}

/// The ids of `sorted` strictly between `after` and `before`.
std::uint64_t ids_between(const std::vector<std::uint64_t>& sorted, std::uint64_t after,
                          std::uint64_t before) {
    if (before <= after) return 0;  // ids went down: nothing lies between
    auto from = std::upper_bound(sorted.begin(), sorted.end(), after);
    auto to = std::lower_bound(sorted.begin(), sorted.end(), before);
    return from < to ? static_cast<std::uint64_t>(to - from) : 0;
}

}  // namespace

void PushStats::merge(const PushStats& other) {
    latency.merge(other.latency);
    using Counter = std::pair<std::uint64_t*, const std::uint64_t*>;
    for (auto [into, from] : std::initializer_list<Counter>{
             std::pair{&deliveries, &other.deliveries}, std::pair{&gap_lost, &other.gap_lost},
             std::pair{&duplicates, &other.duplicates},
             std::pair{&history_lost, &other.history_lost},
             std::pair{&without_id, &other.without_id}, std::pair{&heartbeats, &other.heartbeats},
             std::pair{&poll_timeouts, &other.poll_timeouts},
             std::pair{&bytes_read, &other.bytes_read}, std::pair{&subscribers, &other.subscribers},
             std::pair{&connected, &other.connected}, std::pair{&failed, &other.failed},
             std::pair{&open, &other.open}, std::pair{&reconnects, &other.reconnects},
             std::pair{&disconnects, &other.disconnects},
             std::pair{&protocol_errors, &other.protocol_errors},
             std::pair{&saw_nothing, &other.saw_nothing}}) {
        *into += *from;
    }
    add_map(connect_failures, other.connect_failures);
    add_map(bad_status, other.bad_status);
    add_map(first_ids, other.first_ids);
    add_map(last_ids, other.last_ids);
    for (auto [gap, count] : other.resync_gaps) resync_gaps[gap] += count;
    for (auto [jump, count] : other.jumps) jumps[jump] += count;
    for (const auto& [id, span] : other.spans) add_span(spans[id], span);
    ws.merge(other.ws);
    if (targets.size() < other.targets.size()) targets.resize(other.targets.size());
    for (std::size_t t = 0; t < other.targets.size(); ++t) targets[t].merge(other.targets[t]);
}

std::vector<std::uint8_t> PushStats::serialize() const {
    std::vector<std::uint8_t> out;
    append_to(out);
    return out;
}

bool PushStats::deserialize(std::span<const std::uint8_t> bytes) {
    std::size_t offset = 0;
    return read_from(bytes, offset, false) && offset == bytes.size();
}

void PushStats::append_to(std::vector<std::uint8_t>& out) const {
    latency.serialize(out);
    for (auto value : {deliveries, gap_lost, duplicates, history_lost, without_id, heartbeats,
                       poll_timeouts, bytes_read, subscribers, connected, failed, open, reconnects,
                       disconnects, protocol_errors, saw_nothing}) {
        put(out, value);
    }
    put_map(out, connect_failures);
    put_map(out, bad_status);
    put_map(out, first_ids);
    put_map(out, last_ids);
    put_jumps(out, resync_gaps);
    put_jumps(out, jumps);
    put(out, spans.size());
    for (const auto& [id, span] : spans) {
        put(out, id);
        put(out, static_cast<std::uint64_t>(span.first_ns));
        put(out, static_cast<std::uint64_t>(span.last_ns));
        put(out, span.receipts);
        put(out, static_cast<std::uint64_t>(span.sent_ns));
    }
    ws.serialize(out);
    put(out, targets.size());
    for (const auto& target : targets) target.append_to(out);
}

bool PushStats::read_from(std::span<const std::uint8_t> bytes, std::size_t& offset, bool nested) {
    *this = PushStats{};
    if (!latency.deserialize(bytes, offset)) return false;
    for (auto* value : {&deliveries, &gap_lost, &duplicates, &history_lost, &without_id,
                        &heartbeats, &poll_timeouts, &bytes_read, &subscribers, &connected, &failed,
                        &open, &reconnects, &disconnects, &protocol_errors, &saw_nothing}) {
        if (!get(bytes, offset, *value)) return false;
    }
    if (!get_map(bytes, offset, connect_failures) || !get_map(bytes, offset, bad_status) ||
        !get_map(bytes, offset, first_ids) || !get_map(bytes, offset, last_ids)) {
        return false;
    }
    if (!get_jumps(bytes, offset, resync_gaps) || !get_jumps(bytes, offset, jumps)) return false;
    std::uint64_t count = 0;
    if (!get(bytes, offset, count) || count > bytes.size() / 40) return false;
    spans.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t id = 0, first = 0, last = 0, receipts = 0, sent = 0;
        if (!get(bytes, offset, id) || !get(bytes, offset, first) || !get(bytes, offset, last) ||
            !get(bytes, offset, receipts) || !get(bytes, offset, sent)) {
            return false;
        }
        add_span(spans[id],
                 ReceiptSpan{static_cast<std::int64_t>(first), static_cast<std::int64_t>(last),
                             receipts, static_cast<std::int64_t>(sent)});
    }
    if (!ws.deserialize(bytes, offset)) return false;
    // Per-URL counters nest one level only: a URL's entry has no URLs of its own.
    if (!get(bytes, offset, count) || count > bytes.size() || (nested && count != 0)) {
        return false;
    }
    targets.resize(count);
    for (auto& target : targets) {
        if (!target.read_from(bytes, offset, true)) return false;
    }
    return true;
}

std::uint64_t PublisherStats::errors() const {
    std::uint64_t total = unanswered + connect_failures;
    for (auto [status, count] : error_status) total += count;
    return total;
}

std::uint64_t unseen_messages(const PushStats& stats,
                              const std::vector<std::uint64_t>& window_ids) {
    std::uint64_t unseen = stats.saw_nothing * window_ids.size();
    for (auto [first, subscribers] : stats.first_ids) {
        auto below = std::lower_bound(window_ids.begin(), window_ids.end(), first);
        unseen += subscribers * static_cast<std::uint64_t>(below - window_ids.begin());
    }
    for (auto [last, subscribers] : stats.last_ids) {
        auto above = std::upper_bound(window_ids.begin(), window_ids.end(), last);
        unseen += subscribers * static_cast<std::uint64_t>(window_ids.end() - above);
    }
    for (auto [gap, subscribers] : stats.resync_gaps) {
        unseen += subscribers * ids_between(window_ids, gap.first, gap.second);
    }
    return unseen;
}

std::uint64_t skipped_messages(const PushStats& stats,
                               const std::vector<std::uint64_t>& acked_ids) {
    std::uint64_t skipped = 0;
    for (auto [jump, subscribers] : stats.jumps) {
        skipped += subscribers * ids_between(acked_ids, jump.first, jump.second);
    }
    return skipped;
}

core::Histogram span_histogram(const PushStats& stats) {
    core::Histogram histogram;
    for (const auto& [id, span] : stats.spans) {
        histogram.record((span.last_ns - span.first_ns) / 1000);
    }
    return histogram;
}

}  // namespace c10k::bench

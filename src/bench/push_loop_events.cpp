// What the server says to a subscriber, and what the bench makes of it: is this a subscription,
// which message is this, is it the next in the sequence, and how long did it take to arrive.
// These run inside llhttp callbacks: they only record and flag; closing waits until the parser
// has returned.

#include <strings.h>

#include <algorithm>
#include <optional>

#include "bench/push_loop.hpp"
#include "bench/push_message.hpp"

namespace c10k::bench {
namespace {

constexpr std::string_view history_lost_event = "history-lost";

// The start of a long-poll body that is kept: enough for "t=<19 digits> ".
constexpr std::size_t poll_body_prefix = 32;

bool is_event_stream(std::string_view content_type) {
    constexpr std::string_view wanted = "text/event-stream";
    return content_type.size() >= wanted.size() &&
           ::strncasecmp(content_type.data(), wanted.data(), wanted.size()) == 0;
}

}  // namespace

bool PushLoop::head_thunk(void* context, const PushResponseParser::Head& head) {
    auto* ref = static_cast<SubscriberRef*>(context);
    return ref->loop->on_head(*ref->sub, head);
}

bool PushLoop::body_thunk(void* context, const char* data, std::size_t size) {
    auto* ref = static_cast<SubscriberRef*>(context);
    return ref->loop->on_body(*ref->sub, data, size);
}

bool PushLoop::complete_thunk(void* context, bool keep_alive) {
    auto* ref = static_cast<SubscriberRef*>(context);
    return ref->loop->on_complete(*ref->sub, keep_alive);
}

void PushLoop::event_thunk(void* context, const SseParser::Event& event) {
    auto* ref = static_cast<SubscriberRef*>(context);
    ref->loop->on_event(*ref->sub, event);
}

bool PushLoop::on_head(Subscriber& sub, const PushResponseParser::Head& head) {
    sub.answered = true;
    if (websocket()) return on_ws_head(sub, head);
    if (sse()) {
        if (head.status != 200 || !is_event_stream(head.content_type)) {
            stats_.bad_status[head.status]++;
            sub.drop = DropReason::refused;
            return false;
        }
        sub.subscribed = true;
        open_++;
        settle(sub);
        if (sub.ever_subscribed && counting()) count(sub, [](PushStats& s) { s.reconnects++; });
        sub.ever_subscribed = true;
        sub.failures = 0;
        return true;
    }
    SubscriberExtra& extra = sub.need_extra();
    extra.poll_status = static_cast<std::uint16_t>(head.status);
    auto id = parse_etag_id(head.etag);
    extra.poll_has_id = id.has_value();
    extra.poll_id = id.value_or(0);
    extra.poll_history_lost = head.event == history_lost_event;
    extra.poll_body.clear();
    return true;
}

bool PushLoop::on_body(Subscriber& sub, const char* data, std::size_t size) {
    if (websocket()) return true;  // a refusal's body: on_head has flagged it already
    if (sse()) {
        SubscriberRef ref{this, &sub};
        if (sub.sse.feed(data, size, &PushLoop::event_thunk, &ref) != SseParser::Outcome::ok) {
            stats_.protocol_errors++;
            sub.drop = DropReason::refused;
            return false;
        }
        return true;
    }
    std::string& body = sub.need_extra().poll_body;
    if (body.size() < poll_body_prefix) {
        body.append(data, std::min(size, poll_body_prefix - body.size()));
    }
    return true;
}

bool PushLoop::on_complete(Subscriber& sub, bool keep_alive) {
    // A 101 completes here; llhttp then hands the rest over (Outcome::upgraded).
    if (websocket()) return true;
    if (sse()) {
        // An event stream never ends by itself: the server closed it (shutdown, a slow
        // subscriber cut off). Subscribe again with Last-Event-ID.
        sub.drop = DropReason::stream_closed;
        return false;
    }
    on_poll_answer(sub);
    if (!keep_alive) {
        sub.drop = DropReason::stream_closed;
        return false;
    }
    return true;
}

void PushLoop::on_poll_answer(Subscriber& sub) {
    SubscriberExtra& extra = sub.need_extra();
    int status = extra.poll_status;
    extra.poll_due_ns = now_ns_;  // ask again at once, unless below says otherwise
    if (status == 304) {
        // The server's long-poll timeout: nothing new; ask again with the same id.
        stats_.poll_timeouts++;
        return;
    }
    if (status != 200) {
        // Not an answer to a poll: try again later rather than hammer the server.
        stats_.bad_status[status]++;
        extra.poll_due_ns = now_ns_ + (100'000'000LL << std::min<std::uint32_t>(sub.failures, 4));
        if (sub.failures < 255) sub.failures++;
        return;
    }
    sub.failures = 0;
    if (extra.poll_history_lost) {
        // The server no longer holds what this subscriber asked for; its ETag says where to go
        // on from. What was missed is counted from the publisher's acknowledged ids.
        if (counting()) count(sub, [](PushStats& s) { s.history_lost++; });
        sub.resync = sub.have_id;
        if (extra.poll_has_id) {
            extra.resume_id = extra.poll_id;
            extra.have_resume = true;
        }
        return;
    }
    if (!extra.poll_has_id) {
        if (counting()) stats_.without_id++;
        return;
    }
    on_message(sub, extra.poll_id, extra.poll_body);
}

void PushLoop::on_event(Subscriber& sub, const SseParser::Event& event) {
    if (event.type == history_lost_event) {
        if (counting()) count(sub, [](PushStats& s) { s.history_lost++; });
        sub.resync = sub.have_id;
        return;
    }
    if (!event.has_id) {
        if (counting()) stats_.without_id++;
        return;
    }
    auto id = parse_decimal_id(event.last_event_id);
    if (!id) {
        if (counting()) stats_.without_id++;
        return;
    }
    on_message(sub, *id, event.data);
}

void PushLoop::on_message(Subscriber& sub, std::uint64_t id, std::string_view data) {
    // Only a subscriber with no acknowledged ids to compare with needs the publisher's seq=.
    std::optional<std::uint64_t> seq = sub.expected ? std::nullopt : parse_sequence(data);
    if (!sub.have_id) {
        sub.have_id = true;
        sub.first_id = id;
    } else if (sub.resync) {
        // After history-lost the sequence starts again here. Gap counting would take a
        // recreated channel's jump for millions of lost messages; instead the publisher's
        // acknowledged ids between the two are counted as never seen (unseen_messages()).
        sub.resync = false;
        if (sub.expected) count(sub, [&](PushStats& s) { s.resync_gaps[{sub.last_id, id}]++; });
    } else if (id <= sub.last_id) {
        if (counting()) count(sub, [](PushStats& s) { s.duplicates++; });
        return;
    } else if (id > sub.last_id + 1 && counting()) {
        // Ids need not be consecutive (Redis stream ids are not), so a step over several ids
        // is not itself a loss. On the publisher's channel, the step is kept and compared with
        // the acknowledged ids at the end (skipped_messages()): a publish refused with 503 has
        // no id and is no loss. Elsewhere there is nothing to compare with: the smaller of the
        // id step and the seq= step is counted (PushStats::gap_lost).
        if (sub.expected) {
            count(sub, [&](PushStats& s) { s.jumps[{sub.last_id, id}]++; });
        } else {
            std::uint64_t skipped = id - sub.last_id - 1;
            if (seq && sub.have_seq && *seq > sub.last_seq) {
                skipped = std::min(skipped, *seq - sub.last_seq - 1);
            }
            count(sub, [&](PushStats& s) { s.gap_lost += skipped; });
        }
    }
    sub.last_id = id;
    sub.have_seq = seq.has_value();
    sub.last_seq = seq.value_or(0);
    if (sub.extra) sub.extra->have_resume = false;
    // A message counts when it was sent within the measured interval: by its `t=` when it has
    // one (the publisher's clock and this loop's share one offset, so the bounds are exact),
    // else by when it arrived.
    auto sent = parse_send_time(data);
    if (!counting()) return;  // before this, the interval bounds are not set
    bool in_window = sent ? *sent >= measure_start_ns_ + realtime_offset_ns_ &&
                                *sent < measure_end_ns_ + realtime_offset_ns_
                          : now_ns_ < measure_end_ns_;
    if (!in_window) return;
    count(sub, [&](PushStats& s) {
        s.deliveries++;
        if (sent) s.latency.record((receipt_ns_ - *sent) / 1000);
        ReceiptSpan& span = s.spans[id];
        if (span.receipts == 0) {
            span.first_ns = span.last_ns = receipt_ns_;
            span.sent_ns = sent.value_or(0);
        } else {
            span.first_ns = std::min(span.first_ns, receipt_ns_);
            span.last_ns = std::max(span.last_ns, receipt_ns_);
        }
        span.receipts++;
    });
}

}  // namespace c10k::bench

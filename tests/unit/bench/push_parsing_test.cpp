// The pieces of push measurement that need no socket: the response parser that streams a chunked
// event stream and reads long-poll answers (split anywhere), the message formats (`t=`, ids,
// ETags, the publish acknowledgement, channels), and the loss arithmetic over merged counters.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/push_http.hpp"
#include "bench/push_message.hpp"
#include "bench/push_stats.hpp"

namespace c10k::bench {
namespace {

/// Records everything PushResponseParser reports.
struct Recorder {
    struct Response {
        int status = 0;
        std::string content_type, etag, event, body;
        bool complete = false;
        bool keep_alive = false;
    };
    std::vector<Response> responses;
    PushResponseParser::Callbacks callbacks;

    Recorder() {
        callbacks.on_head = [](void* c, const PushResponseParser::Head& head) {
            auto& self = *static_cast<Recorder*>(c);
            Response response;
            response.status = head.status;
            response.content_type = head.content_type;
            response.etag = head.etag;
            response.event = head.event;
            self.responses.push_back(response);
            return true;
        };
        callbacks.on_body = [](void* c, const char* data, std::size_t size) {
            static_cast<Recorder*>(c)->responses.back().body.append(data, size);
            return true;
        };
        callbacks.on_complete = [](void* c, bool keep_alive) {
            auto& last = static_cast<Recorder*>(c)->responses.back();
            last.complete = true;
            last.keep_alive = keep_alive;
            return true;
        };
    }
};

/// Parses `text` whole and split at every point; every way must record the same.
std::vector<Recorder::Response> parse_everywhere(const std::string& text) {
    std::vector<Recorder::Response> first;
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        Recorder recorder;
        PushResponseParser parser;
        parser.reset();
        EXPECT_EQ(parser.feed(text.data(), cut, recorder.callbacks, &recorder),
                  PushResponseParser::Outcome::ok)
            << cut;
        EXPECT_EQ(parser.feed(text.data() + cut, text.size() - cut, recorder.callbacks, &recorder),
                  PushResponseParser::Outcome::ok)
            << cut;
        if (cut == 0) {
            first = recorder.responses;
            continue;
        }
        EXPECT_EQ(recorder.responses.size(), first.size()) << "cut at " << cut;
        for (std::size_t i = 0; i < first.size() && i < recorder.responses.size(); ++i) {
            const auto& a = first[i];
            const auto& b = recorder.responses[i];
            EXPECT_EQ(a.status, b.status) << cut;
            EXPECT_EQ(a.content_type, b.content_type) << cut;
            EXPECT_EQ(a.etag, b.etag) << cut;
            EXPECT_EQ(a.event, b.event) << cut;
            EXPECT_EQ(a.body, b.body) << cut;
            EXPECT_EQ(a.complete, b.complete) << cut;
        }
    }
    return first;
}

TEST(PushResponseParser, ChunkedEventStreamIsDechunkedWhateverTheSplit) {
    std::string text =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Transfer-Encoding: chunked\r\nX-Other: 1\r\n\r\n"
        "7\r\nretry: \r\n"
        "c\r\n1000\n:\n\nid: \r\n"
        "f\r\n5\ndata: hello\n\n\r\n";
    auto responses = parse_everywhere(text);
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].content_type, "text/event-stream; charset=utf-8");
    EXPECT_EQ(responses[0].body, "retry: 1000\n:\n\nid: 5\ndata: hello\n\n");
    EXPECT_FALSE(responses[0].complete);  // an event stream does not end by itself
}

TEST(PushResponseParser, LongPollAnswersOnOneConnection) {
    std::string text =
        "HTTP/1.1 200 OK\r\nETag: \"1700000000000007\"\r\nX-Event: score\r\n"
        "Content-Length: 9\r\n\r\nt=42 seq="
        "HTTP/1.1 304 Not Modified\r\nETag: \"1700000000000007\"\r\n\r\n"
        "HTTP/1.1 200 OK\r\netag: W/\"8\"\r\nx-event: history-lost\r\nContent-Length: 0\r\n\r\n";
    auto responses = parse_everywhere(text);
    ASSERT_EQ(responses.size(), 3u);
    EXPECT_EQ(responses[0].etag, "\"1700000000000007\"");
    EXPECT_EQ(responses[0].event, "score");
    EXPECT_EQ(responses[0].body, "t=42 seq=");
    EXPECT_TRUE(responses[0].complete);
    EXPECT_TRUE(responses[0].keep_alive);
    EXPECT_EQ(responses[1].status, 304);
    EXPECT_TRUE(responses[1].complete);
    EXPECT_EQ(responses[2].etag, "W/\"8\"");
    EXPECT_EQ(responses[2].event, "history-lost");
}

TEST(PushResponseParser, InterimResponsesAreSkippedAndGarbageIsAnError) {
    auto responses = parse_everywhere(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200);
    Recorder recorder;
    PushResponseParser parser;
    parser.reset();
    std::string garbage = "SSH-2.0-OpenSSH\r\n";
    EXPECT_EQ(parser.feed(garbage.data(), garbage.size(), recorder.callbacks, &recorder),
              PushResponseParser::Outcome::parse_error);
}

TEST(PushResponseParser, CloseDelimitedBodyEndsAtFinish) {
    Recorder recorder;
    PushResponseParser parser;
    parser.reset();
    std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\n\n";
    EXPECT_EQ(parser.feed(text.data(), text.size(), recorder.callbacks, &recorder),
              PushResponseParser::Outcome::ok);
    EXPECT_TRUE(parser.in_message());
    EXPECT_EQ(parser.finish(recorder.callbacks, &recorder), PushResponseParser::Outcome::ok);
    ASSERT_EQ(recorder.responses.size(), 1u);
    EXPECT_TRUE(recorder.responses[0].complete);
    EXPECT_EQ(recorder.responses[0].body, "data: a\n\n");
}

TEST(PushMessage, BodyCarriesItsSendTimeAndSize) {
    std::string body;
    append_publish_body(body, 1'712'345'678'901'234'567, 42, 200);
    EXPECT_EQ(body.size(), 200u);
    EXPECT_EQ(body.rfind("t=1712345678901234567 seq=42 x", 0), 0u);
    EXPECT_EQ(body.find_first_of("\r\n"), std::string::npos);
    EXPECT_EQ(parse_send_time(body), 1'712'345'678'901'234'567);
    std::string small;
    append_publish_body(small, 5, 1, 3);  // the prefix alone is longer: nothing is cut
    EXPECT_EQ(small, "t=5 seq=1 ");
}

TEST(PushMessage, SendTimeIsOnlyAtTheStart) {
    EXPECT_EQ(parse_send_time("t=123"), 123);
    EXPECT_FALSE(parse_send_time("x t=123").has_value());
    EXPECT_FALSE(parse_send_time("t=").has_value());
    EXPECT_FALSE(parse_send_time("t=x").has_value());
    EXPECT_FALSE(parse_send_time("t=99999999999999999999").has_value());  // 20 digits
    EXPECT_FALSE(parse_send_time("t=9999999999999999999").has_value());   // past int64
    EXPECT_FALSE(parse_send_time("").has_value());
}

TEST(PushMessage, IdsEtagsAndAcknowledgements) {
    EXPECT_EQ(parse_decimal_id(" 1700000000000001 "), 1'700'000'000'000'001u);
    EXPECT_EQ(parse_decimal_id("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(parse_decimal_id("18446744073709551616").has_value());
    EXPECT_FALSE(parse_decimal_id("-1").has_value());
    EXPECT_FALSE(parse_decimal_id("12a").has_value());
    EXPECT_FALSE(parse_decimal_id("").has_value());
    EXPECT_EQ(parse_etag_id("\"17\""), 17u);
    EXPECT_EQ(parse_etag_id("W/\"18\""), 18u);
    EXPECT_EQ(parse_etag_id("19"), 19u);
    EXPECT_FALSE(parse_etag_id("\"abc\"").has_value());
    EXPECT_EQ(parse_ack_id(R"({"id":"1700000000000005","subscribers":3})"), 1'700'000'000'000'005u);
    EXPECT_EQ(parse_ack_id(R"({ "subscribers": 3, "id" : 77 })"), 77u);
    EXPECT_FALSE(parse_ack_id(R"({"subscribers":3})").has_value());
    EXPECT_FALSE(parse_ack_id(R"({"id":"x"})").has_value());
}

TEST(PushMessage, ChannelIsTheLastPathSegment) {
    EXPECT_EQ(channel_of("http://127.0.0.1:8080/live/score"), "score");
    EXPECT_EQ(channel_of("http://127.0.0.1:8081/pub/score?x=1"), "score");
    EXPECT_EQ(channel_of("http://h/live/"), "");
    EXPECT_EQ(channel_of("http://h"), "");
}

TEST(PushStats, UnseenCountsIdsOutsideWhatEachSubscriberCovered) {
    PushStats stats;
    // Acknowledged ids 10..19. Two subscribers saw 10..19, one started at 12 (missed 10, 11),
    // one stopped at 17 (missed 18, 19), one saw nothing (missed all 10).
    std::vector<std::uint64_t> window;
    for (std::uint64_t id = 10; id < 20; ++id) window.push_back(id);
    stats.first_ids = {{10, 3}, {12, 1}};
    stats.last_ids = {{19, 3}, {17, 1}};
    stats.saw_nothing = 1;
    EXPECT_EQ(unseen_messages(stats, window), 2u + 2u + 10u);
    // A subscriber whose first id came before the window (warm-up) misses nothing below it.
    PushStats early;
    early.first_ids = {{3, 1}};
    early.last_ids = {{25, 1}};
    EXPECT_EQ(unseen_messages(early, window), 0u);
    // A jump after history-lost from 12 to 16 misses 13, 14 and 15; ids going down miss none.
    early.resync_gaps[{12, 16}] = 2;
    early.resync_gaps[{18, 11}] = 1;
    EXPECT_EQ(unseen_messages(early, window), 2u * 3u);
}

TEST(PushMessage, SequenceFollowsTheSendTime) {
    EXPECT_EQ(parse_sequence("t=1700000000000000000 seq=42 xxxx"), 42u);
    EXPECT_EQ(parse_sequence("t=1 seq=0"), 0u);
    EXPECT_EQ(parse_sequence("t=1 seq=7 "), 7u);
    EXPECT_FALSE(parse_sequence("seq=42 "));       // no t= first: not the publisher's body
    EXPECT_FALSE(parse_sequence("t=1 seq= x"));    // no digits
    EXPECT_FALSE(parse_sequence("t=1 seq=12x "));  // not a number field
    EXPECT_FALSE(parse_sequence("t=1 sequence=3 "));
    EXPECT_FALSE(parse_sequence("t=1"));
}

TEST(PushStats, SkippedCountsAcknowledgedIdsInsideJumpsOnly) {
    // Redis stream ids: 1000000, 1005000, 2000000 acknowledged. A subscriber that received all
    // three stepped over thousands and millions of ids and lost nothing.
    std::vector<std::uint64_t> acked = {1'000'000, 1'005'000, 2'000'000};
    PushStats all;
    all.jumps[{1'000'000, 1'005'000}] = 1;
    all.jumps[{1'005'000, 2'000'000}] = 1;
    EXPECT_EQ(skipped_messages(all, acked), 0u);
    // Two subscribers went from the first to the third: each missed the acknowledged second.
    PushStats missed;
    missed.jumps[{1'000'000, 2'000'000}] = 2;
    EXPECT_EQ(skipped_messages(missed, acked), 2u);
    // A refused publish has no id: a jump over it skips nothing acknowledged.
    PushStats refused;
    refused.jumps[{1'005'000, 2'000'000}] = 3;
    EXPECT_EQ(skipped_messages(refused, acked), 0u);
    // Consecutive ids: a jump from 10 to 13 over acknowledged 11 and 12 loses both, as
    // id - last - 1 says.
    PushStats consecutive;
    consecutive.jumps[{10, 13}] = 1;
    EXPECT_EQ(skipped_messages(consecutive, {10, 11, 12, 13}), 2u);
    EXPECT_EQ(skipped_messages(consecutive, {}), 0u);
}

TEST(PushStats, SerializeRoundTripsAndMerges) {
    PushStats stats;
    stats.latency.record(1500);
    stats.deliveries = 10;
    stats.gap_lost = 2;
    stats.duplicates = 1;
    stats.reconnects = 3;
    stats.connect_failures[111] = 4;
    stats.bad_status[404] = 5;
    stats.first_ids[7] = 2;
    stats.last_ids[9] = 2;
    stats.saw_nothing = 1;
    stats.spans[7] = ReceiptSpan{1000, 5000, 2};
    stats.resync_gaps[{9, 1000}] = 2;
    stats.jumps[{1'000'000, 1'005'000}] = 3;
    stats.spans[7].sent_ns = 900;
    stats.targets.resize(2);
    stats.targets[1].deliveries = 4;
    stats.targets[1].jumps[{5, 8}] = 1;
    stats.targets[1].latency.record(700);
    auto bytes = stats.serialize();
    PushStats back;
    ASSERT_TRUE(back.deserialize(bytes));
    EXPECT_EQ(back.deliveries, 10u);
    EXPECT_EQ(back.connect_failures, stats.connect_failures);
    EXPECT_EQ(back.bad_status, stats.bad_status);
    EXPECT_EQ(back.first_ids, stats.first_ids);
    EXPECT_EQ(back.resync_gaps, stats.resync_gaps);
    EXPECT_EQ(back.jumps, stats.jumps);
    EXPECT_EQ(back.latency.count(), 1u);
    ASSERT_EQ(back.spans.count(7), 1u);
    EXPECT_EQ(back.spans[7].last_ns, 5000);
    EXPECT_EQ(back.spans[7].sent_ns, 900);
    ASSERT_EQ(back.targets.size(), 2u);
    EXPECT_EQ(back.targets[0].deliveries, 0u);
    EXPECT_EQ(back.targets[1].deliveries, 4u);
    EXPECT_EQ(back.targets[1].jumps, stats.targets[1].jumps);
    EXPECT_EQ(back.targets[1].latency.count(), 1u);

    PushStats other;
    other.deliveries = 5;
    other.jumps[{1'000'000, 1'005'000}] = 1;
    other.targets.resize(2);
    other.targets[1].deliveries = 1;
    other.spans[7] = ReceiptSpan{500, 4000, 1};
    other.spans[8] = ReceiptSpan{2000, 2000, 1};
    back.merge(other);
    EXPECT_EQ(back.deliveries, 15u);
    EXPECT_EQ(back.spans[7].first_ns, 500);
    EXPECT_EQ(back.spans[7].last_ns, 5000);
    EXPECT_EQ(back.spans[7].receipts, 3u);
    EXPECT_EQ((back.jumps[{1'000'000, 1'005'000}]), 4u);
    EXPECT_EQ(back.targets[1].deliveries, 5u);
    core::Histogram spans = span_histogram(back);
    EXPECT_EQ(spans.count(), 2u);
    EXPECT_EQ(spans.max(), 4);  // (5000 - 500) ns = 4 us

    bytes.pop_back();
    EXPECT_FALSE(back.deserialize(bytes));
    // A URL's entry has no URLs of its own: nested entries are refused, not recursed into.
    PushStats nested;
    nested.targets.resize(1);
    nested.targets[0].targets.resize(1);
    EXPECT_FALSE(back.deserialize(nested.serialize()));
}

}  // namespace
}  // namespace c10k::bench

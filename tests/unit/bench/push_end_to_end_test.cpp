// The real push bench against the small push server in push_test_server.hpp, on 127.0.0.1: the
// publisher POSTs, the server fans out (misbehaving as each test scripts it), and the counts the
// bench reports must be exactly what the server did: every gap, duplicate, withheld message and
// cut stream, and the Last-Event-ID each resubscribe sent.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "bench/push_message.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "unit/bench/push_test_server.hpp"

namespace c10k::bench {
namespace {

using testing::PushTestServer;

BenchOptions push_options(PushTestServer& server, PushTransport transport,
                          std::uint32_t subscribers, double rate, std::int64_t duration_ms) {
    BenchOptions options;
    options.urls = {server.url("/live/score")};
    options.push.transport = transport;
    options.push.subscribers = subscribers;
    options.push.publish_url = server.url("/pub/score");
    options.push.publish_rate = rate;
    options.duration_ns = duration_ms * 1'000'000;
    options.timeout_ns = 1'000'000'000;
    options.connect_timeout_ns = 2'000'000'000;
    return options;
}

struct Layout {
    std::uint32_t processes;
    std::uint32_t threads;
};

class SseEndToEnd : public ::testing::TestWithParam<Layout> {};

TEST_P(SseEndToEnd, CountsExactlyTheGapDuplicateWithheldMessageAndReconnect) {
    // 20 publishes (20/s for 1 s), ids base+k. The server acknowledges publish 3 without
    // sending it (a gap of one: subscribers step from base+2 to base+4), sends publish 5 twice
    // (a duplicate), cuts every stream after publish 8 (one reconnect each, which must name
    // publish 8's id), and acknowledges publish 19 without ever sending it (never seen). (A
    // hole in the ids that no publish was acknowledged with is no loss: see NonConsecutiveIds.)
    PushTestServer::Script script;
    script.duplicate = [](std::uint64_t k) { return k == 5; };
    script.cut_after = [](std::uint64_t k) { return k == 8; };
    script.deliver = [](std::uint64_t k) { return k != 3 && k != 19; };
    PushTestServer server(script);
    constexpr std::uint32_t subscribers = 3;
    BenchOptions options = push_options(server, PushTransport::sse, subscribers, 20, 1000);
    options.processes = GetParam().processes;
    options.threads = GetParam().threads;
    options.push.publish_token = "secret";
    BenchReport report = run_bench(options);
    std::printf("%s", format_summary(report).c_str());

    ASSERT_TRUE(report.push.has_value());
    const PushReport& push = *report.push;
    const PushStats& s = push.subscribers;
    EXPECT_EQ(report.layout.processes, GetParam().processes);
    EXPECT_EQ(s.subscribers, subscribers);
    EXPECT_EQ(s.connected, subscribers);
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(push.publisher.sent, 20u);
    EXPECT_EQ(push.publisher.published, 20u);
    EXPECT_EQ(push.publisher.errors(), 0u);
    EXPECT_EQ(push.window_ids, 20u);
    EXPECT_EQ(push.expected_subscribers, subscribers);
    // Publishes 0..18 but 3 reach every subscriber once as new ids; 3 and 19 never do.
    EXPECT_EQ(s.deliveries, 18u * subscribers);
    EXPECT_EQ(s.latency.count(), s.deliveries);  // every message carried t=
    // The skipped id is an acknowledged one: counted from the publisher's ids (gap_lost is for
    // subscribers off the publisher's channel).
    EXPECT_EQ(push.skipped, 1u * subscribers);
    EXPECT_EQ(push.gaps(), 1u * subscribers);
    EXPECT_EQ(s.gap_lost, 0u);
    EXPECT_EQ(push.unseen, 1u * subscribers);
    EXPECT_EQ(push.lost(), 2u * subscribers);
    EXPECT_EQ(s.duplicates, 1u * subscribers);
    EXPECT_EQ(s.reconnects, 1u * subscribers);
    EXPECT_EQ(s.disconnects, 1u * subscribers);
    EXPECT_EQ(s.history_lost, 0u);
    EXPECT_EQ(s.protocol_errors, 0u);
    EXPECT_GE(s.heartbeats, 2u * subscribers);  // one per stream
    EXPECT_EQ(push.spans.count(), 18u);
    EXPECT_EQ(s.open, subscribers);

    // First subscribes carry no id; each resubscribe names the last id before the cut.
    auto ids = server.last_event_ids();
    ASSERT_EQ(ids.size(), 2u * subscribers);
    std::string cut_id = std::to_string(PushTestServer::base_id + 8);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), std::string()), subscribers);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), cut_id), subscribers);
    for (const auto& publish : server.publishes()) {
        EXPECT_NE(publish.head.find("Authorization: Bearer secret\r\n"), std::string::npos);
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, SseEndToEnd, ::testing::Values(Layout{1, 1}, Layout{2, 2}),
                         [](const auto& info) {
                             return "p" + std::to_string(info.param.processes) + "t" +
                                    std::to_string(info.param.threads);
                         });

// Ids as Redis stream ids are (milliseconds * 1,000,000 + sequence): increasing, never
// consecutive. 20 publishes at 20/s: publish k gets 1000000, 1005000, 2000000, 2005000, ...;
// publishes 4 and 10 are refused with 503 (as c10k serve --redis answers while Redis is away) and
// publish 7 is acknowledged but never sent. Subscribers on the publisher's channel lost exactly
// that one message each: the ids' steps of thousands and millions are no loss, and the refusals
// are publish errors, not losses. Subscribers of a second URL, on another channel, have no
// acknowledged ids to compare with: they count from the publisher's seq=, which cannot tell a
// refused publish from a lost message.
std::uint64_t stream_id(std::uint64_t k) {
    return 1'000'000 * (k / 2 + 1) + (k % 2) * 5000;
}

class NonConsecutiveIds : public ::testing::TestWithParam<Layout> {};

TEST_P(NonConsecutiveIds, LossIsCountedFromAcknowledgedIdsAndRefusalsAreErrors) {
    PushTestServer::Script script;
    script.id_of = stream_id;
    script.refuse = [](std::uint64_t k) { return k == 4 || k == 10; };
    script.deliver = [](std::uint64_t k) { return k != 7; };
    PushTestServer server(script);
    BenchOptions options = push_options(server, PushTransport::sse, 5, 20, 1000);
    options.urls.push_back(server.url("/live/other"));  // subscribers alternate: 3 and 2
    options.processes = GetParam().processes;
    options.threads = GetParam().threads;
    BenchReport report = run_bench(options);
    std::printf("%s", format_summary(report).c_str());

    ASSERT_TRUE(report.push.has_value());
    const PushReport& push = *report.push;
    const PushStats& s = push.subscribers;
    // The publisher went on after each 503 and counted it as an error.
    EXPECT_EQ(server.publishes().size(), 20u);
    EXPECT_EQ(push.publisher.sent, 20u);
    EXPECT_EQ(push.publisher.published, 18u);
    EXPECT_EQ(push.publisher.errors(), 2u);
    EXPECT_EQ(push.publisher.error_status.at(503), 2u);
    EXPECT_EQ(push.window_ids, 18u);
    EXPECT_EQ(push.expected_subscribers, 3u);
    EXPECT_EQ(s.connected, 5u);
    EXPECT_EQ(s.deliveries, 17u * 5);  // the 18 acknowledged but publish 7, to everyone
    EXPECT_EQ(s.duplicates, 0u);
    EXPECT_EQ(push.skipped, 1u * 3);  // publish 7, on the publisher's channel
    EXPECT_EQ(s.gap_lost, 3u * 2);    // 4, 7 and 10 by seq=, on the other one
    EXPECT_EQ(push.unseen, 0u);
    EXPECT_EQ(push.lost(), 3u + 6u);

    ASSERT_EQ(push.targets.size(), 2u);
    const PushTargetReport& score = push.targets[0];
    const PushTargetReport& other = push.targets[1];
    EXPECT_EQ(score.url, options.urls[0]);
    EXPECT_EQ(score.subscribers, 3u);
    EXPECT_EQ(score.expected, 3u);
    EXPECT_EQ(score.deliveries, 17u * 3);
    EXPECT_EQ(score.latency.count(), 17u * 3);
    EXPECT_EQ(score.gaps, 3u);
    EXPECT_EQ(score.lost(), 3u);
    EXPECT_EQ(score.spans.count(), 17u);
    EXPECT_EQ(other.subscribers, 2u);
    EXPECT_EQ(other.expected, 0u);
    EXPECT_EQ(other.deliveries, 17u * 2);
    EXPECT_EQ(other.lost(), 6u);

    // Each delivered message once, with its send time, receipts by all five, acknowledged.
    ASSERT_EQ(push.messages.size(), 17u);
    for (std::size_t i = 0; i < push.messages.size(); ++i) {
        const MessageReceipts& m = push.messages[i];
        std::uint64_t k =
            i + (i >= 4 ? 1 : 0) + (i >= 6 ? 1 : 0) + (i >= 8 ? 1 : 0);  // not 4, 7, 10
        EXPECT_EQ(m.id, stream_id(k)) << i;
        EXPECT_EQ(m.receipts, 5u) << i;
        EXPECT_TRUE(m.acknowledged) << i;
        EXPECT_GT(m.sent_ns, 0);
        EXPECT_LE(m.sent_ns, m.first_ns);
        EXPECT_LE(m.first_ns, m.last_ns);
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, NonConsecutiveIds, ::testing::Values(Layout{1, 1}, Layout{2, 2}),
                         [](const auto& info) {
                             return "p" + std::to_string(info.param.processes) + "t" +
                                    std::to_string(info.param.threads);
                         });

// The channel is recreated after publish 5: its ids jump by a million, and a subscriber that
// resumes from an old id is told history-lost. That is no million lost messages: the sequence
// starts again, and what counts as lost is the acknowledged publish 6 that nobody received.
constexpr std::uint64_t recreated = PushTestServer::base_id + 1'000'000;

PushTestServer::Script recreated_channel(std::uint64_t last_old) {
    PushTestServer::Script script;
    script.id_of = [last_old](std::uint64_t k) {
        return k <= last_old ? PushTestServer::base_id + k : recreated + k;
    };
    script.deliver = [last_old](std::uint64_t k) { return k != last_old + 1; };
    script.cut_after = [last_old](std::uint64_t k) { return k == last_old; };
    script.history_from = recreated;
    return script;
}

TEST(SseEndToEnd, HistoryLostStartsANewSequence) {
    PushTestServer server(recreated_channel(5));
    constexpr std::uint32_t subscribers = 2;
    BenchOptions options = push_options(server, PushTransport::sse, subscribers, 20, 600);
    BenchReport report = run_bench(options);
    std::printf("%s", format_summary(report).c_str());
    const PushReport& push = *report.push;
    const PushStats& s = push.subscribers;
    EXPECT_EQ(push.publisher.published, 12u);
    EXPECT_EQ(s.history_lost, 1u * subscribers);
    EXPECT_EQ(s.reconnects, 1u * subscribers);
    EXPECT_EQ(s.deliveries, 11u * subscribers);  // all but publish 6
    EXPECT_EQ(s.gap_lost, 0u);
    EXPECT_EQ(push.unseen, 1u * subscribers);
    EXPECT_EQ(s.duplicates, 0u);
}

TEST(LongPollEndToEnd, HistoryLostResumesWhereTheServerSays) {
    PushTestServer server(recreated_channel(2), std::chrono::milliseconds(100));
    constexpr std::uint32_t subscribers = 2;
    BenchOptions options = push_options(server, PushTransport::long_poll, subscribers, 10, 600);
    // Long-poll subscribers see publish 2 only by asking again; the cut does not apply to them,
    // so the jump is met by the poll that names publish 2's id.
    BenchReport report = run_bench(options);
    std::printf("%s", format_summary(report).c_str());
    const PushReport& push = *report.push;
    const PushStats& s = push.subscribers;
    EXPECT_EQ(push.publisher.published, 6u);
    EXPECT_EQ(s.history_lost, 1u * subscribers);
    EXPECT_EQ(s.deliveries, 5u * subscribers);  // all but publish 3
    EXPECT_EQ(s.gap_lost, 0u);
    EXPECT_EQ(push.unseen, 1u * subscribers);
    // After history-lost each subscriber asked from where the server said: just before the
    // first message of the new channel it holds (publish 4).
    auto ids = server.last_event_ids();
    EXPECT_EQ(std::count(ids.begin(), ids.end(), std::to_string(recreated + 3)), subscribers);
}

TEST(LongPollEndToEnd, EveryMessageOnceAndTimeoutsAskAgain) {
    // 5 messages/s with a 100 ms server wait: most polls between messages end in 304 and ask
    // again with the same id, on the same keep-alive connection.
    PushTestServer server(PushTestServer::Script(), std::chrono::milliseconds(100));
    constexpr std::uint32_t subscribers = 4;
    BenchOptions options = push_options(server, PushTransport::long_poll, subscribers, 5, 1000);
    BenchReport report = run_bench(options);
    std::printf("%s", format_summary(report).c_str());

    ASSERT_TRUE(report.push.has_value());
    const PushReport& push = *report.push;
    const PushStats& s = push.subscribers;
    EXPECT_EQ(push.publisher.published, 5u);
    EXPECT_EQ(s.connected, subscribers);
    EXPECT_EQ(s.deliveries, 5u * subscribers);
    EXPECT_EQ(s.latency.count(), s.deliveries);
    EXPECT_EQ(push.lost(), 0u);
    EXPECT_EQ(s.duplicates, 0u);
    EXPECT_EQ(s.reconnects, 0u);
    EXPECT_EQ(s.protocol_errors, 0u);
    EXPECT_GT(s.poll_timeouts, 0u);
    // The bench counts every 304 it read; a 304 sent as the bench closed may not be read.
    EXPECT_LE(s.poll_timeouts, server.not_modified_sent());
    EXPECT_GE(s.poll_timeouts + subscribers, server.not_modified_sent());
    // Subscribers plus the publisher: every poll went out on the connection it started on.
    EXPECT_EQ(server.connections(), static_cast<int>(subscribers) + 1);

    // After its first answer each subscriber names the id it last saw: per subscriber the
    // named ids never go down and step by at most one message.
    auto ids = server.last_event_ids();
    std::uint64_t named = 0;
    for (const auto& id : ids) {
        if (id.empty()) continue;
        std::uint64_t value = std::stoull(id);
        EXPECT_GE(value, PushTestServer::base_id);
        EXPECT_LT(value, PushTestServer::base_id + 5);
        named++;
    }
    EXPECT_GE(named, 4u * subscribers);  // polls after messages 1..4 at least
}

TEST(PublisherPacing, EvenlySpacedStampedAndSized) {
    PushTestServer server;
    BenchOptions options = push_options(server, PushTransport::sse, 1, 200, 1000);
    options.push.message_size = 300;
    BenchReport report = run_bench(options);
    auto publishes = server.publishes();
    ASSERT_EQ(publishes.size(), 200u);
    EXPECT_EQ(report.push->publisher.published, 200u);
    // Each body says when it was due: exactly 5 ms apart, in order, padded to the size asked.
    std::vector<std::int64_t> stamps;
    for (std::size_t k = 0; k < publishes.size(); ++k) {
        const std::string& body = publishes[k].body;
        EXPECT_EQ(body.size(), 300u);
        EXPECT_NE(body.find(" seq=" + std::to_string(k) + " "), std::string::npos) << body;
        auto t = parse_send_time(body);
        ASSERT_TRUE(t.has_value()) << body;
        stamps.push_back(*t);
    }
    for (std::size_t k = 1; k < stamps.size(); ++k) {
        EXPECT_NEAR(static_cast<double>(stamps[k] - stamps[0]), k * 5e6, 1.0) << k;
    }
    // Arrivals at the server: counted in 100 ms bins from the first, each bin holds its 20
    // messages give or take 10 (scheduling noise on a shared machine), never a burst.
    std::int64_t first = publishes.front().received_ns;
    std::vector<int> bins(10, 0);
    for (const auto& publish : publishes) {
        auto bin = static_cast<std::size_t>((publish.received_ns - first) / 100'000'000);
        if (bin < bins.size()) bins[bin]++;
    }
    for (std::size_t b = 0; b + 1 < bins.size(); ++b) {
        EXPECT_GE(bins[b], 10) << "bin " << b;
        EXPECT_LE(bins[b], 30) << "bin " << b;
    }
}

TEST(PushEndToEnd, NoPublisherStillSubscribesAndReports) {
    PushTestServer server;
    BenchOptions options = push_options(server, PushTransport::sse, 5, 0, 300);
    options.push.publish_url.clear();
    BenchReport report = run_bench(options);
    ASSERT_TRUE(report.push.has_value());
    EXPECT_FALSE(report.push->has_publisher);
    EXPECT_EQ(report.push->subscribers.connected, 5u);
    EXPECT_EQ(report.push->subscribers.open, 5u);
    EXPECT_EQ(report.push->subscribers.deliveries, 0u);
    EXPECT_EQ(server.subscribes(), 5u);
}

TEST(PushEndToEnd, RefusedSubscriptionsAreCountedAsFailed) {
    // A server that answers the subscribe with 404: nobody is subscribed, the statuses say why.
    testing::TestServer server(testing::answer_with(testing::ok_response("no", 404)));
    BenchOptions options;
    options.urls = {server.url("/live/x")};
    options.push.transport = PushTransport::sse;
    options.push.subscribers = 3;
    options.duration_ns = 300'000'000;
    BenchReport report = run_bench(options);
    const PushStats& s = report.push->subscribers;
    EXPECT_EQ(s.connected, 0u);
    EXPECT_EQ(s.failed, 3u);
    EXPECT_GE(s.bad_status.at(404), 3u);
}

TEST(PushEndToEnd, UnansweredSubscribesTimeOutAndSubscribeAgain) {
    // A server that accepts and never answers: every subscribe runs into --connect-timeout,
    // and each subscriber comes back after its backoff, only to time out again. Both are the
    // housekeeping sweep's to notice, as no socket event ever arrives.
    testing::TestServer server([](int& fd, testing::TestServer& s) {
        std::string buffer;
        while (s.read_request(fd, buffer)) {
        }
    });
    BenchOptions options;
    options.urls = {server.url("/live/x")};
    options.push.transport = PushTransport::sse;
    options.push.subscribers = 3;
    options.duration_ns = 1'000'000'000;
    options.connect_timeout_ns = 200'000'000;
    BenchReport report = run_bench(options);
    const PushStats& s = report.push->subscribers;
    EXPECT_EQ(s.connected, 0u);
    EXPECT_EQ(s.failed, 3u);
    EXPECT_EQ(s.open, 0u);
    // More timeouts, and more connections, than subscribers: they tried again after timing out.
    EXPECT_GT(s.connect_failures.count(ETIMEDOUT) ? s.connect_failures.at(ETIMEDOUT) : 0u, 3u);
    EXPECT_GT(server.connections(), 3);
}

TEST(LongPollEndToEnd, RefusedPollsAskAgainAfterABackoff) {
    // A keep-alive server that answers every poll with 404: each subscriber waits its backoff
    // and asks again on the same connection. The sweep sends those later polls: no socket
    // event is due when the backoff ends.
    testing::TestServer server(testing::answer_with(testing::ok_response("no", 404)));
    BenchOptions options;
    options.urls = {server.url("/live/x")};
    options.push.transport = PushTransport::long_poll;
    options.push.subscribers = 3;
    options.duration_ns = 1'000'000'000;
    BenchReport report = run_bench(options);
    const PushStats& s = report.push->subscribers;
    EXPECT_GT(s.bad_status.count(404) ? s.bad_status.at(404) : 0u, 3u);
    EXPECT_EQ(server.connections(), 3);  // asked again on the same connections
    EXPECT_EQ(s.reconnects, 0u);
}

TEST(PushOptionsCheck, BadCombinationsAreRefusedWithASentence) {
    BenchOptions options;
    options.urls = {"http://127.0.0.1:1/live/x"};
    options.push.transport = PushTransport::sse;
    options.push.subscribers = 1;
    options.push.publish_url = "http://127.0.0.1:1/pub/x";
    EXPECT_THROW(run_bench(options), std::invalid_argument);  // no --publish-rate
    options.push.publish_rate = 10;
    options.push.publish_url = "https://127.0.0.1:1/pub/x";
    EXPECT_THROW(run_bench(options), std::invalid_argument);
    options.push.publish_url.clear();
    EXPECT_THROW(run_bench(options), std::invalid_argument);  // a rate without --publish
    options.push.publish_rate = 0;
    options.push.subscribers = 0;
    EXPECT_THROW(run_bench(options), std::invalid_argument);
}

}  // namespace
}  // namespace c10k::bench

// `c10k bench --sse / --long-poll` against the real `c10k serve --push`: the bench's counts must
// agree with what a correct push server does (every acknowledged message delivered once to every
// subscriber), a channel deleted mid-run must show as history-lost and one resubscribe per
// subscriber, not as millions of lost ids, and two servers sharing channels through Redis (ids
// that are not consecutive, publishes refused while Redis is away) must show no loss.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "bench/push_report.hpp"
#include "bench/runner.hpp"
#include "support/json_value.hpp"
#include "support/push_client.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

struct PushServer {
    explicit PushServer(std::vector<std::string> extra = {}) {
        site.write("index.html", "home\n");
        std::vector<std::string> args = {"serve",       "--root",      site.path(),
                                         "--listen",    "127.0.0.1:0", "--publish-listen",
                                         "127.0.0.1:0", "--push",      "/live/"};
        args.insert(args.end(), extra.begin(), extra.end());
        server = std::make_unique<ServerProcess>(args);
        port = server->port();
        pub = publish_port(*server);
    }
    std::string live(const std::string& channel) const {
        return "http://127.0.0.1:" + std::to_string(port) + "/live/" + channel;
    }
    std::string publish(const std::string& channel) const {
        return "http://127.0.0.1:" + std::to_string(pub) + "/pub/" + channel;
    }
    TempDir site;
    std::unique_ptr<ServerProcess> server;
    int port = 0;
    int pub = 0;
};

TEST(BenchPush, SseCountsEveryDeliveryFromTheCommandLine) {
    PushServer s;
    TempDir out;
    std::string json_path = out.path() + "/push.json";
    CommandResult result =
        run_command({"bench", "--sse", "50", s.live("score"), "--publish", s.publish("score"),
                     "--publish-rate", "20", "-d", "1s", "--warmup", "200ms", "--timeout", "3s",
                     "--server-pid", std::to_string(s.server->pid()), "--json", json_path, "-q"},
                    60000);
    ASSERT_EQ(result.status, 0) << result.output;
    std::ifstream file(json_path);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto root = parse_json(text);
    ASSERT_TRUE(root.has_value()) << text;
    const JsonValue& push = (*root)["push"];
    EXPECT_EQ(push["transport"].string, "sse");
    EXPECT_EQ(push["subscribers"]["connected"].integer(), 50);
    EXPECT_EQ(push["subscribers"]["open"].integer(), 50);
    EXPECT_EQ(push["publish"]["acknowledged"].integer(), 20);
    EXPECT_EQ(push["publish"]["errors"].integer(), 0);
    // Every message published in the interval reached every subscriber, once.
    EXPECT_EQ(push["deliveries"].integer(), 20 * 50);
    EXPECT_EQ(push["latency_us"]["count"].integer(), 20 * 50);
    EXPECT_EQ(push["lost"]["total"].integer(), 0);
    EXPECT_EQ(push["duplicated"].integer(), 0);
    EXPECT_EQ(push["history_lost"].integer(), 0);
    EXPECT_EQ(push["fanout_span_us"]["count"].integer(), 20);
    EXPECT_TRUE(push["server_cpu_us_per_delivery"].is_number());
    EXPECT_TRUE(push["server_rss_bytes_per_subscriber"].is_number());
    EXPECT_EQ((*root)["config"]["mode"].string, "push");
}

TEST(BenchPush, LongPollCountsEveryDelivery) {
    PushServer s;
    bench::BenchOptions options;
    options.urls = {s.live("lp")};
    options.push.transport = bench::PushTransport::long_poll;
    options.push.subscribers = 20;
    options.push.publish_url = s.publish("lp");
    options.push.publish_rate = 10;
    options.duration_ns = 1'000'000'000;
    options.timeout_ns = 3'000'000'000;
    bench::BenchReport report = bench::run_bench(options);
    const bench::PushReport& push = *report.push;
    EXPECT_EQ(push.subscribers.connected, 20u);
    EXPECT_EQ(push.publisher.published, 10u);
    EXPECT_EQ(push.subscribers.deliveries, 10u * 20u);
    EXPECT_EQ(push.lost(), 0u);
    EXPECT_EQ(push.subscribers.duplicates, 0u);
    EXPECT_EQ(push.subscribers.reconnects, 0u);
}

TEST(BenchPush, DeletedChannelIsHistoryLostAndOneResubscribeEach) {
    PushServer s;
    constexpr std::uint32_t subscribers = 10;
    bench::BenchOptions options;
    options.urls = {s.live("gone")};
    options.push.transport = bench::PushTransport::sse;
    options.push.subscribers = subscribers;
    options.push.publish_url = s.publish("gone");
    options.push.publish_rate = 20;
    options.duration_ns = 2'000'000'000;
    options.timeout_ns = 3'000'000'000;
    bench::BenchReport report;
    std::thread run([&] { report = bench::run_bench(options); });
    // Delete the channel once every subscriber holds it and a message has gone out: the
    // server closes the streams; each resubscribes with an id of the old channel.
    bool deleted = false;
    for (int i = 0; i < 200 && !deleted; ++i) {
        HttpResponse info = request(s.pub, "GET", "/pub/gone");
        if (info.body.find("\"subscribers\":" + std::to_string(subscribers)) != std::string::npos &&
            info.body.find("\"messages\":0") == std::string::npos &&
            info.body.find("\"messages\"") != std::string::npos) {
            deleted = request(s.pub, "DELETE", "/pub/gone").status == 200;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    run.join();
    ASSERT_TRUE(deleted);
    const bench::PushStats& sub = report.push->subscribers;
    EXPECT_EQ(sub.history_lost, subscribers);
    EXPECT_EQ(sub.reconnects, subscribers);
    EXPECT_EQ(report.push->gaps(), 0u);  // the recreated channel's jump is not counted as gaps
    EXPECT_EQ(sub.duplicates, 0u);
    EXPECT_EQ(sub.open, subscribers);
    // The new channel's messages are all delivered (its history holds those published before
    // a subscriber came back); at most one publish can race the delete itself.
    EXPECT_LE(report.push->lost(), subscribers);
    EXPECT_GE(sub.deliveries, (report.push->publisher.published - 1) * subscribers);
}

// Two servers sharing a channel through Redis (--redis): message ids are Redis stream ids
// (milliseconds * 1,000,000 + sequence), increasing but never consecutive. One bench subscribes
// on both servers and publishes on A; per server, every acknowledged message reaches every
// subscriber once, and the steps between ids are no loss.
struct RedisPair {
    RedisPair()
        : redis({"--appendonly", "yes", "--appendfsync", "everysec"}),
          a({"--redis", "redis://127.0.0.1:" + std::to_string(redis.port())}),
          b({"--redis", "redis://127.0.0.1:" + std::to_string(redis.port())}) {}
    bench::BenchOptions options(std::uint32_t subscribers, std::int64_t duration_ms) const {
        bench::BenchOptions options;
        options.urls = {a.live("shared"), b.live("shared")};
        options.push.transport = bench::PushTransport::sse;
        options.push.subscribers = subscribers;
        options.push.publish_url = a.publish("shared");
        options.push.publish_rate = 20;
        options.duration_ns = duration_ms * 1'000'000;
        // A subscriber that reaches B before B has loaded the channel from Redis is answered at
        // once but starts from the channel's last id once loaded: what A publishes meanwhile is
        // not its to miss. The warm-up keeps those first messages out of the counts.
        options.warmup_ns = 1'000'000'000;
        // Wide enough for a server's capped reconnect delay (5 s) after a Redis restart.
        options.timeout_ns = 15'000'000'000;
        return options;
    }
    RedisServer redis;
    PushServer a;
    PushServer b;
};

void expect_every_acknowledged_message_on_both(const bench::PushReport& push,
                                               std::uint32_t per_server) {
    ASSERT_EQ(push.targets.size(), 2u);
    for (const auto& target : push.targets) {
        EXPECT_EQ(target.subscribers, per_server) << target.url;
        EXPECT_EQ(target.expected, per_server) << target.url;
        EXPECT_EQ(target.lost(), 0u) << target.url;
        EXPECT_EQ(target.duplicates, 0u) << target.url;
        EXPECT_EQ(target.history_lost, 0u) << target.url;
        EXPECT_GE(target.deliveries, push.publisher.published * per_server) << target.url;
    }
    EXPECT_EQ(push.lost(), 0u);
    EXPECT_EQ(push.subscribers.gap_lost, 0u);
    EXPECT_EQ(push.skipped, 0u);
    EXPECT_EQ(push.unseen, 0u);
}

TEST(BenchPushRedis, StreamIdsAreNoLossOnEitherServer) {
    RedisPair pair;
    constexpr std::uint32_t per_server = 10;
    bench::BenchReport report = bench::run_bench(pair.options(2 * per_server, 2000));
    std::printf("%s", bench::format_push_summary(report).c_str());
    const bench::PushReport& push = *report.push;
    EXPECT_EQ(push.subscribers.connected, 2 * per_server);
    EXPECT_EQ(push.publisher.published, 40u);
    EXPECT_EQ(push.publisher.errors(), 0u);
    expect_every_acknowledged_message_on_both(push, per_server);
    for (const auto& target : push.targets) {
        EXPECT_EQ(target.deliveries, 40u * per_server) << target.url;
    }
    // The ids really were stream ids, steps of more than one.
    ASSERT_EQ(push.messages.size(), 40u);
    EXPECT_GT(push.messages.front().id, 1'000'000'000'000'000'000u);
    for (std::size_t i = 1; i < push.messages.size(); ++i) {
        EXPECT_GT(push.messages[i].id, push.messages[i - 1].id + 1);
        EXPECT_EQ(push.messages[i].receipts, 2 * per_server);
        EXPECT_TRUE(push.messages[i].acknowledged);
    }
}

TEST(BenchPushRedis, RedisKilledMidRunRefusesPublishesAndLosesNoAcceptedOne) {
    RedisPair pair;
    constexpr std::uint32_t per_server = 10;
    bench::BenchReport report;
    std::thread run([&] { report = bench::run_bench(pair.options(2 * per_server, 8000)); });
    // Kill Redis once messages flow, and bring it back with its append-only file: the publisher
    // goes on through the 503s, and what was accepted before and after reaches everyone.
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    pair.redis.stop(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    pair.redis.restart();
    run.join();
    std::printf("%s", bench::format_push_summary(report).c_str());
    const bench::PushReport& push = *report.push;
    const bench::PublisherStats& publisher = push.publisher;
    EXPECT_GT(publisher.error_status.count(503), 0u);
    EXPECT_EQ(publisher.published + publisher.errors(), publisher.sent);
    EXPECT_GT(publisher.published, 0u);
    expect_every_acknowledged_message_on_both(push, per_server);
    EXPECT_EQ(push.subscribers.open, 2 * per_server);
}

}  // namespace
}  // namespace c10k::test

// `c10k bench --sse / --long-poll` against the real `c10k serve --push`: the bench's counts must
// agree with what a correct push server does (every acknowledged message delivered once to every
// subscriber), and a channel deleted mid-run must show as history-lost and one resubscribe per
// subscriber, not as millions of lost ids.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "bench/runner.hpp"
#include "support/json_value.hpp"
#include "support/push_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

struct PushServer {
    PushServer() {
        site.write("index.html", "home\n");
        server = std::make_unique<ServerProcess>(
            std::vector<std::string>{"serve", "--root", site.path(), "--listen", "127.0.0.1:0",
                                     "--publish-listen", "127.0.0.1:0", "--push", "/live/"});
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
    EXPECT_EQ(sub.gap_lost, 0u);  // the recreated channel's jump is not counted as gaps
    EXPECT_EQ(sub.duplicates, 0u);
    EXPECT_EQ(sub.open, subscribers);
    // The new channel's messages are all delivered (its history holds those published before
    // a subscriber came back); at most one publish can race the delete itself.
    EXPECT_LE(report.push->lost(), subscribers);
    EXPECT_GE(sub.deliveries, (report.push->publisher.published - 1) * subscribers);
}

}  // namespace
}  // namespace c10k::test

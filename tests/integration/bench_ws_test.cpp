// `c10k bench --ws` against the real `c10k serve --push` and `--ws-echo`: WebSocket subscribers
// must count what a correct push server does (every acknowledged message delivered once to
// every subscriber, compressed or not), a subscriber the server cuts off must come back and
// resume without loss, and the echo mode must time messages without errors.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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

struct WsServer {
    explicit WsServer(std::vector<std::string> extra = {}) {
        site.write("index.html", "home\n");
        std::vector<std::string> args{"serve",       "--root",           site.path(),   "--listen",
                                      "127.0.0.1:0", "--publish-listen", "127.0.0.1:0", "--push",
                                      "/live/",      "--ws-echo",        "/echo"};
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
    std::string echo() const { return "http://127.0.0.1:" + std::to_string(port) + "/echo"; }
    TempDir site;
    std::unique_ptr<ServerProcess> server;
    int port = 0;
    int pub = 0;
};

std::optional<JsonValue> read_json(const std::string& path) {
    std::ifstream file(path);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return parse_json(text);
}

/// Runs `c10k bench --ws 200` with `flags` against a fresh channel and checks that every
/// acknowledged publish reached every subscriber once.
void expect_every_delivery(const std::vector<std::string>& flags, bool deflate) {
    WsServer s;
    TempDir out;
    std::string json_path = out.path() + "/ws.json";
    std::vector<std::string> args{"bench",
                                  "--ws",
                                  "200",
                                  s.live("score"),
                                  "--publish",
                                  s.publish("score"),
                                  "--publish-rate",
                                  "10",
                                  "-d",
                                  "1s",
                                  "--warmup",
                                  "200ms",
                                  "--timeout",
                                  "3s",
                                  "--server-pid",
                                  std::to_string(s.server->pid()),
                                  "--json",
                                  json_path,
                                  "-q"};
    args.insert(args.end(), flags.begin(), flags.end());
    CommandResult result = run_command(args, 60000);
    ASSERT_EQ(result.status, 0) << result.output;
    auto root = read_json(json_path);
    ASSERT_TRUE(root.has_value());
    const JsonValue& push = (*root)["push"];
    EXPECT_EQ(push["transport"].string, "websocket");
    EXPECT_EQ(push["subscribers"]["connected"].integer(), 200);
    EXPECT_EQ(push["subscribers"]["open"].integer(), 200);
    EXPECT_EQ(push["publish"]["acknowledged"].integer(), 10);
    EXPECT_EQ(push["publish"]["errors"].integer(), 0);
    EXPECT_EQ(push["deliveries"].integer(), 10 * 200);
    EXPECT_EQ(push["latency_us"]["count"].integer(), 10 * 200);
    EXPECT_EQ(push["lost"]["total"].integer(), 0);
    EXPECT_EQ(push["duplicated"].integer(), 0);
    EXPECT_EQ(push["history_lost"].integer(), 0);
    EXPECT_EQ(push["protocol_errors"].integer(), 0);
    EXPECT_EQ(push["without_id"].integer(), 0);
    EXPECT_TRUE(push["server_cpu_us_per_delivery"].is_number());
    const JsonValue& ws = (*root)["websocket"];
    EXPECT_EQ(ws["mode"].string, "subscribe");
    EXPECT_EQ(ws["handshakes"].integer(), 200);
    EXPECT_EQ(ws["bad_handshakes"].integer(), 0);
    EXPECT_EQ(ws["deflate_agreed"].integer(), deflate ? 200 : 0);
}

TEST(BenchWs, SubscribersCountEveryDelivery) {
    expect_every_delivery({}, false);
}

TEST(BenchWs, DeflateSubscribersCountEveryDelivery) {
    // 600-byte messages, so that the server sends them compressed.
    expect_every_delivery({"--ws-deflate", "--message-size", "600"}, true);
}

TEST(BenchWs, CutOffSubscribersResumeWithoutLoss) {
    // Every message is larger than --push-max-queue, so the server closes each subscriber at
    // each publish; each comes back with ?last_event_id= and gets the message from history.
    WsServer s({"--push-max-queue", "1024"});
    // One message first, so that the position "subscribed" reports names a message: a
    // subscriber cut off before its first delivery resumes from there. (On an empty channel the
    // position is 0, and this server answers a resume from 0 with history-lost.)
    ASSERT_EQ(request(s.pub, "POST", "/pub/cut", "before").status, 200);
    constexpr std::uint32_t subscribers = 20;
    bench::BenchOptions options;
    options.urls = {s.live("cut")};
    options.push.transport = bench::PushTransport::websocket;
    options.push.subscribers = subscribers;
    options.push.publish_url = s.publish("cut");
    options.push.publish_rate = 5;
    options.push.message_size = 2000;
    options.duration_ns = 1'000'000'000;
    options.timeout_ns = 3'000'000'000;
    bench::BenchReport report = bench::run_bench(options);
    const bench::PushReport& push = *report.push;
    EXPECT_EQ(push.subscribers.connected, subscribers);
    EXPECT_EQ(push.publisher.published, 5u);
    EXPECT_GE(push.subscribers.reconnects, subscribers);
    EXPECT_GE(push.subscribers.disconnects, subscribers);
    EXPECT_EQ(push.subscribers.deliveries, 5u * subscribers);
    EXPECT_EQ(push.lost(), 0u);
    EXPECT_EQ(push.subscribers.duplicates, 0u);
    EXPECT_EQ(push.subscribers.history_lost, 0u);
    ASSERT_TRUE(report.websocket.has_value());
    EXPECT_GE(report.websocket->handshakes, 2u * subscribers);
}

TEST(BenchWs, DeletedChannelIsHistoryLostAndOneResubscribeEach) {
    WsServer s;
    constexpr std::uint32_t subscribers = 10;
    bench::BenchOptions options;
    options.urls = {s.live("gone")};
    options.push.transport = bench::PushTransport::websocket;
    options.push.subscribers = subscribers;
    options.push.publish_url = s.publish("gone");
    options.push.publish_rate = 20;
    options.duration_ns = 2'000'000'000;
    options.timeout_ns = 3'000'000'000;
    bench::BenchReport report;
    std::thread run([&] { report = bench::run_bench(options); });
    // Delete the channel once every subscriber holds it and a message has gone out: the server
    // says "unsubscribed"; each subscriber reconnects with an id of the old channel.
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
    EXPECT_EQ(report.push->gaps(), 0u);
    EXPECT_EQ(sub.duplicates, 0u);
    EXPECT_EQ(sub.open, subscribers);
    EXPECT_LE(report.push->lost(), subscribers);
    EXPECT_GE(sub.deliveries, (report.push->publisher.published - 1) * subscribers);
}

TEST(BenchWs, EchoOpenLoopFromTheCommandLine) {
    WsServer s;
    TempDir out;
    std::string json_path = out.path() + "/echo.json";
    CommandResult result =
        run_command({"bench", "--ws", "4", s.echo(), "--echo", "--rate", "40", "-d", "1s",
                     "--message-size", "64", "--json", json_path, "-q"},
                    60000);
    ASSERT_EQ(result.status, 0) << result.output;
    auto root = read_json(json_path);
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ((*root)["config"]["mode"].string, "open");
    EXPECT_GT((*root)["requests"].integer(), 0);
    EXPECT_EQ((*root)["errors"]["total"].integer(), 0);
    EXPECT_EQ((*root)["connections"]["open"].integer(), 4);
    EXPECT_GT((*root)["latency_us"]["corrected"]["count"].integer(), 0);
    const JsonValue& ws = (*root)["websocket"];
    EXPECT_EQ(ws["mode"].string, "echo");
    EXPECT_EQ(ws["message_type"].string, "binary");
    EXPECT_EQ(ws["handshakes"].integer(), 4);
    EXPECT_EQ(ws["bad_echoes"].integer(), 0);
    EXPECT_GT(ws["messages"].integer(), 0);
    EXPECT_EQ(ws["messages"].integer(), ws["messages_sent"].integer());
    EXPECT_TRUE((*root)["push"].is_null());
}

TEST(BenchWs, EchoClosedLoopTextWithDeflate) {
    WsServer s;
    bench::BenchOptions options;
    options.urls = {s.echo()};
    options.connections = 3;
    options.ws.echo = true;
    options.ws.text = true;
    options.ws.deflate = true;
    options.ws.message_size = 300;
    options.duration_ns = 500'000'000;
    bench::BenchReport report = bench::run_bench(options);
    EXPECT_GT(report.stats.requests, 0u);
    EXPECT_EQ(report.stats.total_errors(), 0u);
    ASSERT_TRUE(report.websocket.has_value());
    EXPECT_EQ(report.websocket->handshakes, 3u);
    EXPECT_EQ(report.websocket->deflate_agreed, 3u);
    EXPECT_EQ(report.websocket->bad_echoes, 0u);
}

TEST(BenchWs, EchoRefusedHandshakeIsCountedByStatus) {
    // A path that is no WebSocket location answers the Upgrade with plain HTTP.
    WsServer s;
    bench::BenchOptions options;
    options.urls = {"http://127.0.0.1:" + std::to_string(s.port) + "/index.html"};
    options.connections = 2;
    options.rate = 20;
    options.ws.echo = true;
    options.duration_ns = 300'000'000;
    options.connect_timeout_ns = 1'000'000'000;
    bench::BenchReport report = bench::run_bench(options);
    EXPECT_EQ(report.stats.requests, 0u);
    EXPECT_EQ(report.stats.connections_open, 0u);
    ASSERT_TRUE(report.websocket.has_value());
    EXPECT_EQ(report.websocket->handshakes, 0u);
    EXPECT_FALSE(report.websocket->refused.empty());
    EXPECT_GT(report.stats.errors[static_cast<std::size_t>(bench::ErrorKind::bad_status_line)], 0u);
}

TEST(BenchWs, EchoHandshakeThatNeverAnswersTimesOutAndIsTriedAgain) {
    // A listener that never accepts: the kernel completes each connect into its backlog, so
    // every handshake goes out and is never answered. Only housekeeping ends such an attempt
    // (at --connect-timeout, from the deadline it keeps per connection; without it the run
    // would never get past connecting), and the connection must then be tried again.
    // Non-blocking, so that counting the backlog at the end stops when it is empty.
    int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(silent, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_EQ(::listen(silent, 64), 0);
    ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length), 0);
    bench::BenchOptions options;
    options.urls = {"http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/echo"};
    options.connections = 2;
    options.rate = 20;
    options.ws.echo = true;
    options.duration_ns = 1'000'000'000;
    options.timeout_ns = 300'000'000;
    options.connect_timeout_ns = 200'000'000;
    bench::BenchReport report = bench::run_bench(options);
    EXPECT_EQ(report.stats.requests, 0u);
    ASSERT_TRUE(report.websocket.has_value());
    EXPECT_EQ(report.websocket->handshakes, 0u);
    EXPECT_EQ(report.stats.connect_failures[ETIMEDOUT], 2u);  // each connection's first attempt
    EXPECT_GT(report.stats.errors[static_cast<std::size_t>(bench::ErrorKind::connect_timeout)], 0u);
    // Every attempt left one connection in the backlog: more than one per connection means the
    // timed-out ones were tried again.
    int attempts = 0;
    while (true) {
        int accepted = ::accept4(silent, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (accepted < 0) break;
        ::close(accepted);
        attempts++;
    }
    ::close(silent);
    EXPECT_GT(attempts, 2);
}

TEST(BenchWs, EchoFlagsNeedWs) {
    CommandResult result = run_command({"bench", "http://127.0.0.1:1/echo", "--echo"});
    EXPECT_EQ(result.status, 2) << result.output;
    result = run_command({"bench", "--ws", "1", "http://127.0.0.1:1/echo", "--ws-text"});
    EXPECT_EQ(result.status, 2) << result.output;
    result = run_command({"bench", "--ws", "1", "http://127.0.0.1:1/x", "--sse", "1"});
    EXPECT_NE(result.status, 0) << result.output;
}

}  // namespace
}  // namespace c10k::test

// /metrics on the admin listener (--admin-listen), scraped from the real binary on every engine
// and parsed as Prometheus text: the counts are what the test did.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "engine/engine.hpp"
#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/push_client.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// A request the parser refuses: its status (400), and the connection closes.
int send_garbage(int port) {
    HttpClient client(port);
    client.send("NOT HTTP AT ALL\r\n\r\n");
    HttpResponse r;
    if (!client.read_response(r)) return 0;
    EXPECT_TRUE(client.wait_closed());
    return r.status;
}

class MetricsOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(MetricsOnEveryEngine, CountsWhatClientsDid) {
    const std::string engine = GetParam();
    TempDir root;
    root.write("index.html", "<p>hello</p>\n");
    ServerProcess server({"serve", "--engine", engine, "--root", root.path(), "--listen",
                          "127.0.0.1:0", "--threads", "2", "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(server);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(fetch(server.port(), "/index.html").status, 200);
    for (int i = 0; i < 2; ++i) ASSERT_EQ(fetch(server.port(), "/missing").status, 404);
    ASSERT_EQ(send_garbage(server.port()), 400);
    // The public listener does not serve the metrics: /metrics there is just a missing file.
    ASSERT_EQ(fetch(server.port(), "/metrics").status, 404);

    // Each response is counted when its head is queued, before the client can read it, so
    // the first scrape sees all of them (and not itself: it is counted after it is drawn).
    auto s = scrape(admin);
    std::string prefix = "c10k_requests_total{engine=\"" + engine + "\",status=";
    EXPECT_EQ(s[prefix + "\"200\"}"], 3) << server.output();
    EXPECT_EQ(s[prefix + "\"404\"}"], 3);
    EXPECT_EQ(s[prefix + "\"400\"}"], 1);
    EXPECT_EQ(s["c10k_errors_total{kind=\"protocol\"}"], 1);
    EXPECT_EQ(s["c10k_request_duration_seconds_count"], 7);
    EXPECT_EQ(s["c10k_request_duration_seconds_bucket{le=\"+Inf\"}"], 7);
    EXPECT_GT(s["c10k_sent_bytes_total"], 3 * 13);
    EXPECT_GT(s["c10k_received_bytes_total"], 0);
    // The version --version prints ("c10k X.Y.Z").
    std::string version = run_command({"--version"}).output;
    version = version.substr(5, version.find_first_of("\r\n") - 5);
    EXPECT_EQ(s["c10k_build_info{version=\"" + version + "\",engine=\"" + engine + "\"}"], 1);

    // Connections close after the client read its answer: wait (bounded) for the counts of
    // all seven client connections and this scrape's; the next scrape is the ninth.
    double closed = 0;
    for (int i = 0; i < 100 && closed < 8; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        s = scrape(admin);
        closed = s["c10k_connections_closed_total"];
    }
    EXPECT_GE(closed, 8) << "connections never counted closed";
    EXPECT_EQ(s["c10k_connections_accepted_total"], s["c10k_connections_closed_total"] + 1)
        << "only the scrape in progress is open";
    EXPECT_EQ(s["c10k_connections{state=\"active\"}"], 1);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

std::vector<std::string> every_engine() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, MetricsOnEveryEngine, ::testing::ValuesIn(every_engine()),
                         engine_param_name);

TEST(Metrics, OneScrapeCountsEveryProcessOfAGroup) {
    TempDir root;
    root.write("index.html", "x");
    ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--processes",
                          "3", "--threads", "1", "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(server);
    // The ready line comes before the processes are forked: wait (bounded) until each has
    // its loop counting, one loop each. Scrapes are 200s too, so count them.
    int scrapes = 0;
    double loops = 0;
    for (; scrapes < 100 && loops < 3; ++scrapes) {
        if (scrapes > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        loops = scrape(admin)["c10k_loops"];
    }
    ASSERT_EQ(loops, 3) << server.output();
    // New connections each: SO_REUSEPORT spreads them over the three processes' queues.
    for (int i = 0; i < 30; ++i) ASSERT_EQ(fetch(server.port(), "/index.html").status, 200);
    auto s = scrape(admin);
    EXPECT_EQ(s["c10k_requests_total{engine=\"epoll\",status=\"200\"}"], 30 + scrapes)
        << server.output();
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

TEST(Metrics, TheAdminListenerAnswersOnlyItsPaths) {
    TempDir root;
    root.write("index.html", "x");
    ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0",
                          "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(server);
    EXPECT_EQ(fetch(admin, "/index.html").status, 404);  // no files there
    EXPECT_EQ(request(admin, "POST", "/metrics", "x").status, 405);
    HttpResponse index = fetch(admin, "/");
    EXPECT_EQ(index.status, 200);
    EXPECT_NE(index.body.find("/metrics"), std::string::npos);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

TEST(Metrics, ABadAdminAddressIsRefusedAtStart) {
    CommandResult r = run_command({"serve", "--listen", "127.0.0.1:0", "--admin-listen", "nope"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--admin-listen"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("serving"), std::string::npos) << r.output;
}

TEST(Metrics, PushSubscribersAndDeliveriesAreCounted) {
    TempDir root;
    ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--push",
                          "/live/", "--publish-listen", "127.0.0.1:0", "--admin-listen",
                          "127.0.0.1:0"});
    int admin = admin_port(server);
    int pub = publish_port(server);
    SseClient a(server.port(), "/live/score");
    SseClient b(server.port(), "/live/score");
    ASSERT_TRUE(a.read_head());
    ASSERT_TRUE(b.read_head());
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(request(pub, "POST", "/pub/score", "goal " + std::to_string(i)).status, 200);
    }
    SseEvent event;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(a.next_event(event));
        ASSERT_TRUE(b.next_event(event));
    }
    auto s = scrape(admin);
    EXPECT_EQ(s["c10k_push_subscribers"], 2);
    EXPECT_EQ(s["c10k_push_subscriptions_total"], 2);
    EXPECT_EQ(s["c10k_push_deliveries_total"], 6);
    EXPECT_EQ(s["c10k_push_channels"], 1);
    EXPECT_EQ(s["c10k_connections{state=\"waiting\"}"], 2);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

}  // namespace
}  // namespace c10k::test

// Servers that reset, close mid-response, answer garbage, never answer, or are not there at all:
// each failure is counted under its kind, and the bench returns within bounded time.

#include <gtest/gtest.h>

#include <chrono>

#include "bench/runner.hpp"
#include "unit/bench/test_server.hpp"

namespace c10k::bench {
namespace {

using testing::TestServer;

struct Timed {
    BenchReport report;
    double seconds = 0;
};

Timed run_against(const std::string& url, double rate, std::int64_t timeout_ms = 1000) {
    BenchOptions options;
    options.urls = {url};
    options.rate = rate;
    options.connections = 4;
    options.duration_ns = 1'000'000'000;
    options.timeout_ns = timeout_ms * 1'000'000;
    options.connect_timeout_ns = 500'000'000;
    auto begin = std::chrono::steady_clock::now();
    Timed timed;
    timed.report = run_bench(options);
    timed.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return timed;
}

std::uint64_t errors_of(const BenchReport& report, ErrorKind kind) {
    return report.stats.errors[static_cast<std::size_t>(kind)];
}

// A generous bound that only a hang would break: 1 s of run plus timeouts and connects.
constexpr double bounded_s = 15;

TEST(ErrorHandling, ResetIsCountedAsReset) {
    TestServer server([](int& fd, TestServer& s) {
        std::string buffer;
        if (!s.read_request(fd, buffer)) return;
        linger hard{1, 0};  // close with RST instead of FIN
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(fd);
        fd = -1;
    });
    for (double rate : {200.0, 0.0}) {  // open loop, then closed loop (reconnects at once)
        Timed t = run_against(server.url(), rate);
        EXPECT_EQ(t.report.stats.requests, 0u);
        EXPECT_GT(errors_of(t.report, ErrorKind::reset), 0u) << rate;
        EXPECT_EQ(t.report.stats.total_errors(), errors_of(t.report, ErrorKind::reset) +
                                                     errors_of(t.report, ErrorKind::closed_early));
        EXPECT_LT(t.seconds, bounded_s);
    }
}

TEST(ErrorHandling, CloseMidResponseIsClosedEarly) {
    TestServer server([](int& fd, TestServer& s) {
        std::string buffer;
        if (!s.read_request(fd, buffer)) return;
        TestServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part");
    });
    Timed t = run_against(server.url(), 200);
    EXPECT_EQ(t.report.stats.requests, 0u);
    EXPECT_GE(errors_of(t.report, ErrorKind::closed_early), 150u);
    EXPECT_EQ(t.report.stats.total_errors(), errors_of(t.report, ErrorKind::closed_early));
    EXPECT_LT(t.seconds, bounded_s);
}

TEST(ErrorHandling, GarbageIsABadStatusLine) {
    TestServer server(testing::answer_with("garbage, not HTTP at all\r\n\r\n"));
    Timed t = run_against(server.url(), 200);
    EXPECT_EQ(t.report.stats.requests, 0u);
    EXPECT_GE(errors_of(t.report, ErrorKind::bad_status_line), 150u);
    EXPECT_EQ(t.report.stats.total_errors(), errors_of(t.report, ErrorKind::bad_status_line));
    EXPECT_LT(t.seconds, bounded_s);
}

TEST(ErrorHandling, MalformedHeadersAreParseErrors) {
    TestServer server(testing::answer_with("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"));
    Timed t = run_against(server.url(), 200);
    EXPECT_EQ(t.report.stats.requests, 0u);
    EXPECT_GE(errors_of(t.report, ErrorKind::parse_error), 150u);
    EXPECT_LT(t.seconds, bounded_s);
}

TEST(ErrorHandling, SilentServerGivesReadTimeouts) {
    TestServer server([](int& fd, TestServer& s) {
        std::string buffer;
        while (s.read_request(fd, buffer)) {
        }
    });
    Timed t = run_against(server.url(), 100, 300);
    EXPECT_EQ(t.report.stats.requests, 0u);
    EXPECT_GT(errors_of(t.report, ErrorKind::read_timeout), 0u);
    EXPECT_EQ(t.report.stats.total_errors(), errors_of(t.report, ErrorKind::read_timeout));
    EXPECT_LT(t.seconds, bounded_s);
}

TEST(ErrorHandling, NobodyListeningIsConnectRefused) {
    int port = 0;
    {
        TestServer gone(TestServer::Handler{}, 1);
        port = gone.port();
    }  // closed: the port now refuses
    Timed t = run_against("http://127.0.0.1:" + std::to_string(port) + "/", 100);
    EXPECT_EQ(t.report.stats.requests, 0u);
    EXPECT_EQ(t.report.stats.connections_failed, 4u);
    EXPECT_EQ(t.report.stats.connect_failures[ECONNREFUSED], 4u);
    EXPECT_EQ(t.report.stats.connections_open, 0u);
    EXPECT_GT(errors_of(t.report, ErrorKind::connect_refused), 0u);
    EXPECT_LT(t.seconds, bounded_s);
}

TEST(ErrorHandling, FullBacklogGivesConnectTimeouts) {
    // A listener that never accepts, with the smallest backlog: after the first connection or
    // two the kernel drops SYNs, so the remaining connects can only time out.
    TestServer server(TestServer::Handler{}, 0);
    Timed t = run_against(server.url(), 100);
    EXPECT_EQ(t.report.stats.requests, 0u);
    EXPECT_GE(t.report.stats.connect_failures[ETIMEDOUT], 1u);
    EXPECT_LT(t.seconds, bounded_s);
}

TEST(ErrorHandling, UnresolvableHostIsAClearError) {
    BenchOptions options;
    options.urls = {"http://no-such-host.invalid:80/"};
    try {
        run_bench(options);
        FAIL() << "an unresolvable host was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos);
    }
}

}  // namespace
}  // namespace c10k::bench

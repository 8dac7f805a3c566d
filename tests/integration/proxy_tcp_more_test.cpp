// `c10k proxy --mode tcp` beyond relaying, with the real binary: active checks (tcp and
// http:/PATH) that take a killed or failing server out and bring it back, every server DOWN
// closing new clients at once, the --max-connections cap, the PROXY header towards a
// `c10k serve --proxy-protocol-from` backend, and the counters in /metrics (c10k_proxy_tcp_*).

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/connect.hpp"
#include "support/http_client.hpp"
#include "support/proxy_fixture.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

using Clock = std::chrono::steady_clock;

/// Checks every 100 ms, so that a server is DOWN within a few tenths of a second.
std::vector<std::string> fast_checks(const std::string& check) {
    return {"--health-check", check, "--health-interval", "100ms", "--health-timeout", "100ms",
            "--health-rise",  "2",   "--health-fall",     "3"};
}

/// Waits (generously: the machine may be loaded) until the process has logged `text`.
bool wait_for_log(ServerProcess& process, const std::string& text) {
    auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
        if (process.output().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

std::string port_of(const std::string& address) {
    return address.substr(address.rfind(':') + 1);
}

/// GET /id.txt on a connection of its own (so that each is balanced anew) and the body.
std::string id_over_new_connection(int port) {
    HttpClient client(port);
    client.send_get("/id.txt", "Connection: close\r\n");
    HttpResponse response;
    EXPECT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200);
    return response.body;
}

/// A blocking socket connected to 127.0.0.1:port from `source` (another loopback address
/// shows whose address a backend was told).
int connect_from(const char* source, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        connect_through_signals(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    timeval ten_seconds{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
    return fd;
}

/// Sends `request` on `fd` and reads until the peer closes (or the 10 s bound).
std::string exchange(int fd, const std::string& request) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return {};
    }
    std::string received;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return received;
        received.append(buffer, static_cast<std::size_t>(n));
    }
}

/// A sample of the relay's pool "default": `family{pool="default",server="SERVER"}`.
std::string server_sample(const std::string& family, const std::string& server,
                          const std::string& more = "") {
    return family + "{pool=\"default\",server=\"" + server + "\"" + more + "}";
}

std::string refused_sample(const std::string& reason) {
    return "c10k_proxy_tcp_refused_total{pool=\"default\",reason=\"" + reason + "\"}";
}

std::string read_file(const std::string& path) {
    std::string text;
    std::FILE* file = std::fopen(path.c_str(), "r");
    if (file == nullptr) return text;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
    std::fclose(file);
    return text;
}

TEST(ProxyTcpHealth, TcpCheckTakesAKilledServerOutAndTrafficGoesToTheOther) {
    Backend a("a"), b("b");
    std::string b_address = b.address();
    auto proxy = start_tcp_proxy({a.address(), b_address}, fast_checks("tcp"));
    b.server->stop(SIGKILL);
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + b_address + " is down (tcp check: "))
        << proxy->output();
    for (int i = 0; i < 6; ++i) EXPECT_EQ(id_over_new_connection(proxy->port()), "a");

    // A server on the same port again is UP after `rise` passes and gets its share again.
    ServerProcess again({"serve", "--root", b.dir.path(), "--listen",
                         "127.0.0.1:" + port_of(b_address), "--threads", "1"});
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + b_address + " is up (tcp check: "))
        << proxy->output();
    std::map<std::string, int> seen;
    for (int i = 0; i < 6; ++i) ++seen[id_over_new_connection(proxy->port())];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 3}, {"b", 3}}));
}

TEST(ProxyTcpHealth, HttpCheckKeepsOutAServerThatAcceptsButFailsTheCheck) {
    // b accepts connections (a connect alone would find it fine) but has no /health.txt.
    Backend a("a"), b("b");
    a.dir.write("health.txt", "ok");
    auto proxy = start_tcp_proxy({a.address(), b.address()}, fast_checks("http:/health.txt"));
    ASSERT_TRUE(wait_for_log(
        *proxy, "proxy: server " + b.address() + " is down (http check: status 404; 3 failures"))
        << proxy->output();
    for (int i = 0; i < 6; ++i) EXPECT_EQ(id_over_new_connection(proxy->port()), "a");
    EXPECT_EQ(proxy->output().find("server " + a.address() + " is down"), std::string::npos)
        << proxy->output();
}

TEST(ProxyTcpHealth, EveryServerDownClosesNewClientsAtOnce) {
    Backend a("a"), b("b");
    auto checks = fast_checks("http:/missing");
    checks.insert(checks.end(), {"--admin-listen", "127.0.0.1:0"});
    auto proxy = start_tcp_proxy({a.address(), b.address()}, checks);
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + a.address() + " is down"))
        << proxy->output();
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + b.address() + " is down"))
        << proxy->output();
    // Both still accept connections: only the checks keep the relay from them.
    for (int i = 0; i < 3; ++i) {
        HttpClient client(proxy->port());
        client.send_get("/id.txt");
        EXPECT_TRUE(client.wait_closed());
        EXPECT_EQ(client.pending(), "");
    }
    auto metrics = scrape(admin_port(*proxy));
    EXPECT_EQ(metrics[refused_sample("no_server")], 3);
    EXPECT_EQ(metrics[refused_sample("max_connections")], 0);
    for (const auto& server : {a.address(), b.address()}) {
        EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_server_up", server)], 0) << server;
        EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_connections_total", server)], 0) << server;
    }
}

TEST(ProxyTcpLimits, ClientsBeyondMaxConnectionsAreClosedAtOnce) {
    Backend a("a");
    auto proxy =
        start_tcp_proxy({a.address()}, {"--max-connections", "2", "--admin-listen", "127.0.0.1:0"});
    HttpClient first(proxy->port()), second(proxy->port());
    for (HttpClient* held : {&first, &second}) {
        held->send_get("/id.txt");
        HttpResponse response;
        ASSERT_TRUE(held->read_response(response)) << held->error();
        EXPECT_EQ(response.body, "a");
    }
    // Two relays are open: a third client is closed without a byte.
    for (int i = 0; i < 3; ++i) {
        HttpClient over(proxy->port());
        over.send_get("/id.txt");
        EXPECT_TRUE(over.wait_closed());
        EXPECT_EQ(over.pending(), "");
    }
    auto metrics = scrape(admin_port(*proxy));
    EXPECT_EQ(metrics[refused_sample("max_connections")], 3);
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_connections", a.address())], 2);
    // The held relays are unaffected, and once one ends its place is free again.
    first.send_get("/id.txt");
    HttpResponse response;
    ASSERT_TRUE(first.read_response(response)) << first.error();
    EXPECT_EQ(response.body, "a");
    ::shutdown(second.fd(), SHUT_WR);
    EXPECT_TRUE(second.wait_closed());
    std::string id;
    auto give_up = Clock::now() + std::chrono::seconds(10);
    while (id != "a" && Clock::now() < give_up) {
        HttpClient client(proxy->port());
        client.send_get("/id.txt");
        HttpResponse answer;
        if (client.read_response(answer, 1000)) id = answer.body;
    }
    EXPECT_EQ(id, "a");
}

TEST(ProxyTcpProxyProtocol, TheBackendLearnsTheClientsAddressFromTheHeader) {
    for (const char* option : {"send-proxy", "send-proxy-v2"}) {
        SCOPED_TRACE(option);
        TempDir dir;
        dir.write("id.txt", "served");
        std::string log = dir.path() + "/access.log";
        // It requires the header from 127.0.0.1 (the relay): a bare request would get 400.
        ServerProcess backend({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0",
                               "--threads", "1", "--proxy-protocol-from", "127.0.0.1",
                               "--access-log", log});
        // Its checks carry a header too (one naming no client), or the backend would refuse
        // them and the check take it out.
        auto proxy = start_tcp_proxy({"127.0.0.1:" + std::to_string(backend.port()) + "," + option},
                                     fast_checks("http:/id.txt"));
        // The client comes from 127.0.0.2, which only the header can tell the backend.
        int fd = connect_from("127.0.0.2", proxy->port());
        ASSERT_GE(fd, 0);
        std::string answer =
            exchange(fd, "GET /id.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        ::close(fd);
        EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer;
        EXPECT_NE(answer.find("\r\n\r\nserved"), std::string::npos) << answer;
        // Checks go on meanwhile: wait for a few more to reach the backend (its log of them is
        // read after its stop).
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        EXPECT_EQ(backend.stop(), 0);  // the access log is flushed at the stop
        std::string text = read_file(log);
        EXPECT_NE(text.find("127.0.0.2 - - "), std::string::npos) << text;
        EXPECT_NE(text.find("\"GET /id.txt HTTP/1.1\" 200 6 \"-\" \"c10k-health-check\""),
                  std::string::npos)
            << text;
        EXPECT_EQ(text.find("\" 400 "), std::string::npos) << text;
        EXPECT_EQ(proxy->output().find("is down"), std::string::npos) << proxy->output();
    }
}

TEST(ProxyTcpMetrics, CountsPerServerConnectionsFailuresBytesAndHealth) {
    // a passes the checks; b is a port nobody listens on (bound, not listening: refused).
    Backend a("a");
    int dead_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(dead_fd, reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_EQ(::getsockname(dead_fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
    std::string dead = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    // Round robin tries the dead server first, before any check could take it out.
    // Two loops: the admin listener has a socket per loop, all served.
    auto proxy = start_tcp_proxy({dead, a.address()}, {"--admin-listen", "127.0.0.1:0"}, 2);
    const std::string request = "GET /id.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    std::size_t received = 0;
    for (int i = 0; i < 4; ++i) {
        int fd = connect_from("127.0.0.1", proxy->port());
        ASSERT_GE(fd, 0);
        std::string answer = exchange(fd, request);
        ::close(fd);
        EXPECT_NE(answer.find("\r\n\r\na"), std::string::npos) << answer;
        received += answer.size();
    }
    auto metrics = scrape(admin_port(*proxy));
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_connections_total", a.address())], 4);
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_connections_total", dead)], 0);
    EXPECT_GE(metrics[server_sample("c10k_proxy_tcp_connect_failures_total", dead)], 1);
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_bytes_total", a.address(),
                                    ",direction=\"to_server\"")],
              4.0 * static_cast<double>(request.size()));
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_bytes_total", a.address(),
                                    ",direction=\"to_client\"")],
              static_cast<double>(received));
    // Without checks every server counts as up.
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_server_up", dead)], 1);
    // /status.json has the same under proxy_tcp.
    HttpResponse status = fetch(admin_port(*proxy), "/status.json");
    EXPECT_EQ(status.status, 200);
    EXPECT_NE(status.body.find(R"("proxy_tcp":{"pools":[{"name":"default",)"), std::string::npos)
        << status.body;
    EXPECT_NE(status.body.find("{\"name\":\"" + a.address() + "\",\"connections_total\":4,"),
              std::string::npos)
        << status.body;
    ::close(dead_fd);

    // With checks, the dead server's state shows as 0 once they took it out.
    auto checked = start_tcp_proxy({dead, a.address()}, [&] {
        auto extra = fast_checks("tcp");
        extra.insert(extra.end(), {"--admin-listen", "127.0.0.1:0"});
        return extra;
    }());
    ASSERT_TRUE(wait_for_log(*checked, "proxy: server " + dead + " is down (tcp check: "))
        << checked->output();
    metrics = scrape(admin_port(*checked));
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_server_up", dead)], 0);
    EXPECT_EQ(metrics[server_sample("c10k_proxy_tcp_server_up", a.address())], 1);
}

TEST(ProxyTcpFlags, CombinationsThatMakeNoSenseSayWhy) {
    auto eject =
        run_command({"proxy", "--mode", "tcp", "--backend", "127.0.0.1:1", "--eject-on-5xx"});
    EXPECT_NE(eject.status, 0);
    EXPECT_NE(eject.output.find("--eject-on-5xx: --mode tcp sees no HTTP status"),
              std::string::npos)
        << eject.output;
    auto eject_after =
        run_command({"proxy", "--mode", "tcp", "--backend", "127.0.0.1:1", "--eject-after", "2"});
    EXPECT_NE(eject_after.status, 0);
    EXPECT_NE(eject_after.output.find("--eject-after: --mode tcp has no requests to count"),
              std::string::npos)
        << eject_after.output;
    auto sticky =
        run_command({"proxy", "--mode", "tcp", "--backend", "127.0.0.1:1", "--sticky-cookie", "s"});
    EXPECT_NE(sticky.status, 0);
    EXPECT_NE(sticky.output.find("--sticky-cookie: --mode tcp relays bytes and sets no cookie"),
              std::string::npos)
        << sticky.output;
    auto check = run_command(
        {"proxy", "--mode", "tcp", "--backend", "127.0.0.1:1", "--health-check", "udp"});
    EXPECT_NE(check.status, 0);
    EXPECT_NE(check.output.find("--health-check: 'udp' is not a check"), std::string::npos)
        << check.output;
    auto valid = run_command({"proxy", "--mode", "tcp", "--backend", "127.0.0.1:1,send-proxy-v2",
                              "--health-check", "http:/up", "--max-connections", "10", "-t"});
    EXPECT_EQ(valid.status, 0) << valid.output;
}

}  // namespace
}  // namespace c10k::test

// `c10k proxy`'s health: active checks (tcp and http) against real `c10k serve` backends that
// are stopped and started again, the 503 when no server is healthy, passive ejection on 5xx
// answers with its cap on the ejected share, and the health flags' messages.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// Checks every 100 ms, so that a server is DOWN within a few tenths of a second.
std::vector<std::string> fast_checks(const std::string& check) {
    return {"--health-check", check, "--health-interval", "100ms", "--health-timeout", "100ms",
            "--health-rise",  "2",   "--health-fall",     "3"};
}

/// Waits (generously: the machine may be loaded) until the process has logged `text`.
bool wait_for_log(ServerProcess& process, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
        if (process.output().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
        ++count;
    return count;
}

std::string port_of(const std::string& address) {
    return address.substr(address.rfind(':') + 1);
}

TEST(ProxyHealth, HttpCheckTakesAStoppedServerOutAndBringsItBack) {
    Backend a("a"), b("b");
    std::string b_address = b.address();
    auto proxy = start_proxy({a.address(), b_address}, fast_checks("http:/id.txt"));
    b.server->stop();
    std::string down = "proxy: server " + b_address + " is down (http check: ";
    ASSERT_TRUE(wait_for_log(*proxy, down)) << proxy->output();
    // Down after exactly `fall` failed checks, and said once.
    EXPECT_NE(proxy->output().find("; 3 failures in a row)"), std::string::npos) << proxy->output();
    EXPECT_EQ(count_of(proxy->output(), down), 1u) << proxy->output();
    auto seen = tally(proxy->port(), "/id.txt", 10);
    EXPECT_EQ(seen["a"], 10);

    // A new server on the same port is UP after `rise` passes and gets its share again.
    ServerProcess again({"serve", "--root", b.dir.path(), "--listen",
                         "127.0.0.1:" + port_of(b_address), "--threads", "1"});
    std::string up = "proxy: server " + b_address + " is up (http check: 2 passes in a row)";
    ASSERT_TRUE(wait_for_log(*proxy, up)) << proxy->output();
    seen = tally(proxy->port(), "/id.txt", 10);
    EXPECT_EQ(seen["a"], 5);
    EXPECT_EQ(seen["b"], 5);
    EXPECT_EQ(count_of(proxy->output(), down), 1u) << proxy->output();
}

TEST(ProxyHealth, HttpCheckThatGets404KeepsTheServerOut) {
    Backend a("a"), b("b");
    b.dir.write("health.txt", "ok");  // only b has the checked path
    auto proxy = start_proxy({a.address(), b.address()}, fast_checks("http:/health.txt"));
    ASSERT_TRUE(wait_for_log(
        *proxy, "proxy: server " + a.address() + " is down (http check: status 404; 3 failures"))
        << proxy->output();
    auto seen = tally(proxy->port(), "/id.txt", 10);
    EXPECT_EQ(seen["b"], 10);
    EXPECT_EQ(proxy->output().find("server " + b.address() + " is down"), std::string::npos)
        << proxy->output();
}

TEST(ProxyHealth, HttpCheckFailsOnA5xxAndOnSilence) {
    MockBackend erring([](const ReceivedRequest&) { return Reply{ok_response("no", 500)}; });
    MockBackend silent([](const ReceivedRequest&) { return Reply{"", Reply::Then::stall}; });
    auto proxy = start_proxy({erring.address(), silent.address()}, fast_checks("http:/health"));
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + erring.address() +
                                         " is down (http check: status 500; 3 failures"))
        << proxy->output();
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + silent.address() +
                                         " is down (http check: timed out; 3 failures"))
        << proxy->output();
    // What the checks sent: GET of the path, naming the server, asking to close.
    ReceivedRequest check = erring.requests().at(0);
    EXPECT_EQ(check.method, "GET");
    EXPECT_EQ(check.target, "/health");
    EXPECT_NE(check.head.find("Host: " + erring.address() + "\r\n"), std::string::npos)
        << check.head;
    EXPECT_NE(check.head.find("Connection: close\r\n"), std::string::npos) << check.head;
}

TEST(ProxyHealth, TcpCheckAndNoHealthyServerGets503) {
    Backend a("a"), b("b");
    std::string a_address = a.address(), b_address = b.address();
    auto proxy = start_proxy({a_address, b_address}, fast_checks("tcp"));
    a.server->stop();
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + a_address +
                                         " is down (tcp check: Connection refused; 3 failures"))
        << proxy->output();
    auto seen = tally(proxy->port(), "/id.txt", 6);
    EXPECT_EQ(seen["b"], 6);

    b.server->stop();
    ASSERT_TRUE(wait_for_log(*proxy, "proxy: server " + b_address + " is down (tcp check:"))
        << proxy->output();
    HttpResponse response = fetch(proxy->port(), "/id.txt");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.header("Retry-After"), "1");
    EXPECT_NE(response.body.find("no healthy server in the pool"), std::string::npos)
        << response.body;
}

/// Checks on every engine that runs a loop of its own between connections (the process
/// engines run their handler only while they serve a connection: docs/PROXY.md, "Health"),
/// with two loops where the engine has loops: one process logs each change once, however
/// many loops it runs.
class ProxyHealthOnEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(ProxyHealthOnEngine, ChecksOncePerProcess) {
    Backend a("a"), b("b");
    std::string b_address = b.address();
    // start_proxy's --threads 1 cannot be overridden: the command is spelled out.
    std::vector<std::string> args = {"proxy",     "--listen",  "127.0.0.1:0", "--threads",
                                     "2",         "--engine",  GetParam(),    "--backend",
                                     a.address(), "--backend", b_address};
    std::vector<std::string> checks = fast_checks("tcp");
    args.insert(args.end(), checks.begin(), checks.end());
    auto proxy = std::make_unique<ServerProcess>(args);
    b.server->stop();
    std::string down = "proxy: server " + b_address + " is down (tcp check: ";
    ASSERT_TRUE(wait_for_log(*proxy, down)) << proxy->output();
    auto seen = tally(proxy->port(), "/id.txt", 6);
    EXPECT_EQ(seen["a"], 6);
    // Back up on the same port: `rise` checks later, a second loop checking on its own would
    // long have logged its own change (its checks keep the same interval), so the count below
    // tells one checker from several.
    ServerProcess again({"serve", "--root", b.dir.path(), "--listen",
                         "127.0.0.1:" + port_of(b_address), "--threads", "1"});
    std::string up = "proxy: server " + b_address + " is up (tcp check: 2 passes in a row)";
    ASSERT_TRUE(wait_for_log(*proxy, up)) << proxy->output();
    EXPECT_EQ(proxy->stop(), 0);
    EXPECT_EQ(count_of(proxy->output(), down), 1u) << proxy->output();
    EXPECT_EQ(count_of(proxy->output(), up), 1u) << proxy->output();
}

std::vector<std::string> engines_with_a_loop() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) {
        if (name != "fork" && name != "prefork") names.push_back(name);
    }
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, ProxyHealthOnEngine, ::testing::ValuesIn(engines_with_a_loop()),
                         engine_param_name);

/// Sends `count` GETs on one connection and returns the statuses' bodies in order.
std::vector<std::string> bodies(int port, int count) {
    std::vector<std::string> seen;
    HttpClient client(port);
    for (int i = 0; i < count; ++i) {
        client.send_get("/");
        HttpResponse response;
        EXPECT_TRUE(client.read_response(response)) << client.error();
        seen.push_back(std::to_string(response.status) + " " + response.body);
    }
    return seen;
}

TEST(ProxyEjection, AServerAnswering500IsEjected) {
    MockBackend failing([](const ReceivedRequest&) { return Reply{ok_response("oops", 500)}; });
    MockBackend fine([](const ReceivedRequest&) { return Reply{ok_response("fine")}; });
    auto proxy =
        start_proxy({failing.address(), fine.address()}, {"--eject-on-5xx", "--eject-after", "3"});
    auto seen = bodies(proxy->port(), 16);
    // Round robin alternates until the third 500 ejects the failing server (for 10 s, far
    // longer than the test).
    std::vector<std::string> expected = {"500 oops", "200 fine", "500 oops", "200 fine",
                                         "500 oops"};
    expected.resize(16, "200 fine");
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(failing.requests().size(), 3u);
    EXPECT_NE(proxy->output().find("proxy: server " + failing.address() +
                                   " is ejected for 10000 ms (3 failed requests in a row"),
              std::string::npos)
        << proxy->output();
}

TEST(ProxyEjection, NoMoreThanTheShareIsEjected) {
    auto oops = [](const ReceivedRequest&) { return Reply{ok_response("oops", 500)}; };
    MockBackend one(oops), two(oops);
    auto proxy = start_proxy({one.address(), two.address()},
                             {"--eject-on-5xx", "--eject-after", "2", "--max-ejected", "50%"});
    auto seen = bodies(proxy->port(), 12);
    EXPECT_EQ(seen, std::vector<std::string>(12, "500 oops"));
    // one, two, one: the first is ejected; the second fails as often but stays, as the last.
    EXPECT_EQ(one.requests().size(), 2u);
    EXPECT_EQ(two.requests().size(), 10u);
    EXPECT_EQ(count_of(proxy->output(), " is ejected for "), 1u) << proxy->output();
}

TEST(ProxyHealthFlags, BadFlagsSayWhatIsWrong) {
    struct Case {
        std::vector<std::string> flags;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{"--health-check", "http"}, "--health-check: 'http' is not a check (known: tcp"},
        {{"--health-check", "http:health"}, "http:/PATH"},
        {{"--health-check", "ping"}, "--health-check: 'ping' is not a check"},
        {{"--health-expect", "2xx"}, "--health-expect: '2xx' is not a status"},
        {{"--health-expect", "300-200"}, "a range like 200-399"},
        {{"--health-interval", "soon"}, "--health-interval:"},
        {{"--health-interval", "0s"}, "--health-interval: must be at least 1ms"},
        {{"--health-check", "tcp", "--engine", "prefork"},
         "--health-check: the prefork engine runs the proxy only while a client is connected"},
        {{"--health-timeout", "3s"}, "--health-timeout: 3s is longer than --health-interval"},
        {{"--health-rise", "0"}, "--health-rise: 0 is not from 1 to 100"},
        {{"--health-fall", "0"}, "--health-fall: 0 is not from 1 to 100"},
        {{"--max-ejected", "150%"}, "--max-ejected: '150%' is not a share of the pool"},
        {{"--eject-time", "1m", "--eject-max-time", "10s"},
         "--eject-max-time: 10s is shorter than --eject-time 1m"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"proxy", "--backend", "127.0.0.1:9", "-t"};
        args.insert(args.end(), c.flags.begin(), c.flags.end());
        auto result = run_command(args);
        EXPECT_NE(result.status, 0) << c.flags[0];
        EXPECT_NE(result.output.find(c.says), std::string::npos) << result.output;
    }
    auto good = run_command({"proxy", "--backend", "127.0.0.1:9", "-t", "--health-check",
                             "http:/health", "--health-expect", "200,204", "--max-ejected", "30"});
    EXPECT_EQ(good.status, 0) << good.output;
}

}  // namespace
}  // namespace c10k::test

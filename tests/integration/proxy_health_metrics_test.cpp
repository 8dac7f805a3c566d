// The active checks' state in the admin listener's output: a `c10k proxy` with an HTTP check in
// front of two real `c10k serve` backends, one of which the test kills by its PID and starts
// again; /metrics and /status.json follow it, with one process and with two (whose checks are
// summed, and whose views combine on one board of shared memory); and the passive ejections in
// force now.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/json_value.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// Checks every 100 ms, DOWN after 3 failures, UP after 2 passes.
std::vector<std::string> fast_checks() {
    return {"--health-check",    "http:/id.txt",
            "--health-interval", "100ms",
            "--health-timeout",  "100ms",
            "--health-rise",     "2",
            "--health-fall",     "3"};
}

/// A sample of a per-server family of the default pool, with `extra` labels after the server.
std::string sample(const std::string& family, const std::string& server,
                   const std::string& extra = "") {
    return family + "{pool=\"default\",server=\"" + server + "\"" + extra + "}";
}

/// Scrapes until `done` holds for the samples (generously bounded: the machine may be loaded;
/// nothing is asserted about how long it took). Returns the last scrape.
std::map<std::string, double> scrape_until(
    int admin, const std::function<bool(std::map<std::string, double>&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::map<std::string, double> samples = scrape(admin);
    while (!done(samples) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        samples = scrape(admin);
    }
    return samples;
}

/// The server named `name` in /status.json's default pool, or a null value.
JsonValue status_of(int admin, const std::string& name) {
    HttpResponse response = fetch(admin, "/status.json");
    EXPECT_EQ(response.status, 200);
    std::optional<JsonValue> json = parse_json(response.body);
    EXPECT_TRUE(json.has_value()) << response.body;
    if (!json) return {};
    for (const JsonValue& pool : (*json)["proxy"]["pools"].array) {
        if (pool["name"].string != "default") continue;
        for (const JsonValue& server : pool["servers"].array) {
            if (server["name"].string == name) return server;
        }
    }
    ADD_FAILURE() << "no server " << name << " in " << response.body;
    return {};
}

std::string port_of(const std::string& address) {
    return address.substr(address.rfind(':') + 1);
}

/// The proxy's processes: one, or two (each with a checker of its own).
class ProxyHealthMetrics : public ::testing::TestWithParam<int> {};

TEST_P(ProxyHealthMetrics, AKilledServerIsDownInMetricsAndStatusJsonThenUpAgain) {
    Backend a("a"), b("b");
    std::string a_address = a.address(), b_address = b.address();
    std::vector<std::string> extra = fast_checks();
    extra.insert(extra.end(), {"--processes", std::to_string(GetParam())});
    extra.insert(extra.end(), {"--admin-listen", "127.0.0.1:0"});
    auto proxy = start_proxy({a_address, b_address}, extra);
    int admin = admin_port(*proxy);

    // Both UP from the start, and checked: passes are counted.
    auto s = scrape_until(admin, [&](auto& m) {
        return m[sample("c10k_proxy_health_checks_total", a_address, ",result=\"ok\"")] > 0 &&
               m[sample("c10k_proxy_health_checks_total", b_address, ",result=\"ok\"")] > 0;
    });
    EXPECT_EQ(s[sample("c10k_proxy_server_up", a_address)], 1);
    EXPECT_EQ(s[sample("c10k_proxy_server_up", b_address)], 1);
    EXPECT_GT(s[sample("c10k_proxy_health_checks_total", b_address, ",result=\"ok\"")], 0);
    EXPECT_EQ(status_of(admin, b_address)["health"].string, "up");

    // Killed (by its PID, as a crash would): DOWN after `fall` failed checks.
    ASSERT_EQ(b.server->stop(SIGKILL), 128 + SIGKILL);
    s = scrape_until(admin, [&](auto& m) {
        return m.count(sample("c10k_proxy_server_up", b_address)) &&
               m[sample("c10k_proxy_server_up", b_address)] == 0;
    });
    ASSERT_EQ(s[sample("c10k_proxy_server_up", b_address)], 0) << proxy->output();
    EXPECT_GE(s[sample("c10k_proxy_health_checks_total", b_address, ",result=\"failed\"")], 3);
    EXPECT_GE(s[sample("c10k_proxy_health_transitions_total", b_address, ",to=\"down\"")], 1);
    EXPECT_EQ(s[sample("c10k_proxy_health_transitions_total", b_address, ",to=\"up\"")], 0);
    // Every process's checker takes it DOWN once, into the one sum.
    std::string went_down =
        sample("c10k_proxy_health_transitions_total", b_address, ",to=\"down\"");
    s = scrape_until(admin, [&](auto& m) { return m[went_down] == GetParam(); });
    EXPECT_EQ(s[went_down], GetParam()) << proxy->output();
    EXPECT_EQ(s[sample("c10k_proxy_server_up", b_address)], 0);
    EXPECT_EQ(s[sample("c10k_proxy_server_up", a_address)], 1);
    EXPECT_EQ(s[sample("c10k_proxy_health_checks_total", a_address, ",result=\"failed\"")], 0);
    EXPECT_EQ(s[sample("c10k_proxy_health_transitions_total", a_address, ",to=\"down\"")], 0);
    // Passive ejection saw nothing: the checks kept requests off the killed server.
    EXPECT_EQ(s.count(sample("c10k_proxy_ejected", b_address)), 1u);
    EXPECT_EQ(s[sample("c10k_proxy_ejected", b_address)], 0);

    JsonValue down = status_of(admin, b_address);
    EXPECT_EQ(down["health"].string, "down");
    EXPECT_GE(down["failed_checks"].number, 3);
    EXPECT_GE(down["checks"].number, down["failed_checks"].number);
    JsonValue up = status_of(admin, a_address);
    EXPECT_EQ(up["health"].string, "up");
    EXPECT_EQ(up["failed_checks"].number, 0);
    EXPECT_GT(up["checks"].number, 0);

    // A new server on the same port: UP again after `rise` passes, the change counted.
    ServerProcess again({"serve", "--root", b.dir.path(), "--listen",
                         "127.0.0.1:" + port_of(b_address), "--threads", "1"});
    s = scrape_until(admin,
                     [&](auto& m) { return m[sample("c10k_proxy_server_up", b_address)] == 1; });
    ASSERT_EQ(s[sample("c10k_proxy_server_up", b_address)], 1) << proxy->output();
    EXPECT_GE(s[sample("c10k_proxy_health_transitions_total", b_address, ",to=\"up\"")], 1);
    EXPECT_EQ(status_of(admin, b_address)["health"].string, "up");
    EXPECT_EQ(proxy->stop(), 0) << proxy->output();
}

INSTANTIATE_TEST_SUITE_P(Processes, ProxyHealthMetrics, ::testing::Values(1, 2),
                         [](const auto& info) {
                             return std::to_string(info.param) + "_processes";
                         });

TEST(ProxyHealthUnchecked, ServersOfAPoolWithoutChecksAreUnchecked) {
    Backend a("a");
    auto proxy = start_proxy({a.address()}, {"--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(*proxy);
    auto s = scrape(admin);
    EXPECT_EQ(s.count(sample("c10k_proxy_server_up", a.address())), 0u);
    EXPECT_EQ(s.count(sample("c10k_proxy_health_checks_total", a.address(), ",result=\"ok\"")), 0u);
    EXPECT_EQ(s[sample("c10k_proxy_ejected", a.address())], 0);
    JsonValue server = status_of(admin, a.address());
    EXPECT_EQ(server["health"].string, "unchecked");
    EXPECT_EQ(server["checks"].number, 0);
}

TEST(ProxyEjectedGauge, AServerEjectedForItsFailuresIsOutNow) {
    MockBackend failing([](const ReceivedRequest&) { return Reply{ok_response("oops", 500)}; });
    MockBackend fine([](const ReceivedRequest&) { return Reply{ok_response("fine")}; });
    auto proxy =
        start_proxy({failing.address(), fine.address()},
                    {"--eject-on-5xx", "--eject-after", "3", "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(*proxy);
    // Round robin: the third 500 ejects the failing server, for 10 s (longer than the test).
    HttpClient client(proxy->port());
    for (int i = 0; i < 8; ++i) {
        client.send_get("/");
        HttpResponse response;
        ASSERT_TRUE(client.read_response(response)) << client.error();
    }
    auto s = scrape(admin);
    EXPECT_EQ(s[sample("c10k_proxy_ejections_total", failing.address())], 1);
    EXPECT_EQ(s[sample("c10k_proxy_ejected", failing.address())], 1) << proxy->output();
    EXPECT_EQ(s[sample("c10k_proxy_ejected", fine.address())], 0);
    EXPECT_EQ(status_of(admin, failing.address())["ejected"].number, 1);
    // No active checks here: ejection alone does not make a health state.
    EXPECT_EQ(s.count(sample("c10k_proxy_server_up", failing.address())), 0u);
}

}  // namespace
}  // namespace c10k::test

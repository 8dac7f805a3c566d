// The proxy's pools in /metrics and /status.json, rendered from a board written by hand: the
// active checks' state (only for servers under checks), their counts by result, transitions,
// several checking processes' views combined, and ejections in force now.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "admin/proxy_metrics.hpp"
#include "proxy/board.hpp"
#include "support/json_value.hpp"

namespace c10k::admin {
namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

struct Rendered {
    std::string metrics;
    test::JsonValue json;
};

Rendered render(std::shared_ptr<proxy::PoolBoard> board) {
    MetricsContext context;
    context.proxy_pools.push_back(std::move(board));
    Rendered out;
    proxy_prometheus(out.metrics, context);
    std::string json;
    proxy_json(json, context);
    // proxy_json writes a member to append to an object: make it one.
    auto parsed = test::parse_json("{" + json.substr(1) + "}");
    EXPECT_TRUE(parsed.has_value()) << json;
    if (parsed) out.json = *parsed;
    return out;
}

const test::JsonValue& server_json(const Rendered& r, std::size_t index) {
    return r.json["proxy"]["pools"].array.at(0)["servers"].array.at(index);
}

TEST(ProxyMetrics, CheckedServersShowTheirStateChecksAndTransitions) {
    auto board =
        std::make_shared<proxy::PoolBoard>("web", std::vector<std::string>{"a:1", "b:1"}, 8);
    proxy::PoolBoard::Slot checker = board->claim();
    checker.servers[0].health.store(proxy::kCheckedUp);
    checker.servers[0].checks_passed.add(7);
    checker.servers[1].health.store(proxy::kCheckedDown);
    checker.servers[1].checks_passed.add(2);
    checker.servers[1].checks_failed.add(3);
    checker.servers[1].went_down.add();

    Rendered r = render(board);
    EXPECT_TRUE(has_line(r.metrics, "# TYPE c10k_proxy_server_up gauge")) << r.metrics;
    EXPECT_TRUE(has_line(r.metrics, R"(c10k_proxy_server_up{pool="web",server="a:1"} 1)"));
    EXPECT_TRUE(has_line(r.metrics, R"(c10k_proxy_server_up{pool="web",server="b:1"} 0)"));
    EXPECT_TRUE(has_line(r.metrics, "# TYPE c10k_proxy_health_checks_total counter"));
    EXPECT_TRUE(has_line(
        r.metrics, R"(c10k_proxy_health_checks_total{pool="web",server="b:1",result="ok"} 2)"));
    EXPECT_TRUE(has_line(
        r.metrics, R"(c10k_proxy_health_checks_total{pool="web",server="b:1",result="failed"} 3)"));
    EXPECT_TRUE(has_line(
        r.metrics, R"(c10k_proxy_health_transitions_total{pool="web",server="b:1",to="down"} 1)"));
    EXPECT_TRUE(has_line(
        r.metrics, R"(c10k_proxy_health_transitions_total{pool="web",server="b:1",to="up"} 0)"));
    // Every family's samples follow its own TYPE line, before the next family's.
    EXPECT_LT(r.metrics.find("# TYPE c10k_proxy_health_checks_total"),
              r.metrics.find("c10k_proxy_health_checks_total{"));
    EXPECT_LT(r.metrics.rfind("c10k_proxy_health_checks_total{"),
              r.metrics.find("# TYPE c10k_proxy_health_transitions_total"));

    EXPECT_EQ(server_json(r, 0)["health"].string, "up");
    EXPECT_EQ(server_json(r, 0)["checks"].number, 7);
    EXPECT_EQ(server_json(r, 0)["failed_checks"].number, 0);
    EXPECT_EQ(server_json(r, 1)["health"].string, "down");
    EXPECT_EQ(server_json(r, 1)["checks"].number, 5);
    EXPECT_EQ(server_json(r, 1)["failed_checks"].number, 3);
    EXPECT_EQ(server_json(r, 1)["health_transitions"].number, 1);
}

TEST(ProxyMetrics, WithoutChecksThereIsNoHealthFamilyAndServersAreUnchecked) {
    auto board = std::make_shared<proxy::PoolBoard>("default", std::vector<std::string>{"a:1"}, 8);
    board->claim().servers[0].requests.add(2);
    Rendered r = render(board);
    EXPECT_EQ(r.metrics.find("c10k_proxy_server_up"), std::string::npos) << r.metrics;
    EXPECT_EQ(r.metrics.find("c10k_proxy_health_"), std::string::npos) << r.metrics;
    EXPECT_TRUE(has_line(r.metrics, R"(c10k_proxy_ejected{pool="default",server="a:1"} 0)"))
        << r.metrics;
    EXPECT_EQ(server_json(r, 0)["health"].string, "unchecked");
    EXPECT_EQ(server_json(r, 0)["checks"].number, 0);
}

TEST(ProxyMetrics, OneProcessSeeingAServerDownMakesItDownAndChecksAreSummed) {
    auto board = std::make_shared<proxy::PoolBoard>("default", std::vector<std::string>{"a:1"}, 8);
    // Two processes' checking loops and a loop that does not check.
    proxy::PoolBoard::Slot first = board->claim();
    proxy::PoolBoard::Slot second = board->claim();
    board->claim();
    first.servers[0].health.store(proxy::kCheckedUp);
    first.servers[0].checks_passed.add(4);
    second.servers[0].health.store(proxy::kCheckedDown);
    second.servers[0].checks_failed.add(3);
    Rendered r = render(board);
    EXPECT_TRUE(has_line(r.metrics, R"(c10k_proxy_server_up{pool="default",server="a:1"} 0)"))
        << r.metrics;
    EXPECT_EQ(server_json(r, 0)["checks"].number, 7);

    // Both UP: up. A checker gone (its slot reset) leaves the other's view.
    second.servers[0].health.store(proxy::kCheckedUp);
    EXPECT_EQ(board->totals().servers[0].health, proxy::ServerTotals::Health::up);
    first.servers[0].health.store(proxy::kUnchecked);
    second.servers[0].health.store(proxy::kUnchecked);
    EXPECT_EQ(board->totals().servers[0].health, proxy::ServerTotals::Health::unchecked);
}

TEST(ProxyMetrics, EjectedCountsTheLoopsWithAnEjectionInForce) {
    auto board = std::make_shared<proxy::PoolBoard>("default", std::vector<std::string>{"a:1"}, 8);
    proxy::PoolBoard::Slot one = board->claim();
    proxy::PoolBoard::Slot two = board->claim();
    one.servers[0].ejected_until_ms.store(1'000);
    two.servers[0].ejected_until_ms.store(2'000);
    EXPECT_EQ(board->totals(500).servers[0].ejected, 2u);
    EXPECT_EQ(board->totals(1'500).servers[0].ejected, 1u);
    EXPECT_EQ(board->totals(2'000).servers[0].ejected, 0u);
}

}  // namespace
}  // namespace c10k::admin

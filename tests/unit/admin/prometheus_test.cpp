// /metrics text: every sample line is well formed, each family is declared once before its
// samples, and the values are the board's sums.

#include "admin/prometheus.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "push/hub.hpp"

namespace c10k::admin {
namespace {

/// Parses the exposition text: sample name with labels -> value. Fails the test on a line that
/// is neither a comment nor `name{labels} value`, or on a sample before its family's TYPE.
std::map<std::string, double> parse(const std::string& text) {
    std::map<std::string, double> samples;
    std::set<std::string> typed;
    std::istringstream in(text);
    std::string line;
    const std::regex sample_line(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)");
    const std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, type_line)) {
            EXPECT_TRUE(typed.insert(m[1]).second) << "declared twice: " << line;
            continue;
        }
        if (line.rfind("# HELP ", 0) == 0) continue;
        if (!std::regex_match(line, m, sample_line)) {
            ADD_FAILURE() << "not a sample line: '" << line << "'";
            continue;
        }
        std::string name = m[1];
        std::string family = name;
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            std::string s(suffix);
            if (family.size() > s.size() &&
                family.compare(family.size() - s.size(), s.size(), s) == 0 &&
                typed.count(family.substr(0, family.size() - s.size())) != 0) {
                family = family.substr(0, family.size() - s.size());
            }
        }
        EXPECT_TRUE(typed.count(family) != 0) << "sample before its TYPE: " << line;
        EXPECT_TRUE(samples.emplace(name + std::string(m[2]), std::stod(m[3])).second)
            << "sample twice: " << line;
    }
    return samples;
}

TEST(Prometheus, CountsWhatOverloadControlShed) {
    http::MetricsBoard board(4);
    http::LoopMetrics* a = board.claim();
    http::LoopMetrics* b = board.claim();
    a->overload_shed_requests.add(7);
    b->overload_shed_requests.add(3);
    b->overload_shed_connections.add(2);
    a->overload_closed_idle.add(5);
    MetricsContext context;
    context.engine = "epoll";
    context.version = "test";
    auto s = parse(render_prometheus(board.totals(), context));
    EXPECT_EQ(s["c10k_overload_shed_total{what=\"request\"}"], 10);
    EXPECT_EQ(s["c10k_overload_shed_total{what=\"connection\"}"], 2);
    EXPECT_EQ(s["c10k_overload_shed_total{what=\"idle_connection\"}"], 5);
}

TEST(Prometheus, RendersTheBoardsSums) {
    http::MetricsBoard board(4);
    http::LoopMetrics* a = board.claim();
    http::LoopMetrics* b = board.claim();
    a->count_status(200);
    a->count_status(200);
    b->count_status(404);
    a->count_latency(0);
    a->count_latency(3);
    b->count_latency(20'000);
    a->bytes_sent.add(1000);
    a->connections_opened.add(5);
    a->connections_closed.add(2);
    a->deferred_started.add(1);
    b->protocol_errors.add();
    b->timeouts[static_cast<std::size_t>(http::TimeoutKind::header)].add(4);
    b->timeouts[static_cast<std::size_t>(http::TimeoutKind::idle)].add(9);
    a->disk_helper_reads.add(6);
    b->disk_helper_reads.add(1);
    b->disk_helper_failures.add();

    MetricsContext context;
    context.engine = "epoll";
    context.version = "test";
    auto s = parse(render_prometheus(board.totals(), context));
    EXPECT_EQ(s["c10k_requests_total{engine=\"epoll\",status=\"200\"}"], 2);
    EXPECT_EQ(s["c10k_requests_total{engine=\"epoll\",status=\"404\"}"], 1);
    EXPECT_EQ(s.count("c10k_requests_total{engine=\"epoll\",status=\"500\"}"), 0u);
    EXPECT_EQ(s["c10k_request_duration_seconds_bucket{le=\"0.001\"}"], 1);
    EXPECT_EQ(s["c10k_request_duration_seconds_bucket{le=\"0.005\"}"], 2);  // cumulative
    EXPECT_EQ(s["c10k_request_duration_seconds_bucket{le=\"10\"}"], 2);
    EXPECT_EQ(s["c10k_request_duration_seconds_bucket{le=\"+Inf\"}"], 3);
    EXPECT_EQ(s["c10k_request_duration_seconds_count"], 3);
    EXPECT_DOUBLE_EQ(s["c10k_request_duration_seconds_sum"], 20.003);
    EXPECT_EQ(s["c10k_sent_bytes_total"], 1000);
    EXPECT_EQ(s["c10k_connections{state=\"active\"}"], 2);
    EXPECT_EQ(s["c10k_connections{state=\"waiting\"}"], 1);
    EXPECT_EQ(s["c10k_errors_total{kind=\"protocol\"}"], 1);
    EXPECT_EQ(s["c10k_errors_total{kind=\"header_timeout\"}"], 4);
    EXPECT_EQ(s["c10k_keepalive_timeouts_total"], 9);
    EXPECT_EQ(s["c10k_disk_helper_reads_total"], 7);  // summed over the loops
    EXPECT_EQ(s["c10k_disk_helper_failures_total"], 1);
    EXPECT_EQ(s["c10k_loops"], 2);
    EXPECT_EQ(s["c10k_build_info{version=\"test\",engine=\"epoll\"}"], 1);
    EXPECT_EQ(s.count("c10k_push_subscribers"), 0u);  // no hub, no push metrics
}

TEST(Prometheus, PushMetricsComeWithAHub) {
    http::MetricsBoard board(2);
    http::LoopMetrics* slot = board.claim();
    slot->push_subscribed.add(10);
    slot->push_unsubscribed.add(3);
    slot->push_delivered.add(70);
    push::Hub hub(push::PushOptions{}, push::RegistryOptions{});
    hub.registry().publish("score", "", "1-0", "", 0);
    hub.registry().publish("news", "", "x", "", 0);

    MetricsContext context;
    context.engine = "uring";
    context.hub = &hub;
    auto s = parse(render_prometheus(board.totals(), context));
    EXPECT_EQ(s["c10k_push_subscribers"], 7);
    EXPECT_EQ(s["c10k_push_subscriptions_total"], 10);
    EXPECT_EQ(s["c10k_push_deliveries_total"], 70);
    EXPECT_EQ(s["c10k_push_channels"], 2);
    EXPECT_EQ(s.count("c10k_redis_up"), 0u);  // no backplane
}

}  // namespace
}  // namespace c10k::admin

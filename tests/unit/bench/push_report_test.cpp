// The push part of the report: the "push" member of the c10k-bench/1 JSON is a contract
// (docs/bench.md), so every documented key must be there with its type; the summary and the CSV
// row must say what a reader needs.

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "bench/push_report.hpp"
#include "bench/report.hpp"
#include "support/json_value.hpp"

namespace c10k::bench {
namespace {

using Json = test::JsonValue;

BenchReport push_report(bool with_server, bool with_publisher) {
    BenchReport report;
    report.options.urls = {"http://127.0.0.1:8080/live/score"};
    report.options.push.transport = PushTransport::sse;
    report.options.push.subscribers = 1000;
    report.options.connections = 1000;
    report.duration_s = 10;
    PushReport push;
    PushStats& s = push.subscribers;
    s.subscribers = 1000;
    s.connected = 998;
    s.failed = 2;
    s.open = 998;
    s.deliveries = 9980;
    for (int i = 0; i < 9980; ++i) s.latency.record(200 + i % 300);
    s.gap_lost = 3;
    s.duplicates = 1;
    s.history_lost = 1;
    s.reconnects = 4;
    s.connect_failures[ECONNREFUSED] = 2;
    s.bad_status[503] = 1;
    push.unseen = 5;
    push.skipped = 2;
    push.window_ids = 10;
    for (const char* url :
         {"http://127.0.0.1:8080/live/score", "http://127.0.0.1:8090/live/score"}) {
        PushTargetReport target;
        target.url = url;
        target.subscribers = 500;
        target.expected = 500;
        target.deliveries = 4990;
        target.latency.record(250);
        target.spans.record(1100);
        target.gaps = 1;
        target.unseen = 2;
        push.targets.push_back(target);
    }
    push.messages.push_back(MessageReceipts{1'712'345'678'901'000'000, 1'712'345'678'901'000'000,
                                            1'712'345'678'901'200'000, 1'712'345'678'902'400'000,
                                            998, true});
    push.expected_subscribers = 1000;
    push.spans.record(1200);
    push.deliveries_per_s = 998;
    if (with_publisher) {
        push.has_publisher = true;
        report.options.push.publish_url = "http://127.0.0.1:8081/pub/score";
        report.options.push.publish_rate = 1;
        push.publisher.sent = 10;
        push.publisher.published = 10;
        push.publisher.error_status[500] = 1;
        push.publisher.ack_latency.record(300);
    }
    if (with_server) {
        ServerStats server;
        server.pids = {42};
        server.processes = 1;
        server.cpu_s = 0.5;
        server.rss_kb = 20000;
        server.rss_kb_before = 10000;
        report.server = server;
        push.cpu_us_per_delivery = 50.1;
        push.rss_bytes_per_subscriber = 10240;
    }
    report.push = push;
    return report;
}

Json parse(const BenchReport& report) {
    std::string text = format_json(report);
    auto root = test::parse_json(text);
    EXPECT_TRUE(root.has_value()) << text;
    return root.value_or(Json{});
}

void expect_numbers(const Json& object, std::initializer_list<const char*> keys) {
    for (const char* key : keys) EXPECT_TRUE(object[key].is_number()) << key;
}

TEST(PushJson, HasEveryDocumentedKey) {
    Json root = parse(push_report(true, true));
    EXPECT_EQ(root["schema"].string, json_schema_name);
    const Json& push = root["push"];
    ASSERT_TRUE(push.is_object());
    EXPECT_EQ(push["transport"].string, "sse");
    expect_numbers(push["subscribers"], {"target", "connected", "failed", "open", "expected",
                                         "reconnects", "disconnects", "connect_rate"});
    EXPECT_EQ(push["subscribers"]["failed_by_errno"]["ECONNREFUSED"].number, 2);
    EXPECT_EQ(push["subscribers"]["refused_by_status"]["503"].number, 1);
    const Json& publish = push["publish"];
    expect_numbers(publish, {"rate", "message_size", "sent", "acknowledged", "errors", "unanswered",
                             "connect_failures", "acks_without_id"});
    EXPECT_EQ(publish["errors"].number, 1);
    EXPECT_EQ(publish["error_status"]["500"].number, 1);
    EXPECT_TRUE(publish["url"].is_string());
    expect_numbers(publish["ack_latency_us"], {"p50", "p99", "max", "count"});
    expect_numbers(push, {"deliveries", "deliveries_per_s", "duplicated", "history_lost",
                          "without_id", "heartbeats", "long_poll_timeouts", "protocol_errors",
                          "server_cpu_us_per_delivery", "server_rss_bytes_per_subscriber"});
    for (const char* histogram : {"latency_us", "fanout_span_us"}) {
        expect_numbers(push[histogram],
                       {"p50", "p90", "p99", "p999", "min", "max", "mean", "count"});
    }
    EXPECT_LE(push["latency_us"]["p50"].number, push["latency_us"]["p99"].number);
    EXPECT_EQ(push["lost"]["total"].number, 10);
    EXPECT_EQ(push["lost"]["gaps"].number, 5);
    EXPECT_EQ(push["lost"]["never_seen"].number, 5);
    EXPECT_EQ(push["lost"]["acknowledged_messages"].number, 10);
    EXPECT_EQ(push["lost"]["skipped_acknowledged"].number, 2);
    EXPECT_EQ(push["lost"]["gaps_counted"].number, 3);
    const Json& targets = push["targets"];
    ASSERT_EQ(targets.array.size(), 2u);
    for (const Json& target : targets.array) {
        EXPECT_TRUE(target["url"].is_string());
        expect_numbers(target, {"subscribers", "expected", "reconnects", "deliveries", "duplicated",
                                "history_lost"});
        expect_numbers(target["latency_us"], {"p50", "p99", "max", "count"});
        expect_numbers(target["fanout_span_us"], {"p99", "max", "count"});
        EXPECT_EQ(target["lost"]["total"].number, 3);
        EXPECT_EQ(target["lost"]["gaps"].number, 1);
        EXPECT_EQ(target["lost"]["never_seen"].number, 2);
    }
    EXPECT_EQ(targets.array[1]["url"].string, "http://127.0.0.1:8090/live/score");
    // One row per message: the id as a string (it needs more than a double's 53 bits), times in
    // Unix microseconds, receipts, acknowledged.
    const Json& messages = push["messages"];
    ASSERT_EQ(messages.array.size(), 1u);
    const Json& row = messages.array[0];
    ASSERT_EQ(row.array.size(), 6u);
    EXPECT_EQ(row.array[0].string, "1712345678901000000");
    EXPECT_EQ(row.array[1].number, 1712345678901000.0);
    EXPECT_EQ(row.array[2].number, 1712345678901200.0);
    EXPECT_EQ(row.array[3].number, 1712345678902400.0);
    EXPECT_EQ(row.array[4].number, 998);
    EXPECT_TRUE(row.array[5].boolean);
    EXPECT_EQ(push["server_cpu_us_per_delivery"].number, 50.1);
}

TEST(PushJson, NullsWithoutServerOrPublisherAndOnRequestRuns) {
    BenchReport many = push_report(false, false);
    many.push->messages_omitted = true;  // more messages than max_reported_messages
    Json root = parse(many);
    EXPECT_TRUE(root["push"]["messages"].is_null());
    EXPECT_TRUE(root["push"]["publish"].is_null());
    EXPECT_NE(root["push"].find("server_cpu_us_per_delivery"), nullptr);
    EXPECT_TRUE(root["push"]["server_cpu_us_per_delivery"].is_null());
    BenchReport requests;
    requests.options.urls = {"http://127.0.0.1:1/"};
    Json plain = parse(requests);
    EXPECT_NE(plain.find("push"), nullptr);
    EXPECT_TRUE(plain["push"].is_null());
}

TEST(PushSummary, SaysWhatWasLostAndHowFast) {
    std::string text = format_summary(push_report(true, true));
    for (const char* part :
         {"sse subscribers", "Delivery latency", "99.9%", "Deliveries/sec",
          "Lost: 10 (5 in gaps, 5 never seen", "Duplicated: 1", "History lost: 1", "us/delivery",
          "per subscriber", "Fan-out span", "ECONNREFUSED: 2", "status 503: 1", "Published: 10",
          "@ http://127.0.0.1:8090/live/score: 500 subscribers, 4990 deliveries"}) {
        EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
    }
}

TEST(PushCsv, HeaderAndRowHaveTheSameColumns) {
    char path[] = "/tmp/c10k-bench-push-csv-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::string error;
    ASSERT_TRUE(append_csv(path, push_report(true, true), error)) << error;
    ASSERT_TRUE(append_csv(path, push_report(false, false), error)) << error;
    std::ifstream file(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    unlink(path);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], push_csv_header());
    auto columns = [](const std::string& line) {
        return std::count(line.begin(), line.end(), ',') + 1;
    };
    EXPECT_EQ(columns(lines[1]), columns(lines[0]));
    EXPECT_EQ(columns(lines[2]), columns(lines[0]));
}

}  // namespace
}  // namespace c10k::bench

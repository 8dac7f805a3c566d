// The status page's pieces on the admin listener, without sockets: /status.json carries the
// board's sums (and the push and Redis counters when there are some), and /status with its
// embedded assets is served with the right types and caching.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "admin/admin_handler.hpp"
#include "admin/assets.hpp"
#include "admin/status_json.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "push/hub.hpp"
#include "support/json_value.hpp"

namespace c10k::admin {
namespace {

using test::JsonValue;

JsonValue parse(const std::string& text) {
    auto value = test::parse_json(text);
    EXPECT_TRUE(value.has_value()) << "not JSON: " << text;
    return value ? *value : JsonValue{};
}

/// The value of the header line `name` the handler added, or "<absent>".
std::string header_of(const http::Response& response, std::string_view name) {
    std::string_view lines = response.header_lines();
    while (!lines.empty()) {
        std::size_t end = lines.find("\r\n");
        std::string_view line = lines.substr(0, end);
        std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && http::iequals(line.substr(0, colon), name)) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return std::string(value);
        }
        if (end == std::string_view::npos) break;
        lines.remove_prefix(end + 2);
    }
    return "<absent>";
}

/// The bytes the response would send as its body.
std::string body_of(http::Response response) {
    switch (response.body_kind()) {
        case http::Response::BodyKind::text:
            return response.text();
        case http::Response::BodyKind::blob:
            return response.blob()->data.substr(response.body_offset(), response.body_length());
        default:
            return {};
    }
}

http::Response call(AdminHandler& handler, std::string_view target,
                    http::Method method = http::Method::get) {
    http::Request request;
    request.method = method;
    request.target = target;
    http::Response response;
    handler.handle(request, response);
    return response;
}

std::uint64_t at(const JsonValue& value, std::string_view a, std::string_view b) {
    return static_cast<std::uint64_t>(value[a][b].integer());
}

TEST(StatusJson, CarriesTheBoardsSumsByClass) {
    http::MetricsBoard board(4);
    http::LoopMetrics* a = board.claim();
    http::LoopMetrics* b = board.claim();
    a->count_status(101);
    for (int i = 0; i < 5; ++i) a->count_status(200);
    b->count_status(204);
    b->count_status(304);
    a->count_status(404);
    b->count_status(404);
    b->count_status(431);
    a->count_status(503);
    a->count_latency(0);
    a->count_latency(3);
    b->count_latency(3);
    b->count_latency(20'000);
    a->bytes_received.add(700);
    b->bytes_sent.add(9000);
    a->connections_opened.add(6);
    b->connections_closed.add(2);
    a->deferred_started.add(3);
    a->deferred_ended.add(2);
    b->protocol_errors.add(4);
    b->timeouts[static_cast<std::size_t>(http::TimeoutKind::header)].add(5);
    b->timeouts[static_cast<std::size_t>(http::TimeoutKind::body)].add(6);
    b->timeouts[static_cast<std::size_t>(http::TimeoutKind::send)].add(7);
    b->timeouts[static_cast<std::size_t>(http::TimeoutKind::idle)].add(8);

    MetricsContext context;
    context.engine = "uring";
    context.version = "1.2.3 \"test\"";
    context.start_time_s = 1'700'000'000;
    JsonValue s =
        parse(render_status_json(board.totals(), context, StatusClock{123'456, 1'700'000'042'500}));

    EXPECT_EQ(s["engine"].string, "uring");
    EXPECT_EQ(s["version"].string, "1.2.3 \"test\"");  // quoted, not pasted
    EXPECT_EQ(s["start_time_s"].integer(), 1'700'000'000);
    EXPECT_EQ(s["now_ms"].integer(), 123'456);
    EXPECT_EQ(s["unix_ms"].integer(), 1'700'000'042'500);
    EXPECT_EQ(s["loops"].integer(), 2);

    EXPECT_EQ(at(s, "requests", "total"), 12u);
    EXPECT_EQ(at(s, "requests", "1xx"), 1u);
    EXPECT_EQ(at(s, "requests", "2xx"), 6u);
    EXPECT_EQ(at(s, "requests", "3xx"), 1u);
    EXPECT_EQ(at(s, "requests", "4xx"), 3u);
    EXPECT_EQ(at(s, "requests", "5xx"), 1u);

    EXPECT_EQ(at(s, "bytes", "received"), 700u);
    EXPECT_EQ(at(s, "bytes", "sent"), 9000u);

    EXPECT_EQ(at(s, "connections", "accepted"), 6u);
    EXPECT_EQ(at(s, "connections", "closed"), 2u);
    EXPECT_EQ(at(s, "connections", "waiting"), 1u);
    EXPECT_EQ(at(s, "connections", "active"), 3u);  // 4 open, 1 of them waiting
    EXPECT_EQ(at(s, "connections", "keepalive_timeouts"), 8u);

    EXPECT_EQ(at(s, "errors", "protocol"), 4u);
    EXPECT_EQ(at(s, "errors", "header_timeout"), 5u);
    EXPECT_EQ(at(s, "errors", "body_timeout"), 6u);
    EXPECT_EQ(at(s, "errors", "send_timeout"), 7u);

    const JsonValue& bounds = s["latency"]["bounds_ms"];
    const JsonValue& counts = s["latency"]["counts"];
    ASSERT_EQ(bounds.array.size(), std::size(http::kLatencyBucketsMs));
    ASSERT_EQ(counts.array.size(), http::kLatencyBuckets);  // one more: +Inf
    for (std::size_t i = 0; i < bounds.array.size(); ++i) {
        EXPECT_EQ(bounds.array[i].integer(), http::kLatencyBucketsMs[i]);
    }
    EXPECT_EQ(counts.array[0].integer(), 1);  // 0 ms, in the 1 ms bucket
    EXPECT_EQ(counts.array[2].integer(),
              2);  // 3 ms, in the 5 ms bucket (per bucket, not cumulative)
    EXPECT_EQ(counts.array.back().integer(), 1);  // 20 s, past the last bound
    EXPECT_EQ(at(s, "latency", "sum_ms"), 20'006u);

    EXPECT_EQ(s.find("push"), nullptr);  // no hub
    EXPECT_EQ(s.find("redis"), nullptr);
}

TEST(StatusJson, AnEmptyBoardIsAllZeros) {
    http::MetricsBoard board(2);
    JsonValue s = parse(render_status_json(board.totals(), MetricsContext{}, StatusClock{}));
    EXPECT_EQ(s["engine"].string, "");
    EXPECT_EQ(at(s, "requests", "total"), 0u);
    EXPECT_EQ(at(s, "connections", "active"), 0u);
    for (const JsonValue& count : s["latency"]["counts"].array) EXPECT_EQ(count.integer(), 0);
}

TEST(StatusJson, PushCountersComeWithAHub) {
    http::MetricsBoard board(2);
    http::LoopMetrics* slot = board.claim();
    slot->push_subscribed.add(10);
    slot->push_unsubscribed.add(3);
    slot->push_delivered.add(70);
    slot->push_closed_slow.add(2);
    push::Hub hub(push::PushOptions{}, push::RegistryOptions{});
    hub.registry().publish("score", "", "1-0", "", 0);
    hub.registry().publish("news", "", "x", "", 0);

    MetricsContext context;
    context.hub = &hub;
    JsonValue s = parse(render_status_json(board.totals(), context, StatusClock{}));
    EXPECT_EQ(at(s, "push", "subscribers"), 7u);
    EXPECT_EQ(at(s, "push", "subscriptions"), 10u);
    EXPECT_EQ(at(s, "push", "deliveries"), 70u);
    EXPECT_EQ(at(s, "push", "slow_closed"), 2u);
    EXPECT_EQ(at(s, "push", "channels"), 2u);
    EXPECT_EQ(s.find("redis"), nullptr);  // no backplane
}

TEST(StatusJson, RedisCountersComeWithABackplane) {
    http::MetricsBoard board(2);
    push::PushOptions options;
    options.redis = push::RedisBackplaneOptions{};
    push::Hub hub(options, push::RegistryOptions{});
    push::BackplaneStats& stats = hub.backplane_stats();
    stats.published = 11;
    stats.publish_failed = 2;
    stats.received = 13;
    stats.connection_losses = 1;
    stats.commands_up = true;

    MetricsContext context;
    context.hub = &hub;
    JsonValue s = parse(render_status_json(board.totals(), context, StatusClock{}));
    ASSERT_NE(s.find("redis"), nullptr);
    EXPECT_EQ(s["redis"]["up"].kind, JsonValue::Kind::boolean);
    EXPECT_FALSE(s["redis"]["up"].boolean);  // the Pub/Sub connection is not up
    EXPECT_EQ(at(s, "redis", "published"), 11u);
    EXPECT_EQ(at(s, "redis", "publish_failed"), 2u);
    EXPECT_EQ(at(s, "redis", "received"), 13u);
    EXPECT_EQ(at(s, "redis", "connection_losses"), 1u);

    stats.subscriptions_up = true;
    s = parse(render_status_json(board.totals(), context, StatusClock{}));
    EXPECT_TRUE(s["redis"]["up"].boolean);
}

TEST(StatusClock, MovesForward) {
    StatusClock first = StatusClock::now();
    StatusClock second = StatusClock::now();
    EXPECT_GE(second.monotonic_ms, first.monotonic_ms);
    EXPECT_GT(first.unix_ms, 1'600'000'000'000);  // Unix milliseconds, not seconds
}

class AdminStatus : public ::testing::Test {
protected:
    http::MetricsBoard board_{2};
    AdminHandler handler_{board_, MetricsContext{"epoll", "9.9", 1'700'000'000, nullptr}};
};

TEST_F(AdminStatus, StatusJsonIsServedFresh) {
    board_.claim()->count_status(200);
    http::Response r = call(handler_, "/status.json");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-store");
    JsonValue s = parse(body_of(r));
    EXPECT_EQ(s["engine"].string, "epoll");
    EXPECT_EQ(at(s, "requests", "2xx"), 1u);
    EXPECT_GT(s["unix_ms"].integer(), 0);
}

TEST_F(AdminStatus, ThePageIsHtmlThatLoadsOnlyTheAdminListenersAssets) {
    http::Response r = call(handler_, "/status");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(header_of(r, "Content-Type"), "text/html; charset=utf-8");
    std::string policy = header_of(r, "Content-Security-Policy");
    EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("connect-src 'self'"), std::string::npos) << policy;
    std::string page = body_of(r);
    EXPECT_EQ(page, std::string(status_page_html()));
    EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
    EXPECT_NE(page.find("src=\"/assets/uPlot.iife.min.js\""), std::string::npos);
    EXPECT_NE(page.find("href=\"/assets/uPlot.min.css\""), std::string::npos);
    EXPECT_NE(page.find("/status.json"), std::string::npos);
    EXPECT_EQ(page.find("http://"), std::string::npos) << "the page names another origin";
    EXPECT_EQ(page.find("https://"), std::string::npos) << "the page names another origin";
}

TEST_F(AdminStatus, AssetsAreTheVendoredUplotWithTypesAndCaching) {
    http::Response js = call(handler_, "/assets/uPlot.iife.min.js");
    EXPECT_EQ(js.status(), 200);
    EXPECT_EQ(header_of(js, "Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_NE(header_of(js, "Cache-Control").find("max-age="), std::string::npos);
    EXPECT_EQ(header_of(js, "X-Content-Type-Options"), "nosniff");
    std::string script = body_of(js);
    EXPECT_GT(script.size(), 10'000u);
    EXPECT_NE(script.find("var uPlot="), std::string::npos);  // the IIFE build's global
    EXPECT_EQ(script.back(), '\n') << "the file ends as the package's does, no NUL added";

    http::Response css = call(handler_, "/assets/uPlot.min.css");
    EXPECT_EQ(css.status(), 200);
    EXPECT_EQ(header_of(css, "Content-Type"), "text/css; charset=utf-8");
    EXPECT_NE(header_of(css, "Cache-Control").find("max-age="), std::string::npos);
    EXPECT_NE(body_of(css).find(".uplot"), std::string::npos);

    // A second request shares the first one's bytes rather than copying them again.
    http::Response again = call(handler_, "/assets/uPlot.iife.min.js");
    ASSERT_EQ(again.body_kind(), http::Response::BodyKind::blob);
    EXPECT_EQ(again.blob().get(), js.blob().get());
}

TEST_F(AdminStatus, UnknownAssetsAndPathsAre404) {
    for (std::string_view path : {"/assets/", "/assets/uPlot.js", "/assets/../metrics",
                                  "/assets/uPlot.min.css/x", "/status/", "/status.html"}) {
        http::Response r = call(handler_, path);
        EXPECT_EQ(r.status(), 404) << path;
        EXPECT_EQ(header_of(r, "Content-Type"), "text/plain; charset=utf-8") << path;
    }
}

TEST_F(AdminStatus, OnlyGetAndHead) {
    http::Response r = call(handler_, "/status.json", http::Method::post);
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(call(handler_, "/assets/uPlot.min.css", http::Method::head).status(), 200);
}

TEST_F(AdminStatus, TheIndexLinksTheStatusPage) {
    std::string index = body_of(call(handler_, "/"));
    EXPECT_NE(index.find("href=/status>"), std::string::npos) << index;
    EXPECT_NE(index.find("href=/metrics>"), std::string::npos) << index;
}

TEST(AdminAssets, EveryAssetIsFoundByItsPath) {
    ASSERT_FALSE(assets().empty());
    for (const Asset& asset : assets()) {
        EXPECT_EQ(find_asset(asset.path), &asset);
        EXPECT_EQ(asset.path.rfind("/assets/", 0), 0u);
        EXPECT_FALSE(asset.bytes.empty()) << asset.path;
    }
    EXPECT_EQ(find_asset("/status"), nullptr);
}

}  // namespace
}  // namespace c10k::admin

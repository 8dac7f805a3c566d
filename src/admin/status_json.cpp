#include "admin/status_json.hpp"

#include <fmt/format.h>

#include <chrono>

#include "admin/proxy_metrics.hpp"
#include "admin/tcp_metrics.hpp"
#include "core/json.hpp"
#include "push/hub.hpp"

namespace c10k::admin {

namespace {

std::uint64_t minus(std::uint64_t a, std::uint64_t b) {
    return a > b ? a - b : 0;
}

template <class Clock>
std::int64_t milliseconds_of() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
}

void requests_json(std::string& out, const http::MetricsTotals& t) {
    // Status classes 1xx..5xx: the board counts each code from 100 to 599.
    std::uint64_t classes[5] = {};
    for (int i = 0; i < http::LoopMetrics::kStatuses; ++i) {
        classes[(i + http::LoopMetrics::kFirstStatus) / 100 - 1] += t.responses[i];
    }
    std::uint64_t total = 0;
    for (std::uint64_t n : classes) total += n;
    out += fmt::format(R"("requests":{{"total":{},"1xx":{},"2xx":{},"3xx":{},"4xx":{},"5xx":{}}})",
                       total, classes[0], classes[1], classes[2], classes[3], classes[4]);
}

void connections_json(std::string& out, const http::MetricsTotals& t) {
    using http::TimeoutKind;
    auto timeouts = [&](TimeoutKind kind) { return t.timeouts[static_cast<std::size_t>(kind)]; };
    // The same split as /metrics' c10k_connections gauge: waiting is a deferred response, a
    // stream or an upgraded connection; active is every other open connection.
    std::uint64_t open = minus(t.connections_opened, t.connections_closed);
    std::uint64_t waiting = minus(t.deferred_started, t.deferred_ended);
    out += fmt::format(R"("connections":{{"accepted":{},"closed":{},"active":{},"waiting":{},)"
                       R"("keepalive_timeouts":{}}},)",
                       t.connections_opened, t.connections_closed, minus(open, waiting), waiting,
                       timeouts(TimeoutKind::idle));
    out += fmt::format(
        R"("errors":{{"protocol":{},"header_timeout":{},"body_timeout":{},"send_timeout":{}}})",
        t.protocol_errors, timeouts(TimeoutKind::header), timeouts(TimeoutKind::body),
        timeouts(TimeoutKind::send));
}

void latency_json(std::string& out, const http::MetricsTotals& t) {
    out += fmt::format(R"("latency":{{"bounds_ms":[{}],"counts":[{}],"sum_ms":{}}})",
                       fmt::join(http::kLatencyBucketsMs, ","), fmt::join(t.latency, ","),
                       t.latency_sum_ms);
}

void push_json(std::string& out, const http::MetricsTotals& t, push::Hub& hub) {
    out += fmt::format(
        R"(,"push":{{"subscribers":{},"subscriptions":{},"deliveries":{},"slow_closed":{},)"
        R"("channels":{}}})",
        minus(t.push_subscribed, t.push_unsubscribed), t.push_subscribed, t.push_delivered,
        t.push_closed_slow, hub.registry().channel_count());
    if (!hub.external()) return;
    const push::BackplaneStats& s = hub.backplane_stats();
    out +=
        fmt::format(R"(,"redis":{{"up":{},"published":{},"publish_failed":{},"received":{},)"
                    R"("duplicates":{},"gaps":{},"caught_up":{},"history_lost":{},)"
                    R"("connection_losses":{}}})",
                    s.commands_up.load() && s.subscriptions_up.load(), s.published.load(),
                    s.publish_failed.load(), s.received.load(), s.duplicates.load(), s.gaps.load(),
                    s.caught_up.load(), s.history_lost.load(), s.connection_losses.load());
}

}  // namespace

StatusClock StatusClock::now() {
    return StatusClock{milliseconds_of<std::chrono::steady_clock>(),
                       milliseconds_of<std::chrono::system_clock>()};
}

std::string render_status_json(const http::MetricsTotals& totals, const MetricsContext& context,
                               const StatusClock& clock) {
    std::string out;
    out.reserve(1024);
    out += fmt::format(
        R"({{"engine":{},"version":{},"start_time_s":{},"now_ms":{},"unix_ms":{},"loops":{},)",
        core::json_quote(context.engine), core::json_quote(context.version), context.start_time_s,
        clock.monotonic_ms, clock.unix_ms, totals.writers);
    requests_json(out, totals);
    out += fmt::format(R"(,"bytes":{{"received":{},"sent":{}}},)", totals.bytes_received,
                       totals.bytes_sent);
    connections_json(out, totals);
    out += ",";
    latency_json(out, totals);
    if (context.hub != nullptr) push_json(out, totals, *context.hub);
    proxy_json(out, context);
    tcp_json(out, context);
    out += "}";
    return out;
}

}  // namespace c10k::admin

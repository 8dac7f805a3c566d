#include "admin/prometheus.hpp"

#include <fmt/format.h>

#include <string_view>

#include "admin/proxy_metrics.hpp"
#include "admin/tcp_metrics.hpp"
#include "core/handover.hpp"
#include "push/hub.hpp"

namespace c10k::admin {

namespace {

// Each family: its HELP and TYPE lines, then its samples, as the exposition format asks.
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, std::uint64_t value) {
    out += fmt::format("{} {}\n", name, value);
}

void one(std::string& out, std::string_view name, std::string_view type, std::string_view help,
         std::uint64_t value) {
    family(out, name, type, help);
    sample(out, name, value);
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b) {
    return a > b ? a - b : 0;
}

void http_metrics(std::string& out, const http::MetricsTotals& t, const MetricsContext& c) {
    family(out, "c10k_requests_total", "counter",
           "Responses sent (their head queued), by status code and engine.");
    for (int i = 0; i < http::LoopMetrics::kStatuses; ++i) {
        if (t.responses[i] == 0) continue;
        out += fmt::format("c10k_requests_total{{engine=\"{}\",status=\"{}\"}} {}\n", c.engine,
                           i + http::LoopMetrics::kFirstStatus, t.responses[i]);
    }

    family(out, "c10k_request_duration_seconds", "histogram",
           "From a request's last byte received to its response head queued (the loop's clock, "
           "1 ms resolution; deferred responses count their wait).");
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < http::kLatencyBuckets; ++b) {
        cumulative += t.latency[b];
        std::string le = b + 1 < http::kLatencyBuckets
                             ? fmt::format("{}", http::kLatencyBucketsMs[b] / 1000.0)
                             : std::string("+Inf");
        out +=
            fmt::format("c10k_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
    }
    out += fmt::format("c10k_request_duration_seconds_sum {}\n", t.latency_sum_ms / 1000.0);
    out += fmt::format("c10k_request_duration_seconds_count {}\n", cumulative);

    one(out, "c10k_received_bytes_total", "counter", "Bytes read from clients.", t.bytes_received);
    one(out, "c10k_sent_bytes_total", "counter", "Bytes written to clients.", t.bytes_sent);
    one(out, "c10k_connections_accepted_total", "counter", "Connections accepted.",
        t.connections_opened);
    one(out, "c10k_connections_closed_total", "counter", "Connections closed.",
        t.connections_closed);
    family(out, "c10k_connections", "gauge",
           "Connections open now, by state: waiting is a deferred response, a stream or an "
           "upgraded connection; active is the rest.");
    std::uint64_t open = minus(t.connections_opened, t.connections_closed);
    std::uint64_t waiting = minus(t.deferred_started, t.deferred_ended);
    out += fmt::format("c10k_connections{{state=\"active\"}} {}\n", minus(open, waiting));
    out += fmt::format("c10k_connections{{state=\"waiting\"}} {}\n", waiting);

    family(out, "c10k_errors_total", "counter",
           "Requests refused by the parser (malformed or too large) and connections closed "
           "for lack of progress, by kind.");
    using http::TimeoutKind;
    auto timeouts = [&](TimeoutKind kind) { return t.timeouts[static_cast<std::size_t>(kind)]; };
    out += fmt::format("c10k_errors_total{{kind=\"protocol\"}} {}\n", t.protocol_errors);
    out += fmt::format("c10k_errors_total{{kind=\"header_timeout\"}} {}\n",
                       timeouts(TimeoutKind::header));
    out +=
        fmt::format("c10k_errors_total{{kind=\"body_timeout\"}} {}\n", timeouts(TimeoutKind::body));
    out +=
        fmt::format("c10k_errors_total{{kind=\"send_timeout\"}} {}\n", timeouts(TimeoutKind::send));
    one(out, "c10k_keepalive_timeouts_total", "counter",
        "Idle keep-alive connections closed at --keepalive-timeout.", timeouts(TimeoutKind::idle));
    one(out, "c10k_disk_helper_reads_total", "counter",
        "File ranges not in the page cache that a disk helper read for an event loop.",
        t.disk_helper_reads);
    one(out, "c10k_disk_helper_failures_total", "counter",
        "Disk helper reads that came back short or failed (the file shrank under a response, or "
        "an I/O error): the connection was closed.",
        t.disk_helper_failures);
    family(out, "c10k_overload_shed_total", "counter",
           "Work shed by overload control (--overload-target): requests answered 503, new "
           "connections refused, idle keep-alive connections closed.");
    out +=
        fmt::format("c10k_overload_shed_total{{what=\"request\"}} {}\n", t.overload_shed_requests);
    out += fmt::format("c10k_overload_shed_total{{what=\"connection\"}} {}\n",
                       t.overload_shed_connections);
    out += fmt::format("c10k_overload_shed_total{{what=\"idle_connection\"}} {}\n",
                       t.overload_closed_idle);
    one(out, "c10k_loops", "gauge",
        "Event loops, threads or processes serving connections now (each writes its own "
        "counters).",
        t.writers);
}

void push_metrics(std::string& out, const http::MetricsTotals& t, push::Hub& hub) {
    one(out, "c10k_push_subscribers", "gauge",
        "Subscribers connected now (SSE, long-poll, WebSocket subscriptions).",
        minus(t.push_subscribed, t.push_unsubscribed));
    one(out, "c10k_push_subscriptions_total", "counter", "Subscriptions made.", t.push_subscribed);
    one(out, "c10k_push_deliveries_total", "counter", "Messages written to subscribers.",
        t.push_delivered);
    one(out, "c10k_push_slow_closed_total", "counter",
        "Subscribers closed because more than --push-max-queue was waiting for them.",
        t.push_closed_slow);
    one(out, "c10k_push_channels", "gauge", "Channels this process holds.",
        hub.registry().channel_count());
    if (!hub.external()) return;
    const push::BackplaneStats& s = hub.backplane_stats();
    one(out, "c10k_redis_up", "gauge",
        "1 while both Redis connections (commands and Pub/Sub) are up.",
        s.commands_up.load() && s.subscriptions_up.load() ? 1 : 0);
    one(out, "c10k_redis_published_total", "counter", "Publishes Redis accepted.",
        s.published.load());
    one(out, "c10k_redis_publish_failed_total", "counter",
        "Publishes answered 503 or 504 (Redis down, an error, or no answer in time).",
        s.publish_failed.load());
    one(out, "c10k_redis_received_total", "counter", "Messages received through Pub/Sub.",
        s.received.load());
    one(out, "c10k_redis_duplicates_total", "counter",
        "Messages received that this server already held.", s.duplicates.load());
    one(out, "c10k_redis_gaps_total", "counter",
        "Messages received out of chain: a catch-up from the stream ran.", s.gaps.load());
    one(out, "c10k_redis_caught_up_total", "counter",
        "Messages read back from streams by catch-ups.", s.caught_up.load());
    one(out, "c10k_redis_history_lost_total", "counter",
        "Channels whose stream did not continue (subscribers got the history-lost notice).",
        s.history_lost.load());
    one(out, "c10k_redis_connection_losses_total", "counter",
        "Times the connection to Redis "
        "was lost.",
        s.connection_losses.load());
}

/// The staged engine's stages (docs/STAGED.md); nothing for engines that have none.
void stage_metrics(std::string& out, const http::MetricsTotals& t) {
    bool any = false;
    for (std::size_t k = 0; k < http::kStages; ++k) any = any || t.stage_threads_started[k] != 0;
    if (!any) return;
    auto each = [&](std::string_view name, auto value) {
        for (std::size_t k = 0; k < http::kStages; ++k) {
            out += fmt::format("{}{{stage=\"{}\"}} {}\n", name, http::kStageNames[k], value(k));
        }
    };
    family(out, "c10k_stage_queue_depth", "gauge",
           "Work waiting in each stage's queue now (staged engine).");
    each("c10k_stage_queue_depth",
         [&](std::size_t k) { return minus(t.stage_enqueued[k], t.stage_dequeued[k]); });
    family(out, "c10k_stage_threads", "gauge",
           "Threads in each stage's pool now, as its controller sized it (staged engine).");
    each("c10k_stage_threads", [&](std::size_t k) {
        return minus(t.stage_threads_started[k], t.stage_threads_stopped[k]);
    });
    family(out, "c10k_stage_threads_started_total", "counter",
           "Threads each stage's controller started, the first ones included.");
    each("c10k_stage_threads_started_total",
         [&](std::size_t k) { return t.stage_threads_started[k]; });
    family(out, "c10k_stage_dequeued_total", "counter",
           "Work taken from each stage's queue by its threads.");
    each("c10k_stage_dequeued_total", [&](std::size_t k) { return t.stage_dequeued[k]; });
    family(out, "c10k_stage_queue_wait_seconds_total", "counter",
           "Time work waited in each stage's queue, summed; divided by c10k_stage_dequeued_total "
           "it is the mean queueing delay.");
    each("c10k_stage_queue_wait_seconds_total",
         [&](std::size_t k) { return static_cast<double>(t.stage_wait_us[k]) / 1e6; });
}

}  // namespace

std::string render_prometheus(const http::MetricsTotals& totals, const MetricsContext& context) {
    std::string out;
    out.reserve(8192);
    family(out, "c10k_build_info", "gauge", "Always 1; the labels say what runs.");
    out += fmt::format("c10k_build_info{{version=\"{}\",engine=\"{}\"}} 1\n", context.version,
                       context.engine);
    one(out, "c10k_start_time_seconds", "gauge", "When the server started, Unix seconds.",
        static_cast<std::uint64_t>(context.start_time_s));
    core::HandoverCounts handovers = core::handover_counts();
    family(out, "c10k_handovers_total", "counter",
           "New processes that took the server over: reload (SIGHUP) or upgrade (SIGUSR2). "
           "Carried from each process to the next, unlike the others.");
    out += fmt::format("c10k_handovers_total{{kind=\"reload\"}} {}\n", handovers.reloads);
    out += fmt::format("c10k_handovers_total{{kind=\"upgrade\"}} {}\n", handovers.upgrades);
    one(out, "c10k_handovers_failed_total", "counter",
        "New processes that exited before taking over (an invalid config, a broken binary).",
        handovers.failed);
    http_metrics(out, totals, context);
    stage_metrics(out, totals);
    if (context.hub != nullptr) push_metrics(out, totals, *context.hub);
    proxy_prometheus(out, context);
    tcp_prometheus(out, context);
    return out;
}

std::string prometheus_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace c10k::admin

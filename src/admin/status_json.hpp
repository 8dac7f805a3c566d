#pragma once
// /status.json on the admin listener: the totals the status page charts, as one JSON object.
// The page polls it every second and draws rates from the differences between two snapshots,
// so every count is a running total, and the snapshot says when it was taken on a clock that
// does not jump (`now_ms`).

#include <cstdint>
#include <string>

#include "admin/prometheus.hpp"
#include "http/metrics.hpp"

namespace c10k::admin {

/// When a snapshot is taken.
struct StatusClock {
    /// A monotonic clock's milliseconds: the page divides count differences by its differences,
    /// which a wall-clock step (NTP, an operator) would otherwise distort.
    std::int64_t monotonic_ms = 0;
    /// Unix milliseconds: the charts' time axis and the uptime.
    std::int64_t unix_ms = 0;

    static StatusClock now();
};

/// Renders the snapshot:
///   engine, version, start_time_s, now_ms, unix_ms, loops,
///   requests {total, 1xx..5xx}, bytes {received, sent},
///   connections {accepted, closed, active, waiting, keepalive_timeouts},
///   errors {protocol, header_timeout, body_timeout, send_timeout},
///   latency {bounds_ms (the finite upper bounds), counts (one more: the last is +Inf), sum_ms},
///   push {subscribers, subscriptions, deliveries, slow_closed, channels}   (with a hub only),
///   redis {up, published, publish_failed, received, duplicates, gaps, caught_up,
///          history_lost, connection_losses}                                 (with Redis only),
///   proxy {pools: [{name, queued, queue_full, queue_timeouts, unavailable,
///          servers: [{name, requests, in_flight, responses, response_5xx, failures, retries,
///                     ejections, connects, connections}]}]}            (`c10k proxy` only).
std::string render_status_json(const http::MetricsTotals& totals, const MetricsContext& context,
                               const StatusClock& clock);

}  // namespace c10k::admin

#pragma once
// `c10k proxy`'s pools and servers in /metrics and /status.json: their counters summed over
// every loop and process (proxy/board.hpp), labelled by pool and server.

#include <string>

#include "admin/prometheus.hpp"

namespace c10k::admin {

/// Prometheus families c10k_proxy_*: per server (labels pool, server) requests, responses,
/// 5xx responses, failures, retries, ejections, connections opened, and the gauges in flight,
/// open connections, draining and ejected now; for servers under active checks their state
/// (server_up), checks by result and transitions; per pool requests queued and refused (queue
/// full, queue timeout, no server).
void proxy_prometheus(std::string& out, const MetricsContext& context);

/// ,"proxy":{"pools":[{"name", "queued", "queue_full", "queue_timeouts", "unavailable",
/// "servers":[{"name", "requests", "in_flight", "responses", "response_5xx", "failures",
/// "retries", "ejections", "connects", "connections", "draining", "health" ("up", "down" or
/// "unchecked"), "checks", "failed_checks", "health_transitions", "ejected"}]}]}; nothing
/// without pools.
void proxy_json(std::string& out, const MetricsContext& context);

}  // namespace c10k::admin

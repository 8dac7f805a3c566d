#pragma once
// `c10k proxy --mode tcp`'s pool in /metrics: the relay's counters summed over every loop and
// process (proxy/tcp/tcp_board.hpp), labelled by pool and server. Names are c10k_proxy_tcp_*:
// a relay counts connections and bytes where the HTTP proxy's c10k_proxy_* count requests, so
// the two modes never share a family whose meaning would differ between them.

#include <string>

#include "admin/prometheus.hpp"

namespace c10k::admin {

/// Per server (labels pool, server): connections relayed and open, connect failures, bytes
/// each way (label direction), and whether the active checks hold it up; per pool: clients
/// closed at once (label reason: max_connections or no_server). Nothing without a tcp pool.
void tcp_prometheus(std::string& out, const MetricsContext& context);

/// ,"proxy_tcp":{"pools":[{"name", "refused_max_connections", "refused_no_server",
/// "servers":[{"name", "connections_total", "connections", "connect_failures",
/// "bytes_to_server", "bytes_to_client", "up"}]}]}; nothing without a tcp pool.
void tcp_json(std::string& out, const MetricsContext& context);

}  // namespace c10k::admin

#pragma once
// /metrics in the Prometheus text exposition format (version 0.0.4): the MetricsBoard's sums,
// and the push hub's and Redis backplane's counters when the server has them.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/metrics.hpp"

namespace c10k::push {
class Hub;
}

namespace c10k::proxy {
class PoolBoard;
}

namespace c10k::proxy::tcp {
class TcpBoard;
}

namespace c10k::admin {

/// What the counters alone do not say.
struct MetricsContext {
    std::string engine;             ///< label of the request counters
    std::string version;            ///< c10k_build_info's label
    std::int64_t start_time_s = 0;  ///< process start, Unix seconds
    push::Hub* hub = nullptr;       ///< push counters and channels; null without --push
    /// `c10k proxy`'s pools (their counters: proxy/board.hpp); empty for `serve`.
    std::vector<std::shared_ptr<proxy::PoolBoard>> proxy_pools;
    /// `c10k proxy --mode tcp`'s pool (its counters: proxy/tcp/tcp_board.hpp); else empty.
    std::vector<std::shared_ptr<proxy::tcp::TcpBoard>> tcp_pools;
};

/// Renders every metric, names prefixed `c10k_`, counters suffixed `_total`.
std::string render_prometheus(const http::MetricsTotals& totals, const MetricsContext& context);

/// A label value as the exposition format writes it: backslash, quote and newline escaped.
std::string prometheus_label(std::string_view value);

}  // namespace c10k::admin

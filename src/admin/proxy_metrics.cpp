#include "admin/proxy_metrics.hpp"

#include <fmt/format.h>

#include <vector>

#include "core/json.hpp"
#include "proxy/board.hpp"

namespace c10k::admin {

namespace {

std::vector<proxy::PoolTotals> totals_of(const MetricsContext& context) {
    std::vector<proxy::PoolTotals> pools;
    for (const auto& board : context.proxy_pools) pools.push_back(board->totals());
    return pools;
}

struct ServerFamily {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t proxy::ServerTotals::*value;
};

constexpr ServerFamily kServerFamilies[] = {
    {"c10k_proxy_requests_total", "counter", "Requests sent to the server (each attempt).",
     &proxy::ServerTotals::requests},
    {"c10k_proxy_responses_total", "counter", "Complete responses relayed from the server.",
     &proxy::ServerTotals::responses},
    {"c10k_proxy_responses_5xx_total", "counter", "Of those, responses with a 5xx status.",
     &proxy::ServerTotals::response_5xx},
    {"c10k_proxy_failures_total", "counter",
     "Attempts that failed: connect refused or timed out, reset or closed before the answer, "
     "no answer in time, a malformed answer.",
     &proxy::ServerTotals::failures},
    {"c10k_proxy_retries_total", "counter",
     "Requests sent to another server after failing on this one.", &proxy::ServerTotals::retries},
    {"c10k_proxy_ejections_total", "counter", "Times the server was taken out for failing.",
     &proxy::ServerTotals::ejections},
    {"c10k_proxy_connects_total", "counter",
     "Connections opened to the server (in steady state, kept-alive ones are reused instead).",
     &proxy::ServerTotals::connects},
    {"c10k_proxy_in_flight", "gauge", "Requests at the server now.",
     &proxy::ServerTotals::in_flight},
    {"c10k_proxy_connections", "gauge", "Connections to the server open now, busy or idle.",
     &proxy::ServerTotals::connections},
};

std::uint64_t draining_value(const proxy::ServerTotals& server) {
    return server.draining ? 1 : 0;
}

bool checked(const proxy::ServerTotals& server) {
    return server.health != proxy::ServerTotals::Health::unchecked;
}

/// Server-labelled samples of one family, for the servers `include` takes, with `extra` labels
/// after pool and server (",result=\"ok\"").
template <typename Include, typename Value>
void server_samples(std::string& out, const std::vector<proxy::PoolTotals>& pools,
                    std::string_view name, std::string_view extra, Include include, Value value) {
    for (const auto& pool : pools) {
        for (const auto& server : pool.servers) {
            if (!include(server)) continue;
            out += fmt::format("{}{{pool=\"{}\",server=\"{}\"{}}} {}\n", name, prometheus_label(pool.name),
                               prometheus_label(server.name), extra, value(server));
        }
    }
}

/// The active checks (only servers of pools that have them) and passive ejection.
void health_prometheus(std::string& out, const std::vector<proxy::PoolTotals>& pools) {
    out +=
        "# HELP c10k_proxy_ejected Loops that have the server ejected now for failing requests "
        "(passive ejection is per loop).\n# TYPE c10k_proxy_ejected gauge\n";
    server_samples(
        out, pools, "c10k_proxy_ejected", "", [](const proxy::ServerTotals&) { return true; },
        [](const proxy::ServerTotals& s) { return s.ejected; });
    bool any_checked = false;
    for (const auto& pool : pools) {
        for (const auto& server : pool.servers) any_checked = any_checked || checked(server);
    }
    // Families with no sample are legal, but only noise where nothing is checked.
    if (!any_checked) return;
    out +=
        "# HELP c10k_proxy_server_up 1 while the active checks have the server UP, 0 while "
        "DOWN (0 as soon as one process's checks have it DOWN); only with --health-check.\n"
        "# TYPE c10k_proxy_server_up gauge\n";
    server_samples(out, pools, "c10k_proxy_server_up", "", checked,
                   [](const proxy::ServerTotals& s) {
                       return s.health == proxy::ServerTotals::Health::up ? 1 : 0;
                   });
    out +=
        "# HELP c10k_proxy_health_checks_total Active checks of the server, by result (every "
        "process's).\n# TYPE c10k_proxy_health_checks_total counter\n";
    server_samples(out, pools, "c10k_proxy_health_checks_total", ",result=\"ok\"", checked,
                   [](const proxy::ServerTotals& s) { return s.checks_passed; });
    server_samples(out, pools, "c10k_proxy_health_checks_total", ",result=\"failed\"", checked,
                   [](const proxy::ServerTotals& s) { return s.checks_failed; });
    out +=
        "# HELP c10k_proxy_health_transitions_total Times the active checks took the server "
        "DOWN (to=\"down\") or brought it back UP (to=\"up\").\n"
        "# TYPE c10k_proxy_health_transitions_total counter\n";
    server_samples(out, pools, "c10k_proxy_health_transitions_total", ",to=\"down\"", checked,
                   [](const proxy::ServerTotals& s) { return s.went_down; });
    server_samples(out, pools, "c10k_proxy_health_transitions_total", ",to=\"up\"", checked,
                   [](const proxy::ServerTotals& s) { return s.came_up; });
}

const char* health_text(proxy::ServerTotals::Health health) {
    switch (health) {
        case proxy::ServerTotals::Health::up:
            return "up";
        case proxy::ServerTotals::Health::down:
            return "down";
        case proxy::ServerTotals::Health::unchecked:
            break;
    }
    return "unchecked";
}

struct PoolFamily {
    const char* name;
    const char* help;
    std::uint64_t proxy::PoolTotals::*value;
};

constexpr PoolFamily kPoolFamilies[] = {
    {"c10k_proxy_queued_total", "Requests that waited for a connection to a server.",
     &proxy::PoolTotals::queued},
    {"c10k_proxy_queue_full_total", "Requests refused with 503: the queue was full.",
     &proxy::PoolTotals::queue_full},
    {"c10k_proxy_queue_timeouts_total",
     "Requests refused with 503: no connection came free in time.",
     &proxy::PoolTotals::queue_timeouts},
    {"c10k_proxy_unavailable_total", "Requests no server of the pool could take.",
     &proxy::PoolTotals::unavailable},
    {"c10k_proxy_total_timeouts_total",
     "Requests ended by --total-timeout (504, or a cut stream once the answer began).",
     &proxy::PoolTotals::total_timeouts},
};

}  // namespace

void proxy_prometheus(std::string& out, const MetricsContext& context) {
    if (context.proxy_pools.empty()) return;
    std::vector<proxy::PoolTotals> pools = totals_of(context);
    for (const ServerFamily& f : kServerFamilies) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
        for (const auto& pool : pools) {
            for (const auto& server : pool.servers) {
                out += fmt::format("{}{{pool=\"{}\",server=\"{}\"}} {}\n", f.name, prometheus_label(pool.name),
                                   prometheus_label(server.name), server.*f.value);
            }
        }
    }
    out +=
        "# HELP c10k_proxy_draining 1 while an operator drains the server (POST "
        "/proxy/drain): it takes no new request.\n# TYPE c10k_proxy_draining gauge\n";
    server_samples(
        out, pools, "c10k_proxy_draining", "", [](const proxy::ServerTotals&) { return true; },
        draining_value);
    health_prometheus(out, pools);
    for (const PoolFamily& f : kPoolFamilies) {
        out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", f.name, f.help, f.name);
        for (const auto& pool : pools) {
            out += fmt::format("{}{{pool=\"{}\"}} {}\n", f.name, prometheus_label(pool.name), pool.*f.value);
        }
    }
}

void proxy_json(std::string& out, const MetricsContext& context) {
    if (context.proxy_pools.empty()) return;
    out += R"(,"proxy":{"pools":[)";
    bool first_pool = true;
    for (const auto& pool : totals_of(context)) {
        if (!first_pool) out += ',';
        first_pool = false;
        out += fmt::format(
            R"({{"name":{},"queued":{},"queue_full":{},"queue_timeouts":{},"unavailable":{},)"
            R"("total_timeouts":{},"servers":[)",
            core::json_quote(pool.name), pool.queued, pool.queue_full, pool.queue_timeouts,
            pool.unavailable, pool.total_timeouts);
        bool first_server = true;
        for (const auto& s : pool.servers) {
            if (!first_server) out += ',';
            first_server = false;
            out += fmt::format(
                R"({{"name":{},"requests":{},"in_flight":{},"responses":{},"response_5xx":{},)"
                R"("failures":{},"retries":{},"ejections":{},"connects":{},"connections":{},)"
                R"("draining":{},"health":"{}","checks":{},"failed_checks":{},)"
                R"("health_transitions":{},"ejected":{}}})",
                core::json_quote(s.name), s.requests, s.in_flight, s.responses, s.response_5xx,
                s.failures, s.retries, s.ejections, s.connects, s.connections,
                s.draining ? "true" : "false", health_text(s.health),
                s.checks_passed + s.checks_failed, s.checks_failed, s.went_down + s.came_up,
                s.ejected);
        }
        out += "]}";
    }
    out += "]}";
}

}  // namespace c10k::admin

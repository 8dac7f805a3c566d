#include "admin/tcp_metrics.hpp"

#include <fmt/format.h>

#include <vector>

#include "core/json.hpp"
#include "proxy/tcp/tcp_board.hpp"

namespace c10k::admin {

namespace {

using Totals = proxy::tcp::TcpServerTotals;

struct ServerFamily {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t Totals::*value;
};

constexpr ServerFamily kServerFamilies[] = {
    {"c10k_proxy_tcp_connections_total", "counter", "Client connections relayed to the server.",
     &Totals::connects},
    {"c10k_proxy_tcp_connections", "gauge", "Relayed connections to the server open now.",
     &Totals::connections},
    {"c10k_proxy_tcp_connect_failures_total", "counter",
     "Connects to the server refused, failed or timed out (the client went to the next one).",
     &Totals::connect_failures},
};

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void tcp_prometheus(std::string& out, const MetricsContext& context) {
    if (context.tcp_pools.empty()) return;
    std::vector<proxy::tcp::TcpPoolTotals> pools;
    for (const auto& board : context.tcp_pools) pools.push_back(board->totals());
    for (const ServerFamily& f : kServerFamilies) {
        header(out, f.name, f.type, f.help);
        for (const auto& pool : pools) {
            for (const auto& server : pool.servers) {
                out += fmt::format("{}{{pool=\"{}\",server=\"{}\"}} {}\n", f.name, prometheus_label(pool.name),
                                   prometheus_label(server.name), server.*f.value);
            }
        }
    }
    header(out, "c10k_proxy_tcp_bytes_total", "counter",
           "Bytes relayed, by direction: to_server (from clients) or to_client (from the server).");
    for (const auto& pool : pools) {
        for (const auto& server : pool.servers) {
            for (auto [direction, value] : {std::pair{"to_server", server.bytes_to_server},
                                            std::pair{"to_client", server.bytes_to_client}}) {
                out += fmt::format(
                    "c10k_proxy_tcp_bytes_total{{pool=\"{}\",server=\"{}\",direction=\"{}\"}} {}\n",
                    prometheus_label(pool.name), prometheus_label(server.name), direction, value);
            }
        }
    }
    header(out, "c10k_proxy_tcp_server_up", "gauge",
           "1 while the active checks hold the server UP (always 1 without --health-check), 0 "
           "while DOWN: it is then never picked.");
    for (const auto& pool : pools) {
        for (const auto& server : pool.servers) {
            out += fmt::format("c10k_proxy_tcp_server_up{{pool=\"{}\",server=\"{}\"}} {}\n",
                               prometheus_label(pool.name), prometheus_label(server.name), server.up ? 1 : 0);
        }
    }
    header(out, "c10k_proxy_tcp_refused_total", "counter",
           "Clients closed at once, by reason: max_connections (--max-connections relays were "
           "open) or no_server (every server DOWN, or every connect failed).");
    for (const auto& pool : pools) {
        for (auto [reason, value] : {std::pair{"max_connections", pool.over_capacity},
                                     std::pair{"no_server", pool.unavailable}}) {
            out += fmt::format("c10k_proxy_tcp_refused_total{{pool=\"{}\",reason=\"{}\"}} {}\n",
                               prometheus_label(pool.name), reason, value);
        }
    }
}

void tcp_json(std::string& out, const MetricsContext& context) {
    if (context.tcp_pools.empty()) return;
    out += R"(,"proxy_tcp":{"pools":[)";
    bool first_pool = true;
    for (const auto& board : context.tcp_pools) {
        proxy::tcp::TcpPoolTotals pool = board->totals();
        if (!first_pool) out += ',';
        first_pool = false;
        out += fmt::format(
            R"({{"name":{},"refused_max_connections":{},"refused_no_server":{},"servers":[)",
            core::json_quote(pool.name), pool.over_capacity, pool.unavailable);
        bool first_server = true;
        for (const auto& s : pool.servers) {
            if (!first_server) out += ',';
            first_server = false;
            out += fmt::format(
                R"({{"name":{},"connections_total":{},"connections":{},"connect_failures":{},)"
                R"("bytes_to_server":{},"bytes_to_client":{},"up":{}}})",
                core::json_quote(s.name), s.connects, s.connections, s.connect_failures,
                s.bytes_to_server, s.bytes_to_client, s.up ? "true" : "false");
        }
        out += "]}";
    }
    out += "]}";
}

}  // namespace c10k::admin

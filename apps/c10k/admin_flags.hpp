#pragma once
// `c10k serve --admin-listen ADDR`: the admin listener (/metrics), kept apart from the public
// listeners so that operators can bind it to loopback or a management network.

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/net.hpp"
#include "engine/engine.hpp"
#include "engine/listeners.hpp"
#include "http/metrics.hpp"
#include "proxy/board.hpp"
#include "proxy/tcp/tcp_board.hpp"
#include "push/hub.hpp"

namespace c10k::app {

struct AdminFlags {
    std::string listen;  ///< empty: no admin listener, and no counting
};

void add_admin_flags(CLI::App& command, AdminFlags& flags);

/// With --admin-listen: maps the counters' board (before any fork, so that every process of
/// the server counts into it), points `config` at it, appends the admin endpoint to
/// `endpoints` (last: it comes after the publish listener) and wraps `handlers` so that the
/// admin listener serves /metrics (with `proxy_pools`' counters, for `c10k proxy`). Returns
/// the board (null without --admin-listen). Throws std::runtime_error saying what is wrong with
/// the address.
std::shared_ptr<http::MetricsBoard> enable_admin(
    const AdminFlags& flags, const std::string& engine, std::shared_ptr<push::Hub> hub,
    engine::ServerConfig& config, std::vector<core::Endpoint>& endpoints,
    engine::HandlerFactory& handlers,
    std::vector<std::shared_ptr<proxy::PoolBoard>> proxy_pools = {});

/// `c10k proxy --mode tcp --admin-listen`: as enable_admin, but the relay serves no HTTP, so
/// `admin_handlers` becomes a factory of admin handlers alone (the TcpEngine runs them on the
/// admin listener, the last endpoint), with `tcp_pool`'s counters in /metrics.
std::shared_ptr<http::MetricsBoard> enable_tcp_admin(
    const AdminFlags& flags, engine::ServerConfig& config, std::vector<core::Endpoint>& endpoints,
    engine::HandlerFactory& admin_handlers, std::shared_ptr<proxy::tcp::TcpBoard> tcp_pool);

}  // namespace c10k::app

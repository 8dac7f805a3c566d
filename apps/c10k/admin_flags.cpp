#include "admin_flags.hpp"

#include <ctime>
#include <stdexcept>

#include "admin/admin_handler.hpp"

namespace c10k::app {

void add_admin_flags(CLI::App& command, AdminFlags& flags) {
    command.add_option("--admin-listen", flags.listen,
                       "Serve Prometheus metrics at /metrics and a live status page at /status "
                       "on this address, HOST:PORT (keep it on loopback or a management network; "
                       "default: off)");
}

namespace {

/// The admin endpoint, parsed; throws saying what is wrong with it.
core::Endpoint admin_endpoint(const AdminFlags& flags, std::size_t listeners) {
    core::Endpoint endpoint;
    std::string error;
    if (!core::parse_endpoint(flags.listen, endpoint, error))
        throw std::runtime_error("--admin-listen: " + error);
    if (listeners >= 255) throw std::runtime_error("--admin-listen: too many listeners");
    return endpoint;
}

admin::MetricsContext metrics_context(const std::string& engine) {
    admin::MetricsContext context;
    context.engine = engine;
    context.version = C10K_VERSION;
    context.start_time_s = static_cast<std::int64_t>(std::time(nullptr));
    return context;
}

}  // namespace

std::shared_ptr<http::MetricsBoard> enable_admin(
    const AdminFlags& flags, const std::string& engine, std::shared_ptr<push::Hub> hub,
    engine::ServerConfig& config, std::vector<core::Endpoint>& endpoints,
    engine::HandlerFactory& handlers, std::vector<std::shared_ptr<proxy::PoolBoard>> proxy_pools) {
    if (flags.listen.empty()) return nullptr;
    core::Endpoint endpoint = admin_endpoint(flags, endpoints.size());
    auto board = std::make_shared<http::MetricsBoard>();
    config.metrics = board.get();
    auto index = static_cast<std::uint8_t>(endpoints.size());
    endpoints.push_back(endpoint);
    admin::MetricsContext context = metrics_context(engine);
    // The hub outlives every handler: serve keeps its own reference until the engine returns.
    context.hub = hub.get();
    context.proxy_pools = std::move(proxy_pools);
    handlers = admin::with_admin(std::move(handlers), index, board, std::move(context));
    return board;
}

std::shared_ptr<http::MetricsBoard> enable_tcp_admin(
    const AdminFlags& flags, engine::ServerConfig& config, std::vector<core::Endpoint>& endpoints,
    engine::HandlerFactory& admin_handlers, std::shared_ptr<proxy::tcp::TcpBoard> tcp_pool) {
    if (flags.listen.empty()) return nullptr;
    endpoints.push_back(admin_endpoint(flags, endpoints.size()));
    auto board = std::make_shared<http::MetricsBoard>();
    config.metrics = board.get();
    admin::MetricsContext context = metrics_context("tcp-relay");
    context.tcp_pools.push_back(std::move(tcp_pool));
    // Every request the admin loop gets came in on the admin listener: no router needed.
    admin_handlers = [board, context = std::move(context)]() -> std::unique_ptr<http::Handler> {
        return std::make_unique<admin::AdminHandler>(*board, context);
    };
    return board;
}

}  // namespace c10k::app

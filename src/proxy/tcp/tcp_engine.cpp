#include "proxy/tcp/tcp_engine.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "engine/listeners.hpp"
#include "proxy/tcp/tcp_loop.hpp"

namespace c10k::proxy::tcp {

namespace {

/// The admin listener's sockets (one per relay loop of the first process, as SO_REUSEPORT
/// spreads its clients over all of them) served by one loop of the epoll engine: /metrics
/// speaks HTTP, which the relay's loops do not, and its few requests need no more than one.
int serve_admin(const engine::ServerConfig& config, const engine::HandlerFactory& handlers,
                std::vector<core::unique_fd> sockets, engine::StopSource& stop) {
    engine::ServerConfig admin = config;
    admin.threads = 1;
    admin.max_connections = 0;
    admin.heartbeat = {};        // the relay's loop 0 beats
    admin.access_log_path = "";  // --access-log is an HTTP mode flag
    admin.proxy_protocol_from = nullptr;
    try {
        // As inherited sockets: every one is served as it is, nothing bound or handed over
        // (the relay's ListenerSet owns the originals and passes them on at a reload).
        engine::ListenerSet listeners(std::move(sockets), {});
        return engine::create("epoll")->run(admin, handlers, listeners, stop);
    } catch (const std::exception& e) {
        core::log(core::LogLevel::error, "tcp relay: admin listener: {}", e.what());
        stop.request();
        return 1;
    }
}

}  // namespace

int TcpEngine::run(const engine::ServerConfig& config, const engine::HandlerFactory& handlers,
                   engine::ListenerSet& listeners, engine::StopSource& stop) {
    int threads = std::max(config.threads, 1);
    // The heartbeat is loop 0's, as in the event engines: a stuck loop 0 stops the beat.
    engine::Heartbeat heartbeat = config.heartbeat;
    // Per process, as the HTTP proxy's: each process checks for itself (a forked worker would
    // otherwise trust a board nobody in it writes), and --max-connections is the process's cap
    // as it is for every engine.
    std::unique_ptr<HealthBoard> health;
    if (options_.pool.health.kind != HealthCheck::Kind::off) {
        health = std::make_unique<HealthBoard>(options_.pool.servers.size());
    }
    engine::ConnectionBudget budget(config.max_connections);
    std::shared_ptr<TcpBoard> board = options_.board;
    if (!board) {
        std::vector<std::string> names;
        for (const auto& server : options_.pool.servers) names.push_back(server.name);
        board = std::make_shared<TcpBoard>("default", std::move(names),
                                           static_cast<std::size_t>(threads));
    }
    TcpShared shared{health.get(), &budget, board.get()};
    std::vector<std::unique_ptr<TcpLoop>> loops;
    std::vector<core::unique_fd> admin_sockets;
    for (int i = 0; i < threads; ++i) {
        auto fds = listeners.for_loop();
        if (!fds) {
            core::log(core::LogLevel::error, "tcp relay: listeners for loop {}: {}", i,
                      std::strerror(fds.error()));
            return 1;
        }
        // The admin endpoint is the last, and processes after the first of a group have no
        // socket for it (ListenerSet::last_in_first_process_only): their sets are shorter.
        if (handlers && !fds->empty() && fds->size() == listeners.endpoints().size()) {
            admin_sockets.push_back(std::move(fds->back()));
            fds->pop_back();
        }
        loops.push_back(std::make_unique<TcpLoop>(options_, std::move(*fds), stop.fd(),
                                                  config.shutdown_grace_ms,
                                                  i == 0 ? &heartbeat : nullptr, shared, i == 0));
    }
    int admin_status = 0;
    std::thread admin;
    if (!admin_sockets.empty()) {
        admin = std::thread(
            [&] { admin_status = serve_admin(config, handlers, std::move(admin_sockets), stop); });
    }
    std::vector<int> status(loops.size(), 0);
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < loops.size(); ++i) {
        workers.emplace_back([&, i] { status[i] = loops[i]->run(); });
    }
    status[0] = loops[0]->run();
    for (auto& worker : workers) worker.join();
    if (admin.joinable()) admin.join();
    for (int s : status) {
        if (s != 0) return s;
    }
    return admin_status;
}

}  // namespace c10k::proxy::tcp

#include "proxy/tcp/tcp_engine.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "proxy/tcp/tcp_loop.hpp"

namespace c10k::proxy::tcp {

int TcpEngine::run(const engine::ServerConfig& config, const engine::HandlerFactory& /*handlers*/,
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
    for (int i = 0; i < threads; ++i) {
        auto fds = listeners.for_loop();
        if (!fds) {
            core::log(core::LogLevel::error, "tcp relay: listeners for loop {}: {}", i,
                      std::strerror(fds.error()));
            return 1;
        }
        loops.push_back(std::make_unique<TcpLoop>(options_, std::move(*fds), stop.fd(),
                                                  config.shutdown_grace_ms,
                                                  i == 0 ? &heartbeat : nullptr, shared, i == 0));
    }
    std::vector<int> status(loops.size(), 0);
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < loops.size(); ++i) {
        workers.emplace_back([&, i] { status[i] = loops[i]->run(); });
    }
    status[0] = loops[0]->run();
    for (auto& worker : workers) worker.join();
    for (int s : status) {
        if (s != 0) return s;
    }
    return 0;
}

}  // namespace c10k::proxy::tcp

#include "engine/loop_runner.hpp"

#include <fcntl.h>

#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "engine/readiness_loop.hpp"

namespace c10k::engine {

core::unique_fd open_access_log(const ServerConfig& config) {
    if (config.access_log_path.empty()) return core::unique_fd{};
    core::unique_fd fd(
        ::open(config.access_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        throw std::runtime_error(fmt::format("cannot open access log '{}': {}",
                                             config.access_log_path, std::strerror(errno)));
    }
    return fd;
}

int run_readiness_loops(const ServerConfig& config, const HandlerFactory& handlers,
                        ListenerSet& listeners, StopSource& stop, const PollerFactory& pollers) {
    core::unique_fd access_log = open_access_log(config);
    ConnectionBudget budget(config.max_connections);
    LoopShared shared{config, budget, stop, access_log.get()};
    int threads = config.threads > 0 ? config.threads : 1;

    // Build every loop first, so that a failure (a listener that cannot be opened) stops the
    // start before any thread serves.
    std::vector<std::unique_ptr<ReadinessLoop>> loops;
    for (int i = 0; i < threads; ++i) {
        auto fds = listeners.for_loop();
        if (!fds) {
            throw std::runtime_error(
                fmt::format("cannot open a listener for loop {}: {}", i, std::strerror(fds.error())));
        }
        loops.push_back(std::make_unique<ReadinessLoop>(pollers(), std::move(fds.value()),
                                                        handlers(), shared));
    }
    std::vector<int> results(loops.size(), 0);
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < loops.size(); ++i) {
        workers.emplace_back([&, i] { results[i] = loops[i]->run(); });
    }
    results[0] = loops[0]->run();
    for (auto& worker : workers) worker.join();
    for (int result : results) {
        if (result != 0) return result;
    }
    return 0;
}

}  // namespace c10k::engine

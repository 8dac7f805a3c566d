#pragma once
// Runs one event loop per thread (shared-nothing: each with its own SO_REUSEPORT listeners,
// handler, timers and buffers). Every readiness engine is this runner plus a Poller factory; the
// io_uring engine uses the same runner with its own loop type.

#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "engine/engine.hpp"
#include "engine/poller.hpp"
#include "engine/readiness_loop.hpp"

namespace c10k::engine {

using PollerFactory = std::function<std::unique_ptr<Poller>()>;

int run_readiness_loops(const ServerConfig& config, const HandlerFactory& handlers,
                        ListenerSet& listeners, StopSource& stop, const PollerFactory& pollers);

/// The access log's descriptor, shared by all loops of a process and reopened in place at
/// SIGUSR1 (core/reopen.hpp) while it is open.
class AccessLogFile {
public:
    AccessLogFile() = default;
    AccessLogFile(core::unique_fd fd, const std::string& path);
    ~AccessLogFile();
    AccessLogFile(AccessLogFile&& other) noexcept : fd_(std::move(other.fd_)) {}
    AccessLogFile& operator=(AccessLogFile&&) = delete;
    /// -1 when no access log is configured.
    int get() const { return fd_.get(); }
    /// Leaves the file open and reopened at SIGUSR1, for writers that outlive its owner (the
    /// process exit closes it).
    void release() { (void)fd_.release(); }

private:
    core::unique_fd fd_;
};

/// Opens the access log for appending; get() is -1 when none is configured. Throws
/// std::runtime_error with the reason when it cannot be opened.
AccessLogFile open_access_log(const ServerConfig& config);

/// Builds config.threads loops with `make(listeners, handler, shared)` and runs each on its own
/// thread (the first on the calling thread). Loops are all built before any runs, so that a
/// failure (a listener that cannot be opened) stops the start before anything serves. A loop
/// that fails asks the others to stop. `Loop` needs `int run()`.
template <class Loop>
int run_loops(
    const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
    StopSource& stop,
    const std::function<std::unique_ptr<Loop>(std::vector<core::unique_fd>,
                                              std::unique_ptr<http::Handler>, LoopShared)>& make) {
    AccessLogFile access_log = open_access_log(config);
    ConnectionBudget budget(config.max_connections);
    LoopShared shared{config, budget, stop, access_log.get()};
    int threads = config.threads > 0 ? config.threads : 1;
    std::vector<std::unique_ptr<Loop>> loops;
    for (int i = 0; i < threads; ++i) {
        auto fds = listeners.for_loop();
        if (!fds) {
            throw std::runtime_error(fmt::format("cannot open a listener for loop {}: {}", i,
                                                 std::strerror(fds.error())));
        }
        LoopShared mine = shared;
        mine.loop_index = static_cast<std::size_t>(i);
        loops.push_back(make(std::move(fds.value()), handlers(), mine));
    }
    std::vector<int> results(loops.size(), 0);
    auto run_one = [&](std::size_t i) {
        results[i] = loops[i]->run();
        if (results[i] != 0) stop.request();
    };
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < loops.size(); ++i) workers.emplace_back(run_one, i);
    run_one(0);
    for (auto& worker : workers) worker.join();
    for (int result : results) {
        if (result != 0) return result;
    }
    return 0;
}

}  // namespace c10k::engine

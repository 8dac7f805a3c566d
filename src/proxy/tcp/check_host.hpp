#pragma once
// The active checks of `c10k proxy --mode tcp`. The HTTP proxy's HealthChecker runs on an
// http::LoopContext: handler timers and a DescriptorWatcher. A TcpLoop has neither, so this
// gives the checker both on an epoll set of its own, which the loop watches as one descriptor
// (readable when a check's socket is ready) and whose timers it runs each iteration. The checks
// are the very same as the HTTP proxy's (tcp connect, http:/PATH GET, rise and fall), and so is
// the HealthBoard their results go to, which every loop's Pool reads.

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "core/unique_fd.hpp"
#include "http/context.hpp"
#include "proxy/health.hpp"
#include "proxy/health_checker.hpp"
#include "proxy/pool.hpp"

namespace c10k::proxy::tcp {

class CheckHost final : private http::DescriptorWatcher {
public:
    /// Starts checking every server of `pool` by `pool.health` at once. `pool` and `board`
    /// must outlive the host.
    CheckHost(const PoolSpec& pool, HealthBoard& board);
    ~CheckHost();
    CheckHost(const CheckHost&) = delete;
    CheckHost& operator=(const CheckHost&) = delete;

    /// Readable while a check's socket is ready: the loop watches it (level-triggered).
    int fd() const { return epoll_.get(); }
    /// Serves the checks' sockets that are ready.
    void on_ready();
    /// Fires the checks' timers that are due (starts, timeouts); once per loop iteration.
    void run_timers();
    /// Milliseconds until the next check timer, -1 for none.
    std::int64_t next_timeout_ms();

private:
    /// A no-op: the checker's context wants a handler, and the relay has no HTTP to handle.
    class NoHandler final : public http::Handler {
    public:
        void handle(const http::Request&, http::Response&) override {}
    };

    struct Watched {
        http::DescriptorTask* task = nullptr;
        std::uint32_t events = 0;
    };

    bool watch(int fd, std::uint32_t events, http::DescriptorTask& task) override;
    void unwatch(int fd) override;

    NoHandler handler_;
    http::LoopContext context_;
    core::unique_fd epoll_;
    std::unordered_map<int, Watched> watched_;
    /// Last: destroyed first, while what it unwatches from is still there.
    std::unique_ptr<HealthChecker> checker_;
};

}  // namespace c10k::proxy::tcp

// Apache's prefork model: N worker processes started in advance, all waiting on the one shared
// listener, each serving one connection at a time with blocking I/O (BlockingWorker). The
// kernel hands each new connection to one waiting worker; with all N busy, new clients wait in
// the listen backlog. The number of workers is config.threads (`c10k serve --processes N`
// sets it for this engine; 16 when not given).
//
// Workers wait with poll() on the listener and the stop eventfd and then accept() without
// blocking, so that a stop request reaches a worker that is waiting for a client. The parent
// only supervises: it restarts a worker that died, and at stop waits for all of them.

#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "engine/admission.hpp"
#include "engine/blocking_connection.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/process_group.hpp"

namespace c10k::engine {

namespace {

/// A worker that dies this soon after its start is restarted only after a pause, so that a
/// worker that cannot start does not become a fork loop.
constexpr std::int64_t kRestartPauseMs = 1000;

int worker_main(const ServerConfig& config, const HandlerFactory& handlers,
                const std::vector<int>& sockets, StopSource& stop, int access_log_fd) {
    BlockingWorker worker(config, handlers, stop, access_log_fd);
    std::vector<pollfd> waits;
    for (int fd : sockets) waits.push_back(pollfd{fd, POLLIN, 0});
    waits.push_back(pollfd{stop.fd(), POLLIN, 0});
    for (;;) {
        if (::poll(waits.data(), waits.size(), -1) < 0 && errno != EINTR) return 1;
        // The eventfd, not stop.requested(): that flag lives in the parent's memory.
        if (waits.back().revents & POLLIN) return 0;
        for (std::size_t i = 0; i + 1 < waits.size(); ++i) {
            if (!(waits[i].revents & POLLIN)) continue;
            // Every waiting worker wakes (the thundering herd prefork is known for); one wins
            // the accept, the others get EAGAIN and wait again.
            core::unique_fd connection(accept_nonblocking(sockets[i]));
            if (connection) worker.serve(connection.get());
        }
    }
}

class PreforkEngine final : public Engine {
public:
    std::string_view name() const override { return "prefork"; }

    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        core::unique_fd access_log = open_access_log(config);
        int workers = config.threads > 0 ? config.threads : 1;
        std::vector<int> sockets = listeners.shared();
        int log_fd = access_log.get();
        auto start_worker = [&]() {
            return spawn_child([&]() { return worker_main(config, handlers, sockets, stop, log_fd); });
        };
        std::vector<ChildProcess> children;
        std::vector<std::int64_t> started;
        for (int i = 0; i < workers; ++i) {
            auto child = start_worker();
            if (!child) {
                core::log(core::LogLevel::error, "cannot start prefork worker: {}",
                          std::strerror(child.error()));
                stop.request();
                break;
            }
            children.push_back(std::move(child.value()));
            started.push_back(core::monotonic_ms());
        }
        std::vector<pollfd> waits;
        std::int64_t restart_after_ms = 0;
        while (!stop.requested()) {
            waits.clear();
            waits.push_back(pollfd{stop.fd(), POLLIN, 0});
            for (auto& child : children) {
                waits.push_back(pollfd{child.pid > 0 ? child.pidfd.get() : -1, POLLIN, 0});
            }
            int timeout = restart_after_ms > 0 ? 100 : -1;
            if (::poll(waits.data(), waits.size(), timeout) < 0 && errno != EINTR) break;
            if (waits[0].revents & POLLIN) break;  // the eventfd: see worker_main
            std::int64_t now = core::monotonic_ms();
            for (std::size_t i = 0; i < children.size() && !stop.requested(); ++i) {
                ChildProcess& child = children[i];
                int status = 0;
                if (child.pid > 0) {
                    pid_t pid = child.pid;
                    if (!reap_child(child, status)) continue;
                    core::log(core::LogLevel::warn, "prefork worker {} exited with status {}",
                              pid, status);
                    if (now - started[i] < kRestartPauseMs) restart_after_ms = now + kRestartPauseMs;
                }
                if (now < restart_after_ms) continue;
                auto replacement = start_worker();
                if (!replacement) continue;  // tried again at the next wake-up
                child = std::move(replacement.value());
                started[i] = now;
            }
            if (now >= restart_after_ms) restart_after_ms = 0;
        }
        std::erase_if(children, [](const ChildProcess& c) { return c.pid < 0; });
        std::int64_t deadline = core::monotonic_ms() + config.shutdown_grace_ms + 1000;
        return wait_children(children, deadline) ? 0 : 1;
    }
};

}  // namespace

std::unique_ptr<Engine> make_prefork_engine() { return std::make_unique<PreforkEngine>(); }

}  // namespace c10k::engine

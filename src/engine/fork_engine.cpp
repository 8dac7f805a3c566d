// Process per connection, the classic fork-per-client server (inetd, early Apache): the parent
// accepts, forks a child for each client, and the child serves that client alone
// (BlockingWorker) and exits. Children are counted and capped (--max-connections, default 256
// when 0); beyond the cap a client gets a canned 503. The parent watches children through
// pidfds, so reaping needs no SIGCHLD handler.
//
// Stop: the parent has no thread of its own (see stop.hpp); it sees the stop on the descriptor
// in its accept loop, passes it on to every child (stop_children) and waits for them; each
// finishes its response and exits, and those still running after the grace period are killed.
// A child's copy of the stop source reads that child's own signals, so SIGTERM sent to one
// child makes it finish its response and exit 0; the parent only reaps it.

#include <poll.h>
#include <signal.h>

#include <cstring>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/reopen.hpp"
#include "engine/admission.hpp"
#include "engine/blocking_connection.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/process_group.hpp"

namespace c10k::engine {

namespace {

/// Cap when --max-connections is 0: a process per client is the most expensive way to serve,
/// and an unbounded fork rate is a fork bomb in a client's hands.
constexpr std::uint64_t kDefaultForkCap = 256;

class ForkEngine final : public Engine {
public:
    std::string_view name() const override { return "fork"; }
    bool listens_per_loop() const override { return false; }

    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        AccessLogFile access_log = open_access_log(config);
        std::uint64_t cap = config.max_connections != 0 ? config.max_connections : kDefaultForkCap;
        std::vector<int> sockets = listeners.shared();
        std::vector<ChildProcess> children;
        std::vector<pollfd> waits;
        SpareDescriptor spare;
        core::RateLimitedLog log_limit;
        Heartbeat heartbeat = config.heartbeat;
        while (!stop.requested()) {
            heartbeat.tick(core::monotonic_ms());
            // Listeners, the stop signal, then one pidfd per child: a child's exit wakes us.
            waits.clear();
            for (int fd : sockets) waits.push_back(pollfd{fd, POLLIN, 0});
            waits.push_back(pollfd{stop.fd(), POLLIN, 0});
            for (auto& child : children) waits.push_back(pollfd{child.pidfd.get(), POLLIN, 0});
            int wait = static_cast<int>(heartbeat.until_next(core::monotonic_ms()));
            if (::poll(waits.data(), waits.size(), wait) < 0 && errno != EINTR) break;
            // The descriptor rather than stop.requested() alone: the flag is set only by a
            // request made in this process, not by a signal or by the parent under --processes.
            if (waits[sockets.size()].revents & POLLIN) break;
            reap(children);
            // SIGUSR1 reopened this process's logs; each child holds its own descriptors.
            if (core::take_reopen_request()) {
                for (auto& child : children) ::kill(child.pid, SIGUSR1);
            }
            for (std::size_t i = 0; i < sockets.size(); ++i) {
                if (!(waits[i].revents & POLLIN)) continue;
                for (;;) {
                    int fd = accept_nonblocking(sockets[i]);
                    if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE) spare.shed_one(sockets[i]);
                        break;
                    }
                    core::unique_fd connection(fd);
                    if (children.size() >= cap) {
                        reject_busy(std::move(connection));
                        continue;
                    }
                    auto child = spawn_child([&]() -> int {
                        // The child needs none of the parent's listeners or children.
                        for (int listener : sockets) ::close(listener);
                        for (auto& other : children) ::close(other.pidfd.release());
                        BlockingWorker worker(config, handlers, stop, access_log.get());
                        // Its listener's index: the publish listener serves another API.
                        worker.serve(connection.get(), static_cast<std::uint8_t>(i));
                        return 0;
                    });
                    if (!child) {
                        if (log_limit.allow(core::monotonic_ms())) {
                            core::log(core::LogLevel::warn, "fork: {}",
                                      std::strerror(child.error()));
                        }
                        reject_busy(std::move(connection));
                        continue;
                    }
                    children.push_back(std::move(child.value()));
                }
            }
        }
        heartbeat.stop_seen();
        return stop_children(children, stop, config.shutdown_grace_ms) ? 0 : 1;
    }

private:
    static void reap(std::vector<ChildProcess>& children) {
        for (auto& child : children) {
            int status = 0;
            reap_child(child, status);
        }
        std::erase_if(children, [](const ChildProcess& c) { return c.pid < 0; });
    }
};

}  // namespace

std::unique_ptr<Engine> make_fork_engine() {
    return std::make_unique<ForkEngine>();
}

}  // namespace c10k::engine

// Apache's prefork model: N worker processes started in advance, all waiting on the one shared
// listener, each serving one connection at a time with blocking I/O (BlockingWorker). The
// kernel hands each new connection to one waiting worker; with all N busy, new clients wait in
// the listen backlog. The number of workers is config.threads (`c10k serve --processes N`
// sets it for this engine; 16 when not given).
//
// Workers wait with poll() on the listener and the stop descriptor and then accept() without
// blocking, so that a stop reaches a worker that is waiting for a client. The parent only
// supervises (supervise_children), with no thread of its own: it replaces a worker that exited,
// and at stop passes the stop on to every worker and waits for them. Each worker's copy of the
// stop source reads that worker's own signals, so SIGTERM sent to one worker makes it finish its
// connection and exit 0, and the parent starts another in its place (Apache's way of recycling a
// worker).

#include <poll.h>

#include <vector>

#include "engine/admission.hpp"
#include "engine/blocking_connection.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/process_group.hpp"

namespace c10k::engine {

namespace {

int worker_main(const ServerConfig& config, const HandlerFactory& handlers,
                const std::vector<int>& sockets, StopSource& stop, int access_log_fd) {
    BlockingWorker worker(config, handlers, stop, access_log_fd);
    std::vector<pollfd> waits;
    for (int fd : sockets) waits.push_back(pollfd{fd, POLLIN, 0});
    waits.push_back(pollfd{stop.fd(), POLLIN, 0});
    for (;;) {
        if (::poll(waits.data(), waits.size(), -1) < 0 && errno != EINTR) return 1;
        // The descriptor, not stop.requested(): the flag is set only by a request made in this
        // process, and this worker's stop comes from its parent or from a signal.
        if (waits.back().revents & POLLIN) return 0;
        for (std::size_t i = 0; i + 1 < waits.size(); ++i) {
            if (!(waits[i].revents & POLLIN)) continue;
            // Every waiting worker wakes (the thundering herd prefork is known for); one wins
            // the accept, the others get EAGAIN and wait again.
            core::unique_fd connection(accept_nonblocking(sockets[i]));
            if (connection) worker.serve(connection.get(), static_cast<std::uint8_t>(i));
        }
    }
}

class PreforkEngine final : public Engine {
public:
    std::string_view name() const override { return "prefork"; }
    bool listens_per_loop() const override { return false; }

    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        AccessLogFile access_log = open_access_log(config);
        int workers = config.threads > 0 ? config.threads : 1;
        std::vector<int> sockets = listeners.shared();
        int log_fd = access_log.get();
        auto worker = [&](int) { return worker_main(config, handlers, sockets, stop, log_fd); };
        return supervise_children(workers, worker, "prefork worker", config.shutdown_grace_ms, stop,
                                  config.heartbeat);
    }
};

}  // namespace

std::unique_ptr<Engine> make_prefork_engine() {
    return std::make_unique<PreforkEngine>();
}

}  // namespace c10k::engine

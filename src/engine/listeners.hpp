#pragma once
// Listening sockets for every loop. The first set is opened before the engine starts, so that
// port 0 becomes a concrete port that can be printed and that every other loop then binds too
// (SO_REUSEPORT: each loop gets its own accept queue, and the kernel spreads connections).

#include <string>
#include <vector>

#include "core/net.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::engine {

class ListenerSet {
public:
    /// Binds the first listener of each endpoint. Throws std::runtime_error with a clear
    /// message (busy port, permission) so that start-up fails before any engine runs.
    explicit ListenerSet(const std::vector<core::Endpoint>& endpoints, int backlog = 4096);
    /// Socket activation: `inherited` (listening sockets systemd passed) become the first
    /// endpoints, and `endpoints` (the ones the server binds itself) follow. Every loop shares
    /// an inherited socket's one accept queue (dups of it): the server cannot bind more
    /// sockets to an address it may have no right to, and systemd may not have set
    /// SO_REUSEPORT on it.
    ListenerSet(std::vector<core::unique_fd> inherited,
                const std::vector<core::Endpoint>& endpoints, int backlog = 4096);

    /// The endpoints with their concrete ports.
    const std::vector<core::Endpoint>& endpoints() const { return endpoints_; }

    /// Listeners for one loop: loop 0 (or the first caller) takes the sockets opened at start,
    /// others get new SO_REUSEPORT sockets bound to the same endpoints. Non-blocking.
    core::Result<std::vector<core::unique_fd>> for_loop();

    /// The sockets opened at start, shared by engines whose workers all accept on one queue
    /// (prefork, thread per client). Stay owned by the set.
    std::vector<int> shared() const;

    /// The last `count` endpoints are served by the first process of a --processes group only
    /// (the publish listener when one process assigns the ids; the admin listener, whose
    /// status is the first process's). Only the last ones, so that the listener indices of
    /// the others are the same in every process.
    void last_in_first_process_only(std::size_t count = 1) { first_only_count_ = count; }
    /// In a process of a group other than the first: leaves the sockets opened at start to the
    /// first process, so that every loop here opens its own SO_REUSEPORT sockets (each process
    /// its own accept queues), without the first-process-only endpoint.
    void become_secondary() {
        first_taken_ = true;
        secondary_ = true;
    }

private:
    std::vector<core::Endpoint> endpoints_;
    std::vector<core::unique_fd> first_;
    std::size_t inherited_ = 0;  ///< the first endpoints, shared by every loop
    bool first_taken_ = false;
    std::size_t first_only_count_ = 0;
    bool secondary_ = false;
    int backlog_;
};

}  // namespace c10k::engine

#pragma once
// Listening sockets for every loop. The first set is opened before the engine starts, so that
// port 0 becomes a concrete port that can be printed and that every other loop then binds too
// (SO_REUSEPORT: each loop gets its own accept queue, and the kernel spreads connections).
//
// The set owns every listening socket of the server and hands loops duplicates, so that the
// sockets outlive the loops: a reload or an upgrade (core/handover.hpp) passes them all to the
// next process, which accepts from the very same queues, and nothing queued is lost. At a stop
// the set closes them (close_all), so that new clients are refused at once instead of queued
// until the process exits.

#include <cstddef>
#include <string>
#include <vector>

#include "core/handover.hpp"
#include "core/net.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::engine {

class ListenerSet {
public:
    /// Binds the first listener of each endpoint. Throws std::runtime_error with a clear
    /// message (busy port, permission) so that start-up fails before any engine runs.
    /// `options` (backlog, socket buffers) apply to every socket the set opens, then and later;
    /// its reuse_port and nonblocking stay as the set needs them.
    explicit ListenerSet(const std::vector<core::Endpoint>& endpoints,
                         const core::ListenOptions& options = {});
    /// Socket activation: `inherited` (listening sockets systemd passed) become the first
    /// endpoints, and `endpoints` (the ones the server binds itself) follow. Every loop shares
    /// an inherited socket's one accept queue (dups of it): the server cannot bind more
    /// sockets to an address it may have no right to, and systemd may not have set
    /// SO_REUSEPORT on it. Socket buffers in `options` are set on the inherited sockets too
    /// (listening already: they reach the connections accepted from then on).
    ListenerSet(std::vector<core::unique_fd> inherited,
                const std::vector<core::Endpoint>& endpoints,
                const core::ListenOptions& options = {});
    /// A handover: each endpoint takes the sockets a predecessor passed on for the same
    /// address (a port 0 endpoint: for the same host at the same index), first the one every
    /// loop shares, or the first loop's and then one per further loop, in order; endpoints
    /// nobody passed on are bound. Passed-on sockets no endpoint wants are closed (their queued
    /// clients are reset: the operator removed that address). `messages` gets a line for each.
    /// Socket buffers in `options` are set on the passed-on sockets too, so that a reload
    /// that changes them takes effect for the connections accepted after it.
    ListenerSet(std::vector<core::InheritedSocket> handed,
                const std::vector<core::Endpoint>& endpoints, std::vector<std::string>& messages,
                const core::ListenOptions& options = {});

    /// The endpoints with their concrete ports.
    const std::vector<core::Endpoint>& endpoints() const { return endpoints_; }

    /// Opens the sockets of `processes` x `loops` loops now, in this process, so that a
    /// handover can pass every one of them on: sets a predecessor passed on are used first,
    /// and the ones it passed beyond what is needed are closed (a reload with fewer loops
    /// resets the clients queued on those). Sets of processes other than the first leave out
    /// the first-process-only endpoints. Engines whose workers share one queue (shared())
    /// need (1, 1). Throws std::runtime_error when a socket cannot be opened.
    void prepare(std::size_t processes, std::size_t loops);

    /// Listeners for one loop, dups of the next set (opened now when prepare did not).
    /// Non-blocking.
    core::Result<std::vector<core::unique_fd>> for_loop();

    /// The sockets opened at start, shared by engines whose workers all accept on one queue
    /// (prefork, thread per client). Stay owned by the set.
    std::vector<int> shared() const;

    /// The last `count` endpoints are served by the first process of a --processes group only
    /// (the publish listener when one process assigns the ids; the admin listener, whose
    /// status is the first process's). Only the last ones, so that the listener indices of
    /// the others are the same in every process.
    void last_in_first_process_only(std::size_t count = 1) { first_only_count_ = count; }
    /// In child `process` of a --processes group: its loops take that process's sets (see
    /// prepare), and this copy closes the others' (the supervisor keeps them all).
    void assign_process(std::size_t process);

    /// Closes every socket of this process's copy and, in the process that registered them,
    /// refuses a later handover. For the stop, once no loop accepts any more.
    void close_all();

private:
    using Set = std::vector<core::unique_fd>;  ///< one per endpoint; -1 where shared_[i]

    void open_set(std::size_t process);
    void register_set(const Set& set) const;

    std::vector<core::Endpoint> endpoints_;
    std::vector<bool> shared_;                         ///< every loop dups sets_[0][i]
    std::vector<Set> sets_;                            ///< sets_[0]: the sockets opened at start
    std::vector<std::vector<core::unique_fd>> spare_;  ///< passed on, per endpoint, in order
    std::size_t next_ = 0;                             ///< the set for_loop hands out next
    std::size_t loops_per_process_ = 0;                ///< 0: no group prepared
    std::size_t first_only_count_ = 0;
    core::ListenOptions options_;
};

}  // namespace c10k::engine

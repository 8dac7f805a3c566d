#pragma once
// The connections one event loop keeps to one FastCGI application. Loops share nothing, so the
// cap (--fastcgi-max-connections) is per loop, as nginx's upstream keepalive is per worker.
// The first request asks the application whether it multiplexes (probe.hpp, once per pool);
// requests wait for the answer. Then the pool runs in one of two modes for good:
// - single: a connection serves one request at a time, as php-fpm needs (its workers answer
//   FCGI_MPXS_CONNS=0, and one worker is tied to one connection while it is open). Exactly the
//   path that was here before the probe: the answer costs a request nothing.
// - multiplexed (FCGI_MPXS_CONNS=1): connections are MuxConnections, each carrying up to
//   FCGI_MAX_REQS requests (kDefaultMaxRequests when not said) at once; FCGI_MAX_CONNS, when
//   said, lowers the connection cap. A new connection is opened only when every open one is
//   full.
// A request that finds every connection busy (or full) and none may be opened waits in a queue
// for the next one to come free (briefly: see Exchange).
//
// Idle connections are watched: one the application closes (php-fpm restarted, a worker
// recycled by pm.max_requests) is dropped at once rather than found dead by the next request.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "core/unique_fd.hpp"
#include "fastcgi/address.hpp"
#include "fastcgi/mux_connection.hpp"
#include "fastcgi/probe.hpp"
#include "http/context.hpp"

namespace c10k::fastcgi {

/// A connection between requests. Request ids matter only to multiplexing: with one request
/// per connection at a time, every request is request 1 (as nginx does).
struct Connection {
    core::unique_fd fd;
    /// Still registered with the loop's watcher by its last holder: the next one re-points the
    /// watch at itself (no epoll_ctl when the events stay the same) instead of a remove and an
    /// add on every hand-over, and must unwatch it before closing it.
    bool watched = false;
};
constexpr std::uint16_t kRequestId = 1;

class Pool {
public:
    /// Someone queued for a connection.
    class Waiter {
    public:
        /// A connection came free: `connection` is it (a kept-alive one), or empty when a new
        /// one may be opened instead. The waiter has left the queue.
        virtual void on_connection_free(Connection connection) = 0;
        /// The probe answered (the mode is known), or a multiplexed request id came free: the
        /// waiter asks again. The waiter has left the queue.
        virtual void on_pool_ready() = 0;

    protected:
        ~Waiter() = default;
    };

    enum class Mode { unknown, probing, single, multiplexed };
    /// Requests per multiplexed connection when the application does not say FCGI_MAX_REQS.
    static constexpr std::size_t kDefaultMaxRequests = 16;

    Pool(Address address, std::size_t max_connections);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    const Address& address() const { return address_; }

    /// Takes a kept-alive connection when there is one.
    bool take_idle(Connection& out);
    /// Whether a new connection may be opened now (the cap counts busy and idle ones).
    bool may_open() const { return open_ < max_connections_; }
    /// A new connection was opened (counted against the cap until closed()).
    void opened() { ++open_; }
    /// A connection's request ended and it may serve another: to the first waiter, or idle.
    void give_back(Connection connection);
    /// A connection was closed (by either side): its place goes to the first waiter.
    void closed();

    Mode mode() const { return mode_; }
    /// Starts the probe (mode unknown): the mode is probing until it answers.
    void probe();
    /// The probe's answer; `fd`: its connection, kept for a multiplexing application.
    void probed(const Capabilities& capabilities, core::unique_fd fd);

    /// Multiplexed: an open connection with a free request id, or null.
    MuxConnection* multiplexed_with_room();
    /// Multiplexed: opens a connection (may_open first). Null with errno when it cannot.
    MuxConnection* open_multiplexed();
    /// A multiplexed connection broke (every request on it failed already): removed.
    void multiplexed_lost(MuxConnection& connection);
    /// A multiplexed request id came free: the first waiter asks again.
    void slot_free();

    void wait(Waiter& waiter) { waiters_.push_back(&waiter); }
    void cancel(Waiter& waiter);
    std::size_t waiting() const { return waiters_.size(); }

    /// The loop starts and stops: idle connections are watched through its descriptors.
    void attach(http::LoopContext* context) { context_ = context; }
    void close_idle();

private:
    class Idle;
    void drop(Idle& idle);

    void release_waiters();

    Address address_;
    std::size_t max_connections_;
    Mode mode_ = Mode::unknown;
    std::unique_ptr<Probe> probe_;
    std::size_t max_requests_ = kDefaultMaxRequests;
    std::vector<std::unique_ptr<MuxConnection>> multiplexed_;
    std::vector<char> mux_buffer_;  ///< what multiplexed connections read into
    std::size_t open_ = 0;
    http::LoopContext* context_ = nullptr;
    std::vector<std::unique_ptr<Idle>> idle_;
    std::deque<Waiter*> waiters_;
};

}  // namespace c10k::fastcgi

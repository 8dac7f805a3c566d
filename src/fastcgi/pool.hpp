#pragma once
// The connections one event loop keeps to one FastCGI application. Loops share nothing, so the
// cap (--fastcgi-max-connections) is per loop, as nginx's upstream keepalive is per worker.
// A connection serves one request at a time: php-fpm does not multiplex (its workers answer
// FCGI_MPXS_CONNS=0), and one worker is tied to one connection while it is open, so this pool
// never multiplexes either. A request that finds every connection busy and none may be opened
// waits in a queue for the next one to come free (briefly: see Exchange).
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

    protected:
        ~Waiter() = default;
    };

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

    void wait(Waiter& waiter) { waiters_.push_back(&waiter); }
    void cancel(Waiter& waiter);
    std::size_t waiting() const { return waiters_.size(); }

    /// The loop starts and stops: idle connections are watched through its descriptors.
    void attach(http::LoopContext* context) { context_ = context; }
    void close_idle();

private:
    class Idle;
    void drop(Idle& idle);

    Address address_;
    std::size_t max_connections_;
    std::size_t open_ = 0;
    http::LoopContext* context_ = nullptr;
    std::vector<std::unique_ptr<Idle>> idle_;
    std::deque<Waiter*> waiters_;
};

}  // namespace c10k::fastcgi

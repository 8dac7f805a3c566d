#pragma once
// The one contract every readiness backend implements (epoll, poll, select, realtime signals),
// like libuv's uv__io_poll per platform and nginx's event module table with capability flags.
// The ReadinessLoop drives connections over any Poller.

#include <climits>
#include <cstdint>
#include <memory>

#include "core/result.hpp"

namespace c10k::engine {

class Poller {
public:
    /// `level` asks an edge-triggered backend to report this descriptor for as long as it stays
    /// ready (epoll without EPOLLET), for descriptors whose owner may leave input unread (a
    /// handler's own). Level-triggered backends ignore it; so does sigio, whose periodic sweeps
    /// report what stays ready.
    enum Interest : std::uint32_t { readable = 1, writable = 2, level = 4 };
    enum EventBits : std::uint32_t { in = 1, out = 2, error = 4, hangup = 8 };

    struct Event {
        void* tag = nullptr;
        std::uint32_t events = 0;  ///< EventBits
    };

    virtual ~Poller() = default;

    /// Starts watching fd for `interest`; `tag` comes back with its events.
    virtual core::Result<void> add(int fd, std::uint32_t interest, void* tag) = 0;
    virtual core::Result<void> modify(int fd, std::uint32_t interest, void* tag) = 0;
    /// Stops watching fd; call before closing it.
    virtual void remove(int fd) = 0;
    /// Waits up to timeout_ms (-1: forever, 0: don't block) and fills at most `max` events.
    /// EINTR returns 0 events.
    virtual core::Result<int> wait(Event* events, int max, int timeout_ms) = 0;

    /// Edge-triggered backends report readiness once per change: the loop must then read until
    /// a short read or EAGAIN. Level-triggered ones report it for as long as it lasts, so the
    /// loop must drop write interest when it has nothing to write.
    virtual bool edge_triggered() const = 0;
    /// Descriptors at or above this cannot be watched (select: FD_SETSIZE).
    virtual int max_fd() const { return INT_MAX; }
};

}  // namespace c10k::engine

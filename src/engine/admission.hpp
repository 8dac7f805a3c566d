#pragma once
// Deciding whether a new connection is served: a process-wide connection cap, a fast 503 for
// those over it, and a spare descriptor to shed a connection when the process is out of them.
// Every engine uses these, so that limits behave the same whatever the architecture.

#include <atomic>
#include <cstdint>

#include "core/unique_fd.hpp"

namespace c10k::engine {

/// The --max-connections cap, shared by every loop of a process.
class ConnectionBudget {
public:
    explicit ConnectionBudget(std::uint64_t max) : max_(max) {}

    /// Counts a new connection in; false (and nothing counted) when the cap is reached.
    bool try_acquire() {
        std::uint64_t now = open_.fetch_add(1, std::memory_order_relaxed);
        if (max_ != 0 && now >= max_) {
            open_.fetch_sub(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    void release() { open_.fetch_sub(1, std::memory_order_relaxed); }
    std::uint64_t open() const { return open_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> open_{0};
    std::uint64_t max_;
};

/// Writes a canned "503 Service Unavailable" with Retry-After, without blocking, and closes.
/// For connections over the cap: a fast, cheap answer instead of a hang.
void reject_busy(core::unique_fd fd);

/// A descriptor kept in reserve. When accept() fails with EMFILE the pending connection would
/// stay in the queue and make the listener readable forever (a busy loop); closing the spare,
/// accepting and closing the connection, and reopening the spare sheds it cleanly.
class SpareDescriptor {
public:
    SpareDescriptor();
    /// Accepts one pending connection on `listener` and closes it. Returns true if one was shed.
    bool shed_one(int listener);

private:
    core::unique_fd spare_;
};

/// The lowest descriptor number that a newly accepted connection may not have: the soft
/// RLIMIT_NOFILE minus a reserve (1/16 of it, at least 16), read once per process.
///
/// Descriptors are handed out lowest first, so a connection accepted as number N means that
/// 0..N-1 are all taken. Letting sockets take the very last descriptors leaves none for the work
/// of the connections already held (opening the files they ask for), which would then be
/// answered 503 themselves: at the limit, service would end instead of degrading. Connections
/// that would eat into the reserve get the fast 503 of reject_busy instead.
int descriptor_ceiling();

/// accept4 flags every engine uses for event-driven sockets.
int accept_nonblocking(int listener);

}  // namespace c10k::engine

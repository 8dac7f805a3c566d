#pragma once
// Tools for adversarial end-to-end tests: many raw loopback sockets that a test drives byte by
// byte (slowloris, floods), probes of what the server did to each, the server process's CPU time,
// resident memory and descriptors from /proc, and a lowered descriptor limit for a child.

#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::test {

/// What a connection looks like from the client side at one moment.
enum class PeerState {
    open,    ///< nothing to read, not closed
    data,    ///< the server sent bytes (appended to the probe's buffer)
    closed,  ///< EOF or reset: the server closed it
};

/// Many client sockets to 127.0.0.1:port, owned here and closed at destruction.
class SocketPool {
public:
    SocketPool() = default;
    ~SocketPool() { close_all(); }
    SocketPool(const SocketPool&) = delete;
    SocketPool& operator=(const SocketPool&) = delete;

    /// Starts `count` non-blocking connects, then waits (up to timeout_ms) until every one is
    /// established or has failed. Returns how many are established; failed ones are dropped.
    /// The kernel completes handshakes into the listen backlog whether or not the server
    /// accepts, so "established" says nothing about the server having accepted.
    std::size_t connect(int port, std::size_t count, int timeout_ms = 10000);

    /// Sends `bytes` on socket `index` without blocking; false when the socket is closed or its
    /// buffer is full (nothing is retried: a hostile client does not care).
    bool send(std::size_t index, std::string_view bytes);
    /// Reads whatever is there without blocking. On data, appends it to received(index).
    PeerState probe(std::size_t index);
    /// Waits until every socket has been closed by the server (probing as it goes), up to
    /// timeout_ms. Returns how many are still open at the end.
    std::size_t wait_all_closed(int timeout_ms);

    std::size_t size() const { return fds_.size(); }
    int fd(std::size_t index) const { return fds_[index]; }
    const std::string& received(std::size_t index) const { return received_[index]; }
    bool closed(std::size_t index) const { return closed_[index]; }
    void close_all();

private:
    std::vector<int> fds_;
    std::vector<std::string> received_;
    std::vector<bool> closed_;
};

/// utime + stime of a process, in clock ticks (sysconf(_SC_CLK_TCK) per second).
std::uint64_t cpu_ticks(pid_t pid);
/// Clock ticks per second.
long ticks_per_second();
/// VmRSS of a process in KiB, from /proc/PID/status.
std::uint64_t rss_kib(pid_t pid);
/// Open descriptors of a process, counted in /proc/PID/fd.
std::size_t open_descriptors(pid_t pid);

/// Lowers this process's soft RLIMIT_NOFILE for its lifetime, so that a child started meanwhile
/// (a ServerProcess) inherits the low limit, as `ulimit -n` would give it. The previous limit
/// comes back at destruction; sockets the test opens later are not bound by the low one.
class ScopedDescriptorLimit {
public:
    explicit ScopedDescriptorLimit(rlim_t soft_limit);
    ~ScopedDescriptorLimit();
    ScopedDescriptorLimit(const ScopedDescriptorLimit&) = delete;
    ScopedDescriptorLimit& operator=(const ScopedDescriptorLimit&) = delete;

private:
    rlimit saved_{};
};

}  // namespace c10k::test

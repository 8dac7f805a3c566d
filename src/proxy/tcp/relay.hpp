#pragma once
// One direction of a relayed TCP connection: bytes go from one socket into a pipe and from the
// pipe into the other socket with splice(2), so they never enter user space. Backpressure is
// the pipe: while the destination cannot take what the pipe holds, the source is not read, its
// receive buffer fills and TCP's window closes on the sender. A proxy pushing to a slow reader
// so holds at most one pipe per direction, whatever the sender sends.

#include <cstdint>

#include "http/metrics.hpp"
#include "proxy/tcp/pipe_pool.hpp"

namespace c10k::proxy::tcp {

class Direction {
public:
    enum class Outcome : std::uint8_t {
        waiting,  ///< the source is empty or the destination full: an epoll edge resumes it
        done,     ///< the source sent FIN, everything was passed on, and so was the FIN
        failed,   ///< a socket error (reset, broken pipe) or no pipe could be had
    };

    /// `moved_counter`: where each byte written to the destination is counted as it goes, so
    /// that a count is complete before the FIN that follows it is passed on (null: nowhere).
    Direction(int from, int to, http::Counter* moved_counter = nullptr)
        : from_(from), to_(to), moved_counter_(moved_counter) {}

    /// Moves what it can until a socket would block. Edge-triggered callers call it for any
    /// event on either socket: it drains the pipe before reading, so a destination that
    /// becomes writable also resumes reading the source.
    Outcome pump(PipePool& pipes);

    /// Bytes written to the destination so far.
    std::uint64_t moved() const { return moved_; }
    bool done() const { return shut_; }
    /// Returns the pipe, if held, to `pipes` (only an empty one is reusable; a full one is
    /// closed with its bytes, which is what a relay being torn down wants).
    void release(PipePool& pipes);

private:
    int from_;
    int to_;
    http::Counter* moved_counter_;
    Pipe pipe_;
    std::uint64_t in_pipe_ = 0;
    std::uint64_t moved_ = 0;
    bool eof_ = false;   ///< the source sent FIN
    bool shut_ = false;  ///< and the destination got it (shutdown(SHUT_WR))
};

}  // namespace c10k::proxy::tcp

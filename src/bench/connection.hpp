#pragma once
// One client connection of a bench loop: its socket, its schedule, its parser, and the queue of
// requests it owes. Kept plain (no virtuals, no per-connection buffers) so that a loop can hold
// 20,000 of them cheaply; the receive buffer belongs to the loop.

#include <cstdint>
#include <vector>

#include "bench/response_parser.hpp"
#include "bench/schedule.hpp"

namespace c10k::bench {

class ClientLoop;

/// A request that is due: queued, or written and awaiting its response.
struct PendingRequest {
    std::int64_t intended_ns = 0;  ///< when the schedule wanted it sent
    std::int64_t sent_ns = 0;      ///< when its first byte was written (0 while queued)
};

enum class ConnectionState : std::uint8_t { closed, connecting, open };

struct Connection {
    ResponseParser parser;
    ConnectionSchedule schedule;
    ClientLoop* loop = nullptr;
    /// Requests in order: the first `in_flight` are written, the rest wait their turn.
    std::vector<PendingRequest> queue;
    std::uint32_t head = 0;
    std::uint32_t in_flight = 0;
    /// Bytes of the last in-flight request not yet written (a short write).
    std::uint32_t tail_unwritten = 0;
    std::int64_t connect_started_ns = 0;
    /// While closed after a failed connect: do not try again before this time.
    std::int64_t retry_at_ns = 0;
    int fd = -1;
    /// Bumped for every new socket, so that a stale epoll event of a closed one is ignored.
    std::uint32_t generation = 0;
    std::uint32_t index = 0;         ///< in the loop's connection table
    std::uint32_t target = 0;        ///< which URL
    std::uint32_t source = 0;        ///< IPv4 source address to bind (host order), 0 for any
    ConnectionState state = ConnectionState::closed;
    bool idle = false;               ///< connects and waits, never sends
    bool ever_opened = false;        ///< counts failures of the first attempt only once
    bool close_requested = false;    ///< the last response said the connection ends
    bool unsolicited = false;        ///< a response arrived that no request asked for
    std::uint8_t failures = 0;       ///< consecutive failed connects, for the retry backoff

    std::uint32_t queued() const { return static_cast<std::uint32_t>(queue.size()) - head; }
    std::uint32_t unsent() const { return queued() - in_flight; }
    PendingRequest& front() { return queue[head]; }
    void push(PendingRequest request) { queue.push_back(request); }
    void pop_front() {
        if (++head == queue.size()) {
            queue.clear();
            head = 0;
        }
    }
};

}  // namespace c10k::bench

#pragma once
// The per-connection driver of the blocking engines (thread per client, process per client,
// prefork): one thread of control waits on one connection only, reads, feeds http::Session,
// writes everything it is asked to, and repeats. Written once here so that the three engines
// speak exactly the HTTP the event loops speak, with the same timeouts and shutdown.

#include <poll.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/engine.hpp"
#include "http/access_log.hpp"
#include "http/context.hpp"
#include "http/poll_watcher.hpp"
#include "http/session.hpp"

namespace c10k::engine {

/// How a connection served by BlockingWorker ended.
enum class BlockingEnd : std::uint8_t { finished, timed_out, failed };

/// What one blocking thread or process needs to serve connections: its own handler, loop
/// context (clock, Date cache, scratch pool, mailbox, handler timers) and access-log buffer.
/// Build one per thread or process; never share one between threads. To its handler the worker
/// is an event loop that holds one connection at a time: each serve() is a loop start and stop.
class BlockingWorker {
public:
    /// `access_log_fd` is shared and not owned; -1 for none.
    BlockingWorker(const ServerConfig& config, const HandlerFactory& handlers, StopSource& stop,
                   int access_log_fd);
    ~BlockingWorker();
    BlockingWorker(const BlockingWorker&) = delete;
    BlockingWorker& operator=(const BlockingWorker&) = delete;

    /// The loop number the handler sees (LoopContext::loop_index), for handlers that keep
    /// per-loop state in something process-wide (push): set it before serve().
    void set_loop_index(std::size_t index) { context_.set_loop_index(index); }

    /// Serves the connection on `fd`, accepted on listener `listener` (the index of its
    /// --listen address), until it closes, times out (session.deadline_ms()), or the server
    /// stops (then the response in progress is finished, within the grace period). The handler
    /// is told on_loop_start before and on_loop_stop after. Waits with poll() on the socket,
    /// the stop descriptor and the loop's mailbox, bounded by the session's deadline and the
    /// handler's timers, so that a response finished later (a publish posted from another
    /// thread, a timer) is written as soon as it exists, and on the handler's own descriptors
    /// (descriptors(): a process per client that follows Redis for its one subscriber). Does
    /// not close fd.
    BlockingEnd serve(int fd, std::uint8_t listener = 0);

private:
    BlockingEnd drive(int fd, std::uint8_t listener);
    int wait_timeout_ms(const http::Session& session, bool stopping,
                        std::int64_t stop_deadline_ms) const;
    bool write_pending(int fd, http::Session& session, bool& blocked);
    void linger(int fd);
    ssize_t receive(int fd);

    const ServerConfig& config_;
    StopSource& stop_;
    std::unique_ptr<http::Handler> handler_;
    http::MetricsSlot metrics_;  ///< before context_: sessions count into it until they go
    http::LoopContext context_;
    std::unique_ptr<http::AccessLog> access_log_;
    std::vector<char> buffer_;
    /// With --overload-target: this worker's detector, fed with the kernel's receive timestamps.
    std::unique_ptr<http::OverloadGate> overload_;
    http::PollWatcher watched_;  ///< the handler's descriptors; few (a Redis connection or two)
    std::vector<pollfd> waits_;  ///< poll()'s set, kept to reuse its memory
};

}  // namespace c10k::engine

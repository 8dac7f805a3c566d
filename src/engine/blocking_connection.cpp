#include "engine/blocking_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/net.hpp"
#include "engine/output.hpp"
#include "http/session.hpp"

namespace c10k::engine {

namespace {
// Small: a blocking worker exists per connection, and a pipelined burst simply takes more reads.
constexpr std::size_t kReceiveBytes = 16 * 1024;
constexpr std::int64_t kLingerMs = 2000;  // as the readiness loop: bounded lingering close
}  // namespace

BlockingWorker::BlockingWorker(const ServerConfig& config, const HandlerFactory& handlers,
                               StopSource& stop, int access_log_fd)
    : config_(config),
      stop_(stop),
      handler_(handlers()),
      context_(*handler_, config.limits, config.timeouts),
      buffer_(kReceiveBytes) {
    if (access_log_fd >= 0) {
        access_log_ = std::make_unique<http::AccessLog>(access_log_fd);
        context_.set_access_log(access_log_.get());
    }
}

BlockingWorker::~BlockingWorker() {
    if (access_log_) access_log_->flush();
}

BlockingEnd BlockingWorker::serve(int fd) {
    BlockingEnd end = drive(fd);
    // A worker may live for one connection only: write its log lines before it goes.
    if (access_log_) access_log_->flush();
    return end;
}

BlockingEnd BlockingWorker::drive(int fd) {
    // Non-blocking underneath, so that a wait is always a poll() bounded by the deadline.
    core::set_nonblocking(fd);
    core::set_no_delay(fd);
    http::Session session(context_);
    if (access_log_) session.set_peer(core::peer_address(fd));
    bool stopping = false;
    std::int64_t stop_deadline_ms = 0;
    for (;;) {
        context_.tick();
        if (!stopping && stop_.requested()) {
            stopping = true;
            stop_deadline_ms = context_.now_ms() + config_.shutdown_grace_ms;
            session.request_close();
        }
        bool write_blocked = false;
        if (session.has_output() && !write_pending(fd, session, write_blocked)) {
            return BlockingEnd::failed;
        }
        if (session.should_close()) {
            if (!session.peer_closed() && (session.closing_after_error() || !stopping)) {
                linger(fd);
            }
            return BlockingEnd::finished;
        }
        short events = 0;
        if (session.wants_read()) events |= POLLIN;
        if (write_blocked) events |= POLLOUT;
        std::int64_t deadline = session.deadline_ms();
        if (stopping) deadline = std::min(deadline, stop_deadline_ms);
        int timeout = static_cast<int>(
            std::clamp<std::int64_t>(deadline - context_.now_ms(), 0, 60'000));
        pollfd waits[2] = {{fd, events, 0}, {stop_.fd(), POLLIN, 0}};
        int ready = ::poll(waits, stopping ? 1 : 2, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return BlockingEnd::failed;
        }
        context_.tick();
        // The eventfd, not requested(): in a forked worker the flag is the parent's memory.
        if (!stopping && (waits[1].revents & POLLIN)) {
            stopping = true;
            stop_deadline_ms = context_.now_ms() + config_.shutdown_grace_ms;
            session.request_close();
            continue;
        }
        if (ready == 0) {
            if (context_.now_ms() >= deadline) return BlockingEnd::timed_out;
            continue;
        }
        if ((waits[0].revents & (POLLIN | POLLHUP | POLLERR)) && session.wants_read()) {
            ssize_t n = ::recv(fd, buffer_.data(), buffer_.size(), 0);
            if (n > 0) {
                session.feed(buffer_.data(), static_cast<std::size_t>(n));
            } else if (n == 0) {
                session.on_peer_closed();
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return BlockingEnd::failed;  // reset: nobody left to answer
            }
        }
    }
}

bool BlockingWorker::write_pending(int fd, http::Session& session, bool& blocked) {
    return write_output(fd, session, blocked);
}

void BlockingWorker::linger(int fd) {
    // Half-close and drain what the client still sends, so that the kernel does not answer it
    // with a RST that could destroy the response before the client reads it.
    ::shutdown(fd, SHUT_WR);
    std::int64_t until = core::monotonic_ms() + kLingerMs;
    for (;;) {
        std::int64_t left = until - core::monotonic_ms();
        if (left <= 0) return;
        pollfd wait{fd, POLLIN, 0};
        int ready = ::poll(&wait, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return;
        ssize_t n = ::recv(fd, buffer_.data(), buffer_.size(), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    }
}

}  // namespace c10k::engine

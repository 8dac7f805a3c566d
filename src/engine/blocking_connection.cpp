#include "engine/blocking_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "core/net.hpp"
#include "engine/output.hpp"
#include "http/session.hpp"

namespace c10k::engine {

namespace {
// Small: a blocking worker exists per connection, and a pipelined burst simply takes more reads.
constexpr std::size_t kReceiveBytes = 16 * 1024;
constexpr std::int64_t kLingerMs = 2000;  // as the readiness loop: bounded lingering close

/// One report for every blocking worker of the process, so that a thousand threads shedding
/// log one line a second between them, not a thousand.
core::ShedReport& process_shed_report() {
    static core::ShedReport report;
    return report;
}

std::int64_t realtime_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

BlockingWorker::BlockingWorker(const ServerConfig& config, const HandlerFactory& handlers,
                               StopSource& stop, int access_log_fd)
    : config_(config),
      stop_(stop),
      handler_(handlers()),
      metrics_(config.metrics),
      context_(*handler_, config.limits, config.timeouts),
      buffer_(kReceiveBytes) {
    context_.set_metrics(metrics_.get());
    if (access_log_fd >= 0) {
        access_log_ = std::make_unique<http::AccessLog>(access_log_fd, config.access_log_format);
        context_.set_access_log(access_log_.get());
    }
    context_.set_descriptors(&watched_);
    if (config.overload_target_us > 0) {
        overload_ =
            std::make_unique<http::OverloadGate>(config.overload_target_us, &process_shed_report());
        context_.set_overload(overload_.get());
    }
}

BlockingWorker::~BlockingWorker() {
    if (access_log_) access_log_->flush();
}

BlockingEnd BlockingWorker::serve(int fd, std::uint8_t listener) {
    handler_->on_loop_start(context_);
    // drive() closes the Session (abandon) before it returns, so a deferred response's owner
    // has forgotten it by the time the handler hears that its loop stops.
    BlockingEnd end = drive(fd, listener);
    handler_->on_loop_stop(context_);
    // A worker may live for one connection only: write its log lines before it goes.
    if (access_log_) access_log_->flush();
    return end;
}

int BlockingWorker::wait_timeout_ms(const http::Session& session, bool stopping,
                                    std::int64_t stop_deadline_ms) const {
    std::int64_t now = context_.now_ms();
    // A waiting session has no deadline (kNoDeadline): the handler that finishes it owns the
    // time. The cap of a minute only bounds one poll(); a later deadline is simply re-read.
    std::int64_t wait = 60'000;
    std::int64_t deadline = session.deadline_ms();
    if (deadline != http::kNoDeadline) wait = std::min(wait, deadline - now);
    if (stopping) wait = std::min(wait, stop_deadline_ms - now);
    std::int64_t timer = context_.handler_timers().next_timeout_ms(now);
    if (timer >= 0) wait = std::min(wait, timer);
    return static_cast<int>(std::max<std::int64_t>(wait, 0));
}

BlockingEnd BlockingWorker::drive(int fd, std::uint8_t listener) {
    // Non-blocking underneath, so that a wait is always a poll() bounded by the deadline.
    core::set_nonblocking(fd);
    core::set_no_delay(fd);
    if (overload_) {
        // The kernel stamps each segment as it arrives; reading the stamp with the bytes tells
        // how long they sat in the socket before this thread got to them: the accept queue and
        // the thread's start for a new connection, the CPU run queue always (docs/OVERLOAD.md).
        int on = 1;
        (void)::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }
    http::Session session(context_);
    session.set_engine_data(this);
    session.set_listener(listener);
    note_peer(session, fd, config_, access_log_ || context_.handler().wants_peer());
    // Every way out closes the Session first: a deferred response's owner forgets it now.
    auto end = [&session](BlockingEnd how) {
        session.abandon();
        return how;
    };
    bool stopping = false;
    std::int64_t stop_deadline_ms = 0;
    for (;;) {
        context_.tick();
        if (!stopping && stop_.requested()) {
            stopping = true;
            stop_deadline_ms = context_.now_ms() + config_.shutdown_grace_ms;
            session.request_close();
        }
        // A dropped deferred response (Pending::close, or its client left): nothing more is
        // owed to this client, so no lingering either.
        if (session.aborted()) return end(BlockingEnd::finished);
        bool write_blocked = false;
        if (session.has_output() && !write_pending(fd, session, write_blocked)) {
            return end(BlockingEnd::failed);
        }
        if (session.should_close()) {
            session.abandon();
            if (!session.peer_closed() && (session.closing_after_error() || !stopping)) {
                linger(fd);
            }
            return end(BlockingEnd::finished);
        }
        short events = 0;
        if (session.wants_read()) {
            events |= POLLIN;
        } else if (session.suspended()) {
            // Enough input is held that the session reads no more, yet a client that leaves
            // must still be noticed: the peer's shutdown shows without reading.
            events |= POLLRDHUP;
        }
        if (write_blocked) events |= POLLOUT;
        int timeout = wait_timeout_ms(session, stopping, stop_deadline_ms);
        // The mailbox only if the handler made one (push does, static files do not): a thread
        // per connection must not pay a second descriptor per client for nothing. A negative
        // descriptor is one poll() skips: the stop descriptor once stopping.
        int mailbox = context_.has_mailbox() ? context_.mailbox().fd() : -1;
        waits_.clear();
        waits_.push_back({fd, events, 0});
        waits_.push_back({mailbox, POLLIN, 0});
        waits_.push_back({stopping ? -1 : stop_.fd(), POLLIN, 0});
        watched_.append_to(waits_);
        int ready = ::poll(waits_.data(), waits_.size(), timeout);
        const std::vector<pollfd>& waits = waits_;
        if (ready < 0) {
            if (errno == EINTR) continue;
            return end(BlockingEnd::failed);
        }
        context_.tick();
        // The eventfd, not requested(): in a forked worker the flag is the parent's memory.
        if (!stopping && (waits[2].revents & POLLIN)) {
            stopping = true;
            stop_deadline_ms = context_.now_ms() + config_.shutdown_grace_ms;
            session.request_close();
        }
        // Work from elsewhere: messages posted by other threads, then the handler's timers.
        // What they wrote to the session is written at the top of the loop; the ready list
        // can hold only this session, so it is merely emptied.
        if (waits[1].revents & POLLIN) context_.mailbox().run_pending();
        watched_.dispatch(waits, 3);
        context_.run_timers();
        context_.drain_ready([](http::Session&) {});
        if (ready == 0) {
            // Read again: a timer may have moved the session to another phase.
            std::int64_t deadline = session.deadline_ms();
            if (stopping) deadline = std::min(deadline, stop_deadline_ms);
            if (context_.now_ms() >= deadline) {
                if (context_.now_ms() >= session.deadline_ms()) session.count_timeout();
                return end(BlockingEnd::timed_out);
            }
            continue;
        }
        short got = waits[0].revents;
        if ((got & (POLLIN | POLLHUP | POLLERR)) && session.wants_read()) {
            ssize_t n = receive(fd);
            if (n > 0) {
                if (overload_) overload_->maybe_log(context_.now_ms(), "blocking workers");
                session.feed(buffer_.data(), static_cast<std::size_t>(n));
            } else if (n == 0) {
                session.on_peer_closed();
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return end(BlockingEnd::failed);  // reset: nobody left to answer
            }
        } else if ((got & (POLLRDHUP | POLLHUP | POLLERR)) && session.suspended()) {
            session.on_peer_closed();  // aborts the deferred response; closed at the top
        }
    }
}

bool BlockingWorker::write_pending(int fd, http::Session& session, bool& blocked) {
    // No disk helpers: a blocking engine's thread may wait for the disk, as it waits for all.
    FileOutput how;
    how.use_sendfile = config_.use_sendfile;
    return write_output(fd, session, blocked, how);
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

ssize_t BlockingWorker::receive(int fd) {
    if (!overload_) return ::recv(fd, buffer_.data(), buffer_.size(), 0);
    iovec data{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &message, 0);
    std::int64_t now_us = core::monotonic_us();
    // Without a stamp (none came), the bytes count as ready now: only pipelined requests
    // queued behind each other then show a delay.
    std::int64_t ready_at = now_us;
    if (n > 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
            timespec stamp;
            std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
            // The stamp is wall-clock time: its age, taken from the wall clock, is moved onto
            // the monotonic clock the detector runs on.
            std::int64_t age_ns =
                realtime_ns() - (std::int64_t{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec);
            if (age_ns > 0) ready_at = now_us - age_ns / 1000;
        }
    }
    overload_->set_ready_at(ready_at);
    return n;
}

}  // namespace c10k::engine

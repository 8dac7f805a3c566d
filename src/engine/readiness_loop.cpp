#include "engine/readiness_loop.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "core/net.hpp"
#include "engine/output.hpp"

namespace c10k::engine {

namespace {
// Every tag handed to the poller starts with its kind, so that an event finds its owner.
enum class Kind : std::uint8_t { listener, connection, external };

constexpr std::size_t kReceiveBufferBytes = 64 * 1024;
constexpr int kMaxEventsPerWait = 512;
constexpr int kAcceptsPerEvent = 64;          // then let the connections run: fairness
constexpr std::int64_t kLingerMs = 2000;      // as nginx's lingering_timeout: bounded
constexpr std::int64_t kAcceptPauseMs = 100;  // after EMFILE: no spinning on a full table
constexpr int kFewEvents = 16;                // below this a wait counts as "light load"
// Severe overload: at most one sweep of idle keep-alive connections per CoDel interval, each
// closing a quarter of them (oldest idle first), so that a burst cannot empty the table at once.
constexpr std::int64_t kIdleSweepMs = 100;
constexpr std::size_t kIdleSweepDivisor = 4;
}  // namespace

struct ReadinessLoop::Watched {
    explicit Watched(Kind k) : kind(k) {}
    Kind kind;
};

struct ReadinessLoop::Listener : Watched {
    Listener() : Watched(Kind::listener) {}
    core::unique_fd fd;
    std::uint8_t index = 0;  ///< of its --listen address: handlers may tell listeners apart
    /// Edge-triggered pollers only: the last visit stopped at kAcceptsPerEvent, so connections
    /// may still be queued, and no new edge will announce them until another one arrives.
    bool more_queued = false;
    /// Edge-triggered pollers only: accepting stopped at a connection refused for overload,
    /// and the rest of the queue is looked at in the next batch (see on_listener).
    bool refused_pending = false;
};

// A descriptor of a handler's own (a backend connection, a child's pipe).
struct ReadinessLoop::External : Watched {
    External(int descriptor, http::DescriptorTask& t)
        : Watched(Kind::external), fd(descriptor), task(&t) {}
    int fd;
    http::DescriptorTask* task;  ///< nullptr once unwatched (a stale event finds nothing)
    std::uint32_t events = 0;    ///< what the task watches for now (DescriptorTask bits)
};

// The TimerNode is a base, so that a fired timer finds its connection with a static_cast.
struct ReadinessLoop::Connection : Watched, core::TimerNode {
    Connection(int descriptor, http::LoopContext& context)
        : Watched(Kind::connection), fd(descriptor), session(context) {}

    bool may_read = false;       // readiness seen and not yet read to EAGAIN / a short read
    bool hangup_seen = false;    // the poller reported the peer's close: read until EOF
    bool write_blocked = false;  // the socket buffer was full at the last write
    bool disk_wait = false;      // a helper reads the next file range: send nothing until then
    /// Bytes at the front of the file output that a helper just read: sent even if evicted
    /// again, and only they unchecked (write_output).
    std::uint64_t trusted_bytes = 0;
    bool lingering = false;
    bool closed = false;  // closed during this batch; freed after it
    std::uint32_t interest = 0;
    int fd;
    std::int64_t linger_until_ms = 0;
    http::Session session;
    Connection* prev = nullptr;
    Connection* next = nullptr;
};

ReadinessLoop::ReadinessLoop(std::unique_ptr<Poller> poller, std::vector<core::unique_fd> listeners,
                             std::unique_ptr<http::Handler> handler, LoopShared shared)
    : poller_(std::move(poller)),
      handler_(std::move(handler)),
      shared_(shared),
      metrics_(shared.config.metrics),
      context_(*handler_, shared.config.limits, shared.config.timeouts),
      timers_(core::monotonic_ms(), 100, 1024),
      receive_buffer_(kReceiveBufferBytes) {
    context_.set_loop_index(shared_.loop_index);
    context_.set_metrics(metrics_.get());
    if (shared_.loop_index == 0) heartbeat_ = shared_.config.heartbeat;
    if (shared_.config.overload_target_us > 0) {
        overload_ = std::make_unique<http::OverloadGate>(shared_.config.overload_target_us);
        context_.set_overload(overload_.get());
    }
    context_.set_descriptors(this);
    file_output_.use_sendfile = shared.config.use_sendfile;
    if (shared.config.disk_helpers > 0) {
        file_output_.check_cache = true;
        helpers_ = std::make_unique<DiskHelpers>(shared.config.disk_helpers, context_.mailbox());
    }
    if (shared_.access_log_fd >= 0) {
        access_log_ = std::make_unique<http::AccessLog>(shared_.access_log_fd,
                                                        shared_.config.access_log_format);
        context_.set_access_log(access_log_.get());
    }
    for (auto& fd : listeners) {
        auto listener = std::make_unique<Listener>();
        listener->fd = std::move(fd);
        listener->index = static_cast<std::uint8_t>(listeners_.size());
        listeners_.push_back(std::move(listener));
    }
}

ReadinessLoop::~ReadinessLoop() {
    while (connections_ != nullptr) close(*connections_);
    // Waits for reads still running; their completions stay in the mailbox, never run.
    helpers_.reset();
    for (Connection* conn : disk_orphans_) delete conn;
    reap();
}

int ReadinessLoop::wait_timeout_ms() const {
    std::int64_t now = context_.now_ms();
    std::int64_t timeout = timers_.next_timeout_ms(now);
    auto at_most = [&timeout](std::int64_t ms) {
        ms = std::max<std::int64_t>(ms, 0);
        if (timeout < 0 || ms < timeout) timeout = ms;
    };
    std::int64_t handler_timeout = context_.handler_timers().next_timeout_ms(now);
    if (handler_timeout >= 0) at_most(handler_timeout);
    if (!accepting_ && !stopping_) at_most(accept_paused_until_ms_ - now);
    if (stopping_) at_most(shutdown_deadline_ms_ - now);
    if (access_log_) at_most(1000);
    if (std::int64_t beat = heartbeat_.until_next(now); beat >= 0) at_most(beat);
    for (const auto& listener : listeners_) {
        if (listener->more_queued || listener->refused_pending) at_most(0);
    }
    return static_cast<int>(std::min<std::int64_t>(timeout, 60'000));
}

int ReadinessLoop::run() {
    for (auto& listener : listeners_) {
        if (!poller_->add(listener->fd.get(), Poller::readable,
                          static_cast<Watched*>(listener.get()))) {
            core::log(core::LogLevel::error, "cannot watch a listener: {}", std::strerror(errno));
            return 1;
        }
    }
    if (!poller_->add(shared_.stop.fd(), Poller::readable, &stop_tag_)) {
        core::log(core::LogLevel::error, "cannot watch the stop signal: {}", std::strerror(errno));
        return 1;
    }
    if (!poller_->add(context_.mailbox().fd(), Poller::readable, &mailbox_tag_)) {
        core::log(core::LogLevel::error, "cannot watch the loop's mailbox: {}",
                  std::strerror(errno));
        return 1;
    }
    handler_->on_loop_start(context_);
    std::vector<Poller::Event> events(kMaxEventsPerWait);
    for (;;) {
        context_.tick();
        heartbeat_.tick(context_.now_ms());
        core::Result<int> waited = 0;
        if (overload_) {
            waited = wait_measuring_lag(events.data(), kMaxEventsPerWait);
        } else {
            waited = poller_->wait(events.data(), kMaxEventsPerWait, wait_timeout_ms());
        }
        if (!waited) {
            core::log(core::LogLevel::error, "poller wait failed: {}",
                      std::strerror(waited.error()));
            return 1;
        }
        context_.tick();
        int count = *waited;
        for (auto& listener : listeners_) {
            if (listener->refused_pending && accepting_ && !stopping_) on_listener(*listener);
        }
        for (int i = 0; i < count; ++i) {
            void* tag = events[i].tag;
            if (tag == &stop_tag_) {
                begin_shutdown();
                continue;
            }
            if (tag == &mailbox_tag_) {
                context_.mailbox().run_pending();
                continue;
            }
            auto* watched = static_cast<Watched*>(tag);
            if (watched->kind == Kind::listener) {
                // A stop earlier in this batch closed the listeners (their objects live until
                // the batch ends): nothing more is accepted.
                if (!stopping_) on_listener(*static_cast<Listener*>(watched));
            } else if (watched->kind == Kind::connection) {
                on_connection(*static_cast<Connection*>(watched), events[i].events);
            } else {
                auto* external = static_cast<External*>(watched);
                std::uint32_t bits = 0;
                if (events[i].events & (Poller::in | Poller::hangup | Poller::error)) {
                    bits |= http::DescriptorTask::readable;
                }
                if (events[i].events & (Poller::out | Poller::hangup | Poller::error)) {
                    bits |= http::DescriptorTask::writable;
                }
                // An event gathered before the task changed what it watches (in this batch)
                // may carry what it no longer wants.
                bits &= external->events;
                if (external->task != nullptr && bits != 0) external->task->on_ready(bits);
            }
        }
        closed_listeners_.clear();  // no event of this batch refers to them any more
        // Go on accepting what the fairness cap left queued, after the connections had a turn.
        for (auto& listener : listeners_) {
            if (listener->more_queued && accepting_) on_listener(*listener);
        }
        timers_.advance(context_.now_ms(), [this](core::TimerNode& node) { on_timer(node); });
        context_.run_timers();
        run_ready();
        if (!accepting_ && !stopping_ && context_.now_ms() >= accept_paused_until_ms_) {
            resume_accepting();
        }
        if (access_log_ && context_.now_s() != last_flush_s_) {
            last_flush_s_ = context_.now_s();
            access_log_->flush();
        }
        if (overload_) {
            close_idle_when_overloaded();
            overload_->maybe_log(context_.now_ms(), "event loop");
            previous_batch_us_ = core::monotonic_us() - batch_started_us_;
        }
        reap();
        if (stopping_) {
            // A closed connection's helper read still names it: wait for that too.
            if (connection_count_ == 0 && disk_reads_in_flight_ == 0) break;
            if (context_.now_ms() >= shutdown_deadline_ms_) {
                while (connections_ != nullptr) close(*connections_);
                reap();
                break;
            }
        }
        // Light load: every event woke the loop on its own. Sleeping a little lets the next
        // few arrive together, trading a bounded latency for fewer wake-ups.
        if (shared_.config.batch_us > 0 && count > 0 && count < kFewEvents && !stopping_) {
            timespec pause{0, shared_.config.batch_us * 1000};
            ::nanosleep(&pause, nullptr);
        }
    }
    handler_->on_loop_stop(context_);
    if (access_log_) access_log_->flush();
    return 0;
}

void ReadinessLoop::run_ready() {
    // Deferred responses that got output from elsewhere (a publish, a timer, a posted task):
    // one flush per connection per batch, however many messages it was given.
    context_.drain_ready([this](http::Session& session) {
        auto* conn = static_cast<Connection*>(session.engine_data());
        if (conn != nullptr && !conn->closed && !conn->lingering) drive(*conn);
    });
}

void ReadinessLoop::reap() {
    for (Connection* conn : graveyard_) delete conn;
    graveyard_.clear();
    external_graveyard_.clear();
}

bool ReadinessLoop::watch(int fd, std::uint32_t events, http::DescriptorTask& task) {
    if (fd < 0) {
        errno = EBADF;
        return false;
    }
    // Level-triggered even on edge-triggered epoll: a task may leave input unread (a proxy
    // whose client is slow) and must hear about it again (http::DescriptorWatcher's promise).
    std::uint32_t interest = Poller::level;
    if (events & http::DescriptorTask::readable) interest |= Poller::readable;
    if (events & http::DescriptorTask::writable) interest |= Poller::writable;
    auto index = static_cast<std::size_t>(fd);
    if (index >= externals_.size()) externals_.resize(index + 1);
    auto& slot = externals_[index];
    if (slot) {
        slot->task = &task;
        // Another task taking over a descriptor (a pooled connection handed from its idle
        // watch to a request) with the same events: no system call. The watch is
        // level-triggered, so nothing is missed by not re-arming it.
        if (slot->events == events) return true;
        if (!poller_->modify(fd, interest, static_cast<Watched*>(slot.get()))) return false;
        slot->events = events;
        return true;
    }
    auto external = std::make_unique<External>(fd, task);
    if (!poller_->add(fd, interest, static_cast<Watched*>(external.get()))) return false;
    external->events = events;
    slot = std::move(external);
    return true;
}

void ReadinessLoop::unwatch(int fd) {
    auto index = static_cast<std::size_t>(fd);
    if (fd < 0 || index >= externals_.size() || !externals_[index]) return;
    poller_->remove(fd);
    // A later event of this batch may still carry its tag: keep the object until the reap.
    externals_[index]->task = nullptr;
    external_graveyard_.push_back(std::move(externals_[index]));
}

void ReadinessLoop::on_listener(Listener& listener) {
    listener.more_queued = false;
    listener.refused_pending = false;
    for (int i = 0; i < kAcceptsPerEvent && accepting_; ++i) {
        int fd = accept_nonblocking(listener.fd.get());
        if (fd < 0) {
            int error = errno;
            if (error == EAGAIN || error == EWOULDBLOCK) return;
            if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
            if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
                // Out of descriptors: shed one waiting client, then stop accepting for a
                // moment instead of spinning on a listener that stays readable.
                if (spare_.shed_one(listener.fd.get())) ++stats_.shed_out_of_fds;
                if (fd_log_.allow(context_.now_ms())) {
                    core::log(core::LogLevel::warn,
                              "accept: {} ({} connections open); pausing accepts for {} ms",
                              std::strerror(error), connection_count_, kAcceptPauseMs);
                }
                pause_accepting(kAcceptPauseMs);
                return;
            }
            if (fd_log_.allow(context_.now_ms())) {
                core::log(core::LogLevel::warn, "accept: {}", std::strerror(error));
            }
            return;
        }
        core::unique_fd owned(fd);
        if (fd >= poller_->max_fd()) {
            ++stats_.refused_fd_too_high;
            if (fd_log_.allow(context_.now_ms())) {
                core::log(core::LogLevel::warn,
                          "refused a connection: descriptor {} is beyond this engine's limit of "
                          "{} ({} refused so far)",
                          fd, poller_->max_fd(), stats_.refused_fd_too_high);
            }
            continue;
        }
        if (fd >= descriptor_ceiling()) {
            // Nearly out of descriptors: keep the rest for the clients already held.
            ++stats_.shed_out_of_fds;
            if (fd_log_.allow(context_.now_ms())) {
                core::log(core::LogLevel::warn,
                          "refused a connection with 503: descriptor {} is within the reserve "
                          "below the descriptor limit ({} connections open)",
                          fd, connection_count_);
            }
            reject_busy(std::move(owned));
            continue;
        }
        if (overload_ && refuse_when_overloaded(owned)) {
            // No more accepts in this batch: a client told no at once comes straight back,
            // and would be refused again on the same (now stale) estimate of the lag. The
            // queue is looked at afresh in the next batch (level-triggered pollers report the
            // listener again; edge-triggered ones are reminded).
            listener.refused_pending = poller_->edge_triggered();
            return;
        }
        if (!shared_.budget.try_acquire()) {
            ++stats_.rejected_over_cap;
            reject_busy(std::move(owned));
            continue;
        }
        core::set_no_delay(fd);
        auto* conn = new Connection(fd, context_);
        std::uint32_t interest =
            poller_->edge_triggered() ? (Poller::readable | Poller::writable) : Poller::readable;
        if (!poller_->add(fd, interest, static_cast<Watched*>(conn))) {
            shared_.budget.release();
            delete conn;
            continue;
        }
        owned.release();
        conn->interest = interest;
        conn->session.set_engine_data(conn);
        conn->session.set_listener(listener.index);
        conn->next = connections_;
        if (connections_ != nullptr) connections_->prev = conn;
        connections_ = conn;
        ++connection_count_;
        ++stats_.accepted;
        note_peer(conn->session, fd, shared_.config,
                  access_log_ || context_.handler().wants_peer());
        if (stopping_) conn->session.request_close();
        update_timer(*conn);
    }
    // The loop ended at the cap rather than at EAGAIN: look again after this batch.
    listener.more_queued = accepting_ && poller_->edge_triggered();
}

void ReadinessLoop::on_connection(Connection& conn, std::uint32_t events) {
    if (conn.closed) return;
    if (events & (Poller::in | Poller::hangup | Poller::error)) conn.may_read = true;
    if (events & Poller::hangup) conn.hangup_seen = true;
    if (events & (Poller::out | Poller::hangup | Poller::error)) conn.write_blocked = false;
    if (conn.lingering) {
        // Discard what the client still sends until it closes or the linger time is up.
        for (;;) {
            ssize_t n = ::read(conn.fd, receive_buffer_.data(), receive_buffer_.size());
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            close(conn);
            return;
        }
        conn.may_read = false;
        return;
    }
    drive(conn);
}

void ReadinessLoop::drive(Connection& conn) {
    http::Session& session = conn.session;
    for (;;) {
        if (session.aborted()) {
            close(conn);  // a dropped deferred response: nothing more is owed to this client
            return;
        }
        if (session.has_output() && !conn.write_blocked && !conn.disk_wait) {
            if (!flush(conn)) {
                close(conn);
                return;
            }
        }
        if (session.should_close()) {
            bool linger = !session.peer_closed() && (session.closing_after_error() || !stopping_);
            if (linger) {
                start_lingering(conn);
            } else {
                close(conn);
            }
            return;
        }
        if (!conn.may_read || !session.wants_read()) break;
        ssize_t n = ::recv(conn.fd, receive_buffer_.data(), receive_buffer_.size(), 0);
        if (n > 0) {
            // A short read drained the socket (epoll(7)): skip the read that would only say
            // EAGAIN. New data after this raises a new edge. Not when the peer's close came
            // in the same event: no edge follows it, and a client that sent a request and
            // closed at once would go unnoticed until its answer was written (a push
            // subscriber, a proxied request that the proxy would wait on for nothing).
            if (static_cast<std::size_t>(n) < receive_buffer_.size() && !conn.hangup_seen) {
                conn.may_read = false;
            }
            session.feed(receive_buffer_.data(), static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            conn.may_read = false;
            session.on_peer_closed();
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            conn.may_read = false;
            break;
        }
        close(conn);  // ECONNRESET and the like: nobody to answer
        return;
    }
    update_interest(conn);
    if (!conn.closed) update_timer(conn);
}

bool ReadinessLoop::flush(Connection& conn) {
    if (!helpers_) return write_output(conn.fd, conn.session, conn.write_blocked, file_output_);
    FileOutput how = file_output_;
    how.check_cache = true;
    http::FileRange uncached;
    if (!write_output(conn.fd, conn.session, conn.write_blocked, how, &uncached,
                      &conn.trusted_bytes)) {
        return false;
    }
    if (uncached.length == 0 || read_on_helper(conn, uncached)) return true;
    // No helper could take it (out of descriptors): read on the loop, as without helpers.
    return write_output(conn.fd, conn.session, conn.write_blocked, file_output_);
}

bool ReadinessLoop::read_on_helper(Connection& conn, const http::FileRange& range) {
    // The helper gets its own descriptor: the response's OpenFile is counted without atomics,
    // and may go (the client leaves) while the helper still reads.
    int fd = ::fcntl(range.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return false;
    conn.disk_wait = true;
    ++disk_reads_in_flight_;
    helpers_->read(fd, range.offset, range.length,
                   [this, &conn, wanted = range.length](DiskReadResult result) {
                       on_disk_read(conn, wanted, result);
                   });
    return true;
}

void ReadinessLoop::on_disk_read(Connection& conn, std::uint64_t wanted, DiskReadResult result) {
    --disk_reads_in_flight_;
    conn.disk_wait = false;
    bool complete = result.complete(wanted);
    context_.count(complete ? &http::LoopMetrics::disk_helper_reads
                            : &http::LoopMetrics::disk_helper_failures);
    if (conn.closed) {
        std::erase(disk_orphans_, &conn);
        graveyard_.push_back(&conn);
        return;
    }
    if (!complete) {
        // The head went out with a length the file no longer has (truncated under us), or the
        // disk failed: sending anything else would be wrong bytes. Close instead.
        if (fd_log_.allow(context_.now_ms())) {
            core::log(core::LogLevel::warn, "closing a connection: a file read {} of {} bytes ({})",
                      result.bytes, wanted,
                      result.error != 0 ? std::strerror(result.error) : "file shrank");
        }
        close(conn);
        return;
    }
    conn.trusted_bytes = wanted;
    drive(conn);
}

void ReadinessLoop::update_interest(Connection& conn) {
    if (poller_->edge_triggered()) return;  // registered for both once, never changed
    std::uint32_t wanted = 0;
    if (conn.lingering || conn.session.wants_read()) wanted |= Poller::readable;
    if (!conn.lingering && conn.session.has_output() && conn.write_blocked) {
        wanted |= Poller::writable;
    }
    if (wanted != conn.interest) {
        if (!poller_->modify(conn.fd, wanted, static_cast<Watched*>(&conn))) {
            close(conn);
            return;
        }
        conn.interest = wanted;
    }
}

void ReadinessLoop::update_timer(Connection& conn) {
    std::int64_t deadline = conn.lingering ? conn.linger_until_ms : conn.session.deadline_ms();
    if (deadline == http::kNoDeadline) return;  // a timer already armed re-reads it when it fires
    // Lazy: a later deadline is noticed when the earlier timer fires, so a busy connection
    // touches the wheel only when its deadline moves earlier.
    if (!conn.scheduled() || deadline < conn.expires_ms) timers_.schedule(conn, deadline);
}

void ReadinessLoop::on_timer(core::TimerNode& node) {
    auto& conn = static_cast<Connection&>(node);
    if (conn.closed) return;
    std::int64_t deadline = conn.lingering ? conn.linger_until_ms : conn.session.deadline_ms();
    if (deadline == http::kNoDeadline) return;
    if (deadline > context_.now_ms()) {
        timers_.schedule(conn, deadline);
        return;
    }
    if (!conn.lingering) {
        ++stats_.timed_out;
        conn.session.count_timeout();
    }
    close(conn);
}

void ReadinessLoop::start_lingering(Connection& conn) {
    // Half-close, then read and drop what the client still sends: closing with unread input
    // would make the kernel send a RST that can destroy the response before it is read.
    ::shutdown(conn.fd, SHUT_WR);
    conn.lingering = true;
    conn.linger_until_ms = context_.now_ms() + kLingerMs;
    update_interest(conn);
    timers_.schedule(conn, conn.linger_until_ms);
    if (conn.may_read) on_connection(conn, 0);
}

void ReadinessLoop::close(Connection& conn) {
    if (conn.closed) return;
    conn.closed = true;
    conn.session.abandon();  // a subscriber's owner forgets it now, not at the reap
    timers_.cancel(conn);
    poller_->remove(conn.fd);
    ::close(conn.fd);
    if (conn.prev != nullptr) conn.prev->next = conn.next;
    if (conn.next != nullptr) conn.next->prev = conn.prev;
    if (connections_ == &conn) connections_ = conn.next;
    --connection_count_;
    shared_.budget.release();
    if (conn.disk_wait) {
        disk_orphans_.push_back(&conn);  // the helper's completion frees it
    } else {
        graveyard_.push_back(&conn);
    }
}

void ReadinessLoop::pause_accepting(std::int64_t for_ms) {
    for (auto& listener : listeners_) poller_->remove(listener->fd.get());
    accepting_ = false;
    accept_paused_until_ms_ = context_.now_ms() + for_ms;
}

void ReadinessLoop::resume_accepting() {
    for (auto& listener : listeners_) {
        auto added = poller_->add(listener->fd.get(), Poller::readable,
                                  static_cast<Watched*>(listener.get()));
        (void)added;  // it was watched before the pause; nothing new can fail here
    }
    accepting_ = true;
}

void ReadinessLoop::begin_shutdown() {
    if (stopping_) return;
    stopping_ = true;
    heartbeat_.stop_seen();
    shutdown_deadline_ms_ = context_.now_ms() + shared_.config.shutdown_grace_ms;
    poller_->remove(shared_.stop.fd());
    if (accepting_) {
        for (auto& listener : listeners_) poller_->remove(listener->fd.get());
    }
    accepting_ = false;
    // Closed now (new clients are refused, or go to a successor that holds the same sockets),
    // but their objects stay until the batch of events this stop came in is handled: a later
    // event of it may name one of them.
    for (auto& listener : listeners_) listener->fd.reset();
    closed_listeners_ = std::move(listeners_);
    listeners_.clear();
    for (Connection* conn = connections_; conn != nullptr;) {
        Connection* next = conn->next;
        conn->session.request_close();
        drive(*conn);
        conn = next;
    }
}

core::Result<int> ReadinessLoop::wait_measuring_lag(Poller::Event* events, int max) {
    // The loop lag. The poller does not say when an event became ready, only that it is. So
    // it is asked first without waiting: events ready at once had been ready while the last
    // batch was handled, and are taken to have waited all of it (an upper bound: the oldest
    // did). Nothing ready means the loop had caught up: what the blocking wait then returns
    // is fresh (lag 0). Each request's delay runs from there to its dispatch, so that the
    // tenth request of a batch has also waited for the nine before it. The probe costs a
    // system call on the idle path only.
    auto waited = poller_->wait(events, max, 0);
    std::int64_t lag = previous_batch_us_;
    if (waited && *waited == 0) {
        waited = poller_->wait(events, max, wait_timeout_ms());
        lag = 0;
    }
    batch_started_us_ = core::monotonic_us();
    overload_->set_ready_at(batch_started_us_ - lag);
    return waited;
}

bool ReadinessLoop::refuse_when_overloaded(core::unique_fd& owned) {
    if (!overload_->refuse_connection()) return false;
    // Closed before a byte is read: the cheapest refusal there is. Clients of a balancer go to
    // another server; the others retry later.
    ++stats_.shed_overloaded;
    context_.count(&http::LoopMetrics::overload_shed_connections);
    owned.reset();
    return true;
}

void ReadinessLoop::close_idle_when_overloaded() {
    if (!overload_->state().severe() || stopping_) return;
    if (context_.now_ms() - idle_closed_ms_ < kIdleSweepMs) return;
    idle_closed_ms_ = context_.now_ms();
    // Idle keep-alive connections: between requests, after at least one. Their deadline is
    // their last activity plus the keep-alive timeout, so the earliest deadline is the one idle
    // longest: those go first (their clients are the least likely to be waiting on us).
    std::vector<std::pair<std::int64_t, Connection*>> idle;
    for (Connection* conn = connections_; conn != nullptr; conn = conn->next) {
        if (conn->closed || conn->lingering) continue;
        const http::Session& session = conn->session;
        if (session.phase() != http::Phase::idle || session.requests() == 0) continue;
        idle.emplace_back(session.deadline_ms(), conn);
    }
    if (idle.empty()) return;
    std::size_t count = std::max<std::size_t>(1, idle.size() / kIdleSweepDivisor);
    std::nth_element(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(count - 1),
                     idle.end());
    for (std::size_t i = 0; i < count; ++i) {
        context_.count(&http::LoopMetrics::overload_closed_idle);
        overload_->report().count_idle_closed();
        close(*idle[i].second);
    }
}

}  // namespace c10k::engine

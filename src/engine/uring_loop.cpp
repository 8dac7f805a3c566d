// The io_uring loop's set-up and its iteration: accepts, the mailbox, timers, the ready list of
// deferred responses, and shutdown. One connection's I/O is in uring_connection.cpp.

#include "engine/uring_loop.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "core/net.hpp"
#include "engine/uring_probe.hpp"

namespace c10k::engine {

UringLoop::UringLoop(std::vector<core::unique_fd> listeners, std::unique_ptr<http::Handler> handler,
                     LoopShared shared)
    : handler_(std::move(handler)),
      shared_(shared),
      metrics_(shared.config.metrics),
      context_(*handler_, shared.config.limits, shared.config.timeouts),
      timers_(core::monotonic_ms(), 100, 1024) {
    context_.set_loop_index(shared_.loop_index);
    context_.set_metrics(metrics_.get());
    if (shared_.loop_index == 0) heartbeat_ = shared_.config.heartbeat;
    if (shared_.config.overload_target_us > 0) {
        overload_ = std::make_unique<http::OverloadGate>(shared_.config.overload_target_us);
        context_.set_overload(overload_.get());
    }
    for (auto& fd : listeners) {
        auto listener = std::make_unique<Listener>();
        listener->fd = std::move(fd);
        listener->index = static_cast<std::uint8_t>(listeners_.size());
        listeners_.push_back(std::move(listener));
    }
    if (shared.access_log_fd >= 0) {
        access_log_ = std::make_unique<http::AccessLog>(shared.access_log_fd,
                                                        shared.config.access_log_format);
        context_.set_access_log(access_log_.get());
    }
}

UringLoop::~UringLoop() {
    if (ring_ready_) io_uring_queue_exit(&ring_);  // cancels whatever is still in flight
    ring_ready_ = false;
    for (Connection* conn = connections_; conn != nullptr;) {
        Connection* next = conn->next;
        ::close(conn->fd);
        delete conn;
        conn = next;
    }
    for (Connection* conn : graveyard_) {
        ::close(conn->fd);
        delete conn;
    }
    if (buffers_ != nullptr) ::munmap(buffers_, buffer_memory_bytes());
}

int UringLoop::run() {
    if (std::string error = setup(); !error.empty()) {
        core::log(core::LogLevel::error, "uring: {}", error);
        return 1;
    }
    if (!context_.mailbox().valid()) {
        core::log(core::LogLevel::error, "uring: the loop's mailbox has no eventfd");
        return 1;
    }
    context_.set_descriptors(this);
    for (auto& listener : listeners_) arm_accept(*listener);
    io_uring_prep_poll_add(sqe(), shared_.stop.fd(), POLLIN);
    io_uring_sqe_set_data64(last_sqe_, tag(this, op_stop));
    arm_mailbox();
    handler_->on_loop_start(context_);
    int result = serve();
    // Whatever is still open is closed before the handler stops, so that the owners of deferred
    // responses hear of it while they can still act (as the readiness loop does at its
    // deadline).
    close_all();
    handler_->on_loop_stop(context_);
    context_.set_descriptors(nullptr);
    if (access_log_) access_log_->flush();
    return result;
}

int UringLoop::serve() {
    for (;;) {
        context_.tick();
        heartbeat_.tick(context_.now_ms());
        offer_buffers();
        int wait = wait_timeout_ms();
        __kernel_timespec timeout{wait / 1000, (wait % 1000) * 1'000'000LL};
        io_uring_cqe* cqe = nullptr;
        // Completions already there before the wait had waited through the last batch (see
        // ReadinessLoop::wait_measuring_lag); with none, what the wait brings is fresh.
        bool behind = overload_ && io_uring_cq_ready(&ring_) > 0;
        int result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1,
                                                      wait < 0 ? nullptr : &timeout, nullptr);
        if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY) {
            core::log(core::LogLevel::error, "uring: {}",
                      describe_uring_error("io_uring_submit_and_wait", -result));
            return 1;
        }
        context_.tick();
        if (overload_) note_batch_ready(behind);
        unsigned head;
        unsigned seen = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            complete(*cqe);
        }
        io_uring_cq_advance(&ring_, seen);
        if (!mailbox_armed_) return 1;  // on_mailbox said why
        rearm_starved();
        recycled_ = false;
        timers_.advance(context_.now_ms(), [this](core::TimerNode& node) { on_timer(node); });
        context_.run_timers();
        run_ready();
        if (!stopping_ && accept_paused_until_ms_ != 0 &&
            context_.now_ms() >= accept_paused_until_ms_) {
            accept_paused_until_ms_ = 0;
            for (auto& listener : listeners_) arm_accept(*listener);
        }
        if (access_log_ && context_.now_s() != last_flush_s_) {
            last_flush_s_ = context_.now_s();
            access_log_->flush();
        }
        if (overload_) {
            overload_->maybe_log(context_.now_ms(), "io_uring loop");
            previous_batch_us_ = core::monotonic_us() - batch_started_us_;
        }
        reap();
        if (stopping_) {
            // Also until every cancelled accept has said its last word: a connection it took
            // meanwhile is in a completion still to be read.
            bool accepting = false;
            for (const auto& listener : listeners_) accepting = accepting || listener->armed;
            if (open_ == 0 && !accepting) break;
            if (context_.now_ms() >= shutdown_deadline_ms_) break;
        }
    }
    return 0;
}

std::string UringLoop::setup() {
    int result = open_uring(ring_, kRingEntries);
    if (result < 0) return describe_uring_error("io_uring_setup", -result);
    ring_ready_ = true;
    // One mapping: the ring of buffer descriptors (page aligned, first), then the buffers.
    buffers_ = ::mmap(nullptr, buffer_memory_bytes(), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buffers_ == MAP_FAILED) {
        buffers_ = nullptr;
        return fmt::format("mmap: {}", std::strerror(errno));
    }
    buffer_ring_ = static_cast<io_uring_buf_ring*>(buffers_);
    buffer_base_ = static_cast<char*>(buffers_) + kBufferCount * sizeof(io_uring_buf);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uint64_t>(buffer_ring_);
    registration.ring_entries = kBufferCount;
    registration.bgid = kBufferGroup;
    result = io_uring_register_buf_ring(&ring_, &registration, 0);
    if (result < 0) return describe_uring_error("io_uring_register_buf_ring", -result);
    io_uring_buf_ring_init(buffer_ring_);
    spare_buffers_.reserve(kBufferCount);
    for (unsigned i = kBufferCount; i > 0; --i) {
        spare_buffers_.push_back(static_cast<std::uint16_t>(i - 1));
    }
    offer_buffers();
    // Each io_uring_enter then names the ring by its index in the ring's own table instead of
    // a descriptor the kernel must look up (5.18+; without it, the descriptor works as before).
    io_uring_register_ring_fd(&ring_);
    // A sparse table of registered files (5.19+), as large as the descriptor limit allows:
    // connections take a slot when accepted (register_file). Refused: sends use descriptors.
    rlimit limit{};
    unsigned slots = kFixedFiles;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < slots) {
        slots = static_cast<unsigned>(limit.rlim_cur);
    }
    if (slots > 0 && io_uring_register_files_sparse(&ring_, slots) == 0) {
        free_slots_.reserve(slots);
        for (unsigned i = slots; i > 0; --i) free_slots_.push_back(i - 1);
    }
    return {};
}

io_uring_sqe* UringLoop::sqe() {
    io_uring_sqe* entry = io_uring_get_sqe(&ring_);
    while (entry == nullptr) {  // the queue is full: hand this batch over, then go on
        offer_buffers();
        io_uring_submit(&ring_);
        entry = io_uring_get_sqe(&ring_);
    }
    last_sqe_ = entry;
    return entry;
}

int UringLoop::wait_timeout_ms() const {
    std::int64_t now = context_.now_ms();
    std::int64_t timeout = timers_.next_timeout_ms(now);
    auto at_most = [&timeout](std::int64_t ms) {
        ms = std::max<std::int64_t>(ms, 0);
        if (timeout < 0 || ms < timeout) timeout = ms;
    };
    // Handlers' timers (a long-poll's timeout, a stream's heartbeat) wake the loop too.
    std::int64_t handler_timeout = context_.handler_timers().next_timeout_ms(now);
    if (handler_timeout >= 0) at_most(handler_timeout);
    if (context_.has_ready()) at_most(0);
    if (accept_paused_until_ms_ != 0) at_most(accept_paused_until_ms_ - now);
    if (stopping_) at_most(shutdown_deadline_ms_ - now);
    if (access_log_) at_most(1000);
    if (std::int64_t beat = heartbeat_.until_next(now); beat >= 0) at_most(beat);
    return static_cast<int>(std::min<std::int64_t>(timeout, 60'000));
}

void UringLoop::complete(const io_uring_cqe& cqe) {
    std::uint64_t data = cqe.user_data;
    auto op = static_cast<Op>(data & kOpMask);
    void* object = reinterpret_cast<void*>(data & ~kOpMask);
    switch (op) {
        case op_accept:
            on_accept(*static_cast<Listener*>(object), cqe);
            break;
        case op_recv:
            on_receive(*static_cast<Connection*>(object), cqe);
            break;
        case op_send:
            on_sent(*static_cast<Connection*>(object), cqe.res);
            break;
        case op_splice_in:
            on_spliced_in(*static_cast<Connection*>(object), cqe.res);
            break;
        case op_splice_out:
            on_spliced_out(*static_cast<Connection*>(object), cqe.res);
            break;
        case op_file_read:
            on_file_read(*static_cast<Connection*>(object), cqe.res);
            break;
        case op_writable:
            on_writable(*static_cast<Connection*>(object));
            break;
        case op_mailbox:
            on_mailbox(cqe);
            break;
        case op_watch:
            on_watch(*static_cast<Watch*>(object), cqe.res);
            break;
        case op_register:
            on_registered(*static_cast<Connection*>(object), cqe.res);
            break;
        case op_stop:
            begin_shutdown();
            break;
        default:
            break;
    }
}

// ---- the mailbox: work other threads post to this loop -------------------------------------

void UringLoop::arm_mailbox() {
    // A multishot POLL_ADD on the mailbox's eventfd: one SQE for the life of the loop, and a
    // completion per wake-up (the mailbox writes the eventfd once per batch of posts, not per
    // task). A read SQE on the eventfd would do as well, but needs a new SQE after every wake
    // and a buffer that outlives it; run_pending() reads the counter itself anyway.
    //
    // IORING_OP_MSG_RING (one ring posting a completion straight into another) would save the
    // eventfd's write and read, but only a thread that owns a ring can send one, and with
    // SINGLE_ISSUER only from that ring's own thread: a poster that is not a uring loop (a
    // helper thread, another engine's loop, the process-wide hub) has none. core::Mailbox
    // serves every engine with one eventfd, so the uring loop watches that instead.
    io_uring_prep_poll_multishot(sqe(), context_.mailbox().fd(), POLLIN);
    io_uring_sqe_set_data64(last_sqe_, tag(this, op_mailbox));
    mailbox_armed_ = true;
}

void UringLoop::on_mailbox(const io_uring_cqe& cqe) {
    bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
    if (cqe.res > 0) context_.mailbox().run_pending();
    if (more) return;
    // The kernel ended the multishot poll (a full completion queue ends every multishot
    // request): arm it again, after running what it announced. An error means the loop can no
    // longer hear its mailbox, and posted work would wait forever: the loop fails instead.
    if (cqe.res < 0 && cqe.res != -ECANCELED) {
        core::log(core::LogLevel::error, "uring: cannot watch the loop's mailbox: {}",
                  std::strerror(-cqe.res));
        mailbox_armed_ = false;
        return;
    }
    arm_mailbox();
}

void UringLoop::run_ready() {
    // Deferred responses that got output from elsewhere (a publish, a timer, a posted task):
    // one drive per connection per batch, however many messages it was given. A connection
    // whose send is in flight is driven again when that completes.
    context_.drain_ready([this](http::Session& session) {
        auto* conn = static_cast<Connection*>(session.engine_data());
        if (conn != nullptr && !conn->closed && !conn->lingering) drive(*conn);
    });
}

// ---- accepting -----------------------------------------------------------------------------

void UringLoop::arm_accept(Listener& listener) {
    if (listener.armed || !listener.fd) return;
    io_uring_prep_multishot_accept(sqe(), listener.fd.get(), nullptr, nullptr,
                                   SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(last_sqe_, tag(&listener, op_accept));
    listener.armed = true;
}

void UringLoop::on_accept(Listener& listener, const io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_MORE)) listener.armed = false;
    if (cqe.res < 0) {
        int error = -cqe.res;
        if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
            spare_.shed_one(listener.fd.get());
            if (fd_log_.allow(context_.now_ms())) {
                core::log(core::LogLevel::warn, "accept: {} ({} connections open)",
                          std::strerror(error), open_);
            }
            if (listener.armed) {
                io_uring_prep_cancel64(sqe(), tag(&listener, op_accept), 0);
                io_uring_sqe_set_data64(last_sqe_, op_ignore);
            }
            accept_paused_until_ms_ = context_.now_ms() + kAcceptPauseMs;
            return;
        }
        if (!listener.armed && !stopping_ && accept_paused_until_ms_ == 0) {
            arm_accept(listener);
        }
        return;
    }
    if (!listener.armed && !stopping_ && accept_paused_until_ms_ == 0) arm_accept(listener);
    core::unique_fd owned(cqe.res);
    if (overload_ && overload_->refuse_connection()) {
        // Severely overloaded: closed before a byte is read.
        context_.count(&http::LoopMetrics::overload_shed_connections);
        return;
    }
    if (!shared_.budget.try_acquire()) {
        reject_busy(std::move(owned));
        return;
    }
    core::set_no_delay(owned.get());
    auto* conn = new Connection(owned.release(), context_);
    conn->session.set_engine_data(conn);
    conn->session.set_listener(listener.index);
    conn->next = connections_;
    if (connections_ != nullptr) connections_->prev = conn;
    connections_ = conn;
    ++open_;
    note_peer(conn->session, conn->fd, shared_.config,
              access_log_ || context_.handler().wants_peer());
    // Accepted by the kernel before the stop's cancel reached the accept: a client like any
    // other, answered once (Connection: close). Dropping it would cut off its request.
    if (stopping_) conn->session.request_close();
    register_file(*conn);
    drive(*conn);
}

// ---- timers --------------------------------------------------------------------------------

void UringLoop::update_timer(Connection& conn) {
    std::int64_t deadline = conn.lingering ? conn.linger_until_ms : conn.session.deadline_ms();
    // A deferred response waiting for its answer has no deadline (its handler owns the time); a
    // timer already armed re-reads the deadline when it fires.
    if (deadline == http::kNoDeadline) return;
    // Lazy: a later deadline is noticed when the earlier timer fires, so a busy connection
    // touches the wheel only when its deadline moves earlier.
    if (!conn.scheduled() || deadline < conn.expires_ms) timers_.schedule(conn, deadline);
}

void UringLoop::on_timer(core::TimerNode& node) {
    auto& conn = static_cast<Connection&>(node);
    if (conn.closed) return;
    std::int64_t deadline = conn.lingering ? conn.linger_until_ms : conn.session.deadline_ms();
    if (deadline == http::kNoDeadline) return;
    if (deadline > context_.now_ms()) {
        timers_.schedule(conn, deadline);
        return;
    }
    if (!conn.lingering) conn.session.count_timeout();
    close(conn);
}

// ---- shutdown and freeing ------------------------------------------------------------------

void UringLoop::begin_shutdown() {
    if (stopping_) return;
    stopping_ = true;
    heartbeat_.stop_seen();
    shutdown_deadline_ms_ = context_.now_ms() + shared_.config.shutdown_grace_ms;
    for (auto& listener : listeners_) {
        if (listener->armed) {
            io_uring_prep_cancel64(sqe(), tag(listener.get(), op_accept), 0);
            io_uring_sqe_set_data64(last_sqe_, op_ignore);
        }
        listener->fd.reset();  // new clients are refused now, not left in a dead queue
    }
    // Streams end with their last chunk, waiting long-polls get a 503: request_close() queues
    // those, and drive() sends them.
    for (Connection* conn = connections_; conn != nullptr;) {
        Connection* next = conn->next;
        conn->session.request_close();
        drive(*conn);
        conn = next;
    }
}

void UringLoop::close_all() {
    while (connections_ != nullptr) close(*connections_);
}

void UringLoop::reap() {
    std::size_t kept = 0;
    for (Connection* conn : graveyard_) {
        if (conn->in_flight == 0) {
            ::close(conn->fd);
            delete conn;
        } else {
            graveyard_[kept++] = conn;
        }
    }
    graveyard_.resize(kept);
    std::erase_if(unwatched_,
                  [](const std::unique_ptr<Watch>& watched) { return !watched->armed; });
}

void UringLoop::note_batch_ready(bool behind) {
    // Completions were waiting before the wait: taken to have waited the whole last batch (an
    // upper bound). With deferred task running the kernel posts completions only when the
    // loop enters it, so this can miss a backlog: then only the delays within the batch
    // count, which errs on the side of serving.
    batch_started_us_ = core::monotonic_us();
    overload_->set_ready_at(batch_started_us_ - (behind ? previous_batch_us_ : 0));
}

}  // namespace c10k::engine

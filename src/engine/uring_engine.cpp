// The io_uring engine: completion-based, so it cannot be a Poller; it drives the same
// http::Session in its own loop, one per thread, each with its own ring:
//   - one multishot accept per listener, one multishot receive per connection, reading into a
//     provided buffer ring shared by the loop (idle connections hold no buffer);
//   - all SQEs of an iteration go to the kernel in one io_uring_submit_and_wait_timeout;
//   - in-memory output with SEND (one buffer) or SENDMSG (several); file ranges spliced
//     file -> pipe -> socket, so their bytes never cross into user space;
//   - the same timer wheel, limits and lingering close as the readiness loop.

#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "core/log.hpp"
#include "core/net.hpp"
#include "core/timer_wheel.hpp"
#include "engine/admission.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/uring_probe.hpp"
#include "http/access_log.hpp"
#include "http/session.hpp"

namespace c10k::engine {

namespace {

constexpr unsigned kRingEntries = 4096;
constexpr unsigned kBufferCount = 1024;          // power of two: the ring's mask needs it
constexpr unsigned kBufferBytes = 8 * 1024;
constexpr unsigned kBufferGroup = 0;
constexpr std::uint32_t kPipeBytes = 256 * 1024;  // splice chunk; pipes are resized to it
constexpr std::int64_t kLingerMs = 2000;
constexpr std::int64_t kAcceptPauseMs = 100;

// user_data: an object pointer with the operation in the low bits. Every object named so is
// allocated with new, which aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16): four free bits.
enum Op : std::uint64_t { op_accept = 1, op_recv, op_send, op_splice_in, op_splice_out, op_stop,
                          op_ignore, op_writable };
constexpr std::uint64_t kOpMask = 15;
static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 16);

std::uint64_t tag(const void* object, Op op) {
    return reinterpret_cast<std::uint64_t>(object) | op;
}

struct Pipe {
    core::unique_fd read_end, write_end;
};

struct Deferred {
    std::uint16_t buffer;
    std::uint32_t length;
};

struct Connection : core::TimerNode {
    Connection(int descriptor, http::LoopContext& context) : fd(descriptor), session(context) {}
    int fd;
    http::Session session;
    int in_flight = 0;         // operations whose last completion has not come yet
    bool receiving = false;    // a multishot receive is armed
    bool cancelling = false;   // its cancellation was asked for
    bool sending = false;      // a send or splice is in flight: the output must not change
    bool closed = false;       // closed for the loop; freed when in_flight reaches 0
    bool lingering = false;
    bool peer_eof = false;     // EOF arrived while sending: handed to the session after
    bool starved = false;      // receive ended for want of buffers: re-armed when some return
    std::int64_t linger_until_ms = 0;
    iovec iov[16];
    msghdr message{};
    std::size_t send_bytes = 0;
    Pipe pipe;                 // while splicing a file range
    std::uint32_t pipe_bytes = 0;
    std::vector<Deferred> deferred;  // received while sending, fed after
    Connection* prev = nullptr;
    Connection* next = nullptr;
};

struct Listener {
    core::unique_fd fd;
    bool armed = false;
};

class UringLoop {
public:
    UringLoop(std::vector<core::unique_fd> listeners, std::unique_ptr<http::Handler> handler,
              LoopShared shared)
        : handler_(std::move(handler)),
          shared_(shared),
          context_(*handler_, shared.config.limits, shared.config.timeouts),
          timers_(core::monotonic_ms(), 100, 1024) {
        for (auto& fd : listeners) {
            auto listener = std::make_unique<Listener>();
            listener->fd = std::move(fd);
            listeners_.push_back(std::move(listener));
        }
        if (shared.access_log_fd >= 0) {
            access_log_ = std::make_unique<http::AccessLog>(shared.access_log_fd);
            context_.set_access_log(access_log_.get());
        }
    }

    ~UringLoop() {
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

    /// Serves until stopped; 0 or 1 (a ring that cannot be set up or fails).
    int run() {
        if (std::string error = setup(); !error.empty()) {
            core::log(core::LogLevel::error, "uring: {}", error);
            return 1;
        }
        for (auto& listener : listeners_) arm_accept(*listener);
        io_uring_prep_poll_add(sqe(), shared_.stop.fd(), POLLIN);
        io_uring_sqe_set_data64(last_sqe_, tag(this, op_stop));
        for (;;) {
            context_.tick();
            int wait = wait_timeout_ms();
            __kernel_timespec timeout{wait / 1000, (wait % 1000) * 1'000'000LL};
            io_uring_cqe* cqe = nullptr;
            int result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1,
                                                          wait < 0 ? nullptr : &timeout, nullptr);
            if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY) {
                core::log(core::LogLevel::error, "uring: {}",
                          describe_uring_error("io_uring_submit_and_wait", -result));
                return 1;
            }
            context_.tick();
            unsigned head;
            unsigned seen = 0;
            io_uring_for_each_cqe(&ring_, head, cqe) {
                ++seen;
                complete(*cqe);
            }
            io_uring_cq_advance(&ring_, seen);
            rearm_starved();
            recycled_ = false;
            timers_.advance(context_.now_ms(), [this](core::TimerNode& node) { on_timer(node); });
            if (!stopping_ && accept_paused_until_ms_ != 0 &&
                context_.now_ms() >= accept_paused_until_ms_) {
                accept_paused_until_ms_ = 0;
                for (auto& listener : listeners_) arm_accept(*listener);
            }
            if (access_log_ && context_.now_s() != last_flush_s_) {
                last_flush_s_ = context_.now_s();
                access_log_->flush();
            }
            reap();
            if (stopping_) {
                if (open_ == 0) break;
                if (context_.now_ms() >= shutdown_deadline_ms_) break;
            }
        }
        if (access_log_) access_log_->flush();
        return 0;
    }

private:
    std::size_t buffer_memory_bytes() const {
        return std::size_t{kBufferCount} * (kBufferBytes + sizeof(io_uring_buf));
    }

    std::string setup() {
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
        for (unsigned i = 0; i < kBufferCount; ++i) {
            io_uring_buf_ring_add(buffer_ring_, buffer_base_ + std::size_t{i} * kBufferBytes,
                                  kBufferBytes, static_cast<std::uint16_t>(i),
                                  io_uring_buf_ring_mask(kBufferCount), static_cast<int>(i));
        }
        io_uring_buf_ring_advance(buffer_ring_, static_cast<int>(kBufferCount));
        return {};
    }

    io_uring_sqe* sqe() {
        io_uring_sqe* entry = io_uring_get_sqe(&ring_);
        while (entry == nullptr) {  // the queue is full: hand this batch over, then go on
            io_uring_submit(&ring_);
            entry = io_uring_get_sqe(&ring_);
        }
        last_sqe_ = entry;
        return entry;
    }

    /// Hands a receive buffer back to the kernel.
    void recycle(std::uint16_t buffer) {
        io_uring_buf_ring_add(buffer_ring_, buffer_base_ + std::size_t{buffer} * kBufferBytes,
                              kBufferBytes, buffer, io_uring_buf_ring_mask(kBufferCount), 0);
        io_uring_buf_ring_advance(buffer_ring_, 1);
        recycled_ = true;
    }

    void rearm_starved() {
        if (!recycled_ || starved_.empty()) return;
        std::vector<Connection*> waiting;
        waiting.swap(starved_);
        for (Connection* conn : waiting) {
            conn->starved = false;
            drive(*conn);
        }
    }

    int wait_timeout_ms() const {
        std::int64_t now = context_.now_ms();
        std::int64_t timeout = timers_.next_timeout_ms(now);
        auto at_most = [&timeout](std::int64_t ms) {
            ms = std::max<std::int64_t>(ms, 0);
            if (timeout < 0 || ms < timeout) timeout = ms;
        };
        if (accept_paused_until_ms_ != 0) at_most(accept_paused_until_ms_ - now);
        if (stopping_) at_most(shutdown_deadline_ms_ - now);
        if (access_log_) at_most(1000);
        return static_cast<int>(std::min<std::int64_t>(timeout, 60'000));
    }

    void arm_accept(Listener& listener) {
        if (listener.armed || !listener.fd) return;
        io_uring_prep_multishot_accept(sqe(), listener.fd.get(), nullptr, nullptr,
                                       SOCK_NONBLOCK | SOCK_CLOEXEC);
        io_uring_sqe_set_data64(last_sqe_, tag(&listener, op_accept));
        listener.armed = true;
    }

    void arm_receive(Connection& conn) {
        io_uring_prep_recv_multishot(sqe(), conn.fd, nullptr, 0, 0);
        last_sqe_->flags |= IOSQE_BUFFER_SELECT;
        last_sqe_->buf_group = kBufferGroup;
        io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_recv));
        conn.receiving = true;
        conn.cancelling = false;
        ++conn.in_flight;
    }

    void cancel_receive(Connection& conn) {
        if (!conn.receiving || conn.cancelling || !ring_ready_) return;
        io_uring_prep_cancel64(sqe(), tag(&conn, op_recv), 0);
        io_uring_sqe_set_data64(last_sqe_, op_ignore);
        conn.cancelling = true;
    }

    void complete(const io_uring_cqe& cqe) {
        std::uint64_t data = cqe.user_data;
        auto op = static_cast<Op>(data & kOpMask);
        void* object = reinterpret_cast<void*>(data & ~kOpMask);
        switch (op) {
            case op_accept: on_accept(*static_cast<Listener*>(object), cqe); break;
            case op_recv: on_receive(*static_cast<Connection*>(object), cqe); break;
            case op_send: on_sent(*static_cast<Connection*>(object), cqe.res); break;
            case op_splice_in: on_spliced_in(*static_cast<Connection*>(object), cqe.res); break;
            case op_splice_out: on_spliced_out(*static_cast<Connection*>(object), cqe.res); break;
            case op_writable: on_writable(*static_cast<Connection*>(object)); break;
            case op_stop: begin_shutdown(); break;
            default: break;
        }
    }

    void on_accept(Listener& listener, const io_uring_cqe& cqe) {
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
        if (stopping_) return;
        if (!shared_.budget.try_acquire()) {
            reject_busy(std::move(owned));
            return;
        }
        core::set_no_delay(owned.get());
        auto* conn = new Connection(owned.release(), context_);
        conn->next = connections_;
        if (connections_ != nullptr) connections_->prev = conn;
        connections_ = conn;
        ++open_;
        if (access_log_) conn->session.set_peer(core::peer_address(conn->fd));
        drive(*conn);
    }

    void on_receive(Connection& conn, const io_uring_cqe& cqe) {
        if (!(cqe.flags & IORING_CQE_F_MORE)) {
            conn.receiving = false;
            --conn.in_flight;
        }
        if (cqe.flags & IORING_CQE_F_BUFFER) {
            auto buffer = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
            if (cqe.res <= 0 || conn.closed || conn.lingering) {
                recycle(buffer);  // after close, or while lingering: discarded
            } else if (conn.sending) {
                // The output is in the kernel's hands; the session must not change under it.
                conn.deferred.push_back(Deferred{buffer, static_cast<std::uint32_t>(cqe.res)});
            } else {
                conn.session.feed(buffer_base_ + std::size_t{buffer} * kBufferBytes,
                                  static_cast<std::size_t>(cqe.res));
                recycle(buffer);
            }
        }
        if (conn.closed) return;
        if (cqe.res == 0) {
            if (conn.lingering) {
                close(conn);
                return;
            }
            if (conn.sending) {
                conn.peer_eof = true;
            } else {
                conn.session.on_peer_closed();
            }
        } else if (cqe.res == -ENOBUFS && !conn.receiving) {
            // Every buffer is held (received while sends were in flight): re-arming now would
            // only fail again at once. Wait until one is given back.
            conn.starved = true;
            starved_.push_back(&conn);
            return;
        } else if (cqe.res < 0 && cqe.res != -ENOBUFS && cqe.res != -ECANCELED) {
            close(conn);  // reset by the peer: nobody to answer
            return;
        }
        drive(conn);
    }

    /// Decides what the connection does next: send, close, linger, or (re)arm the receive.
    void drive(Connection& conn) {
        if (conn.closed || conn.sending) return;
        http::Session& session = conn.session;
        if (conn.lingering) {
            if (!conn.receiving) arm_receive(conn);
            return;
        }
        if (session.has_output()) {
            start_send(conn);
            if (conn.closed) return;
        } else if (session.should_close()) {
            bool linger = !session.peer_closed() && (session.closing_after_error() || !stopping_);
            if (linger) {
                start_lingering(conn);
            } else {
                close(conn);
            }
            return;
        }
        if (session.wants_read()) {
            if (!conn.receiving) arm_receive(conn);
        } else {
            // Output backlog (or closing): stop taking input rather than buffer it unbounded.
            cancel_receive(conn);
        }
        update_timer(conn);
    }

    void start_send(Connection& conn) {
        http::Session& session = conn.session;
        std::size_t count = session.gather(conn.iov, 16);
        if (count > 0) {
            conn.send_bytes = 0;
            for (std::size_t i = 0; i < count; ++i) conn.send_bytes += conn.iov[i].iov_len;
            if (count == 1) {
                io_uring_prep_send(sqe(), conn.fd, conn.iov[0].iov_base, conn.send_bytes,
                                   MSG_NOSIGNAL);
            } else {
                conn.message = msghdr{};
                conn.message.msg_iov = conn.iov;
                conn.message.msg_iovlen = count;
                io_uring_prep_sendmsg(sqe(), conn.fd, &conn.message, MSG_NOSIGNAL);
            }
            io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_send));
            conn.sending = true;
            ++conn.in_flight;
            return;
        }
        http::FileRange range;
        if (!session.front_file(range)) return;
        if (!conn.pipe.read_end && !take_pipe(conn.pipe)) {
            close(conn);
            return;
        }
        auto length = static_cast<unsigned>(std::min<std::uint64_t>(range.length, kPipeBytes));
        io_uring_prep_splice(sqe(), range.fd, static_cast<std::int64_t>(range.offset),
                             conn.pipe.write_end.get(), -1, length, SPLICE_F_MOVE);
        io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_splice_in));
        conn.sending = true;
        ++conn.in_flight;
    }

    void on_sent(Connection& conn, int result) {
        --conn.in_flight;
        conn.sending = false;
        if (conn.closed) return;
        if (result < 0 || (result == 0 && conn.send_bytes > 0)) {
            close(conn);
            return;
        }
        conn.session.consume(static_cast<std::size_t>(result));
        after_send(conn);
    }

    void on_spliced_in(Connection& conn, int result) {
        --conn.in_flight;
        if (conn.closed) {
            conn.sending = false;
            return;
        }
        if (result <= 0) {  // 0: the file shrank under us, and the framing with it
            conn.sending = false;
            close(conn);
            return;
        }
        conn.pipe_bytes = static_cast<std::uint32_t>(result);
        splice_out(conn);
    }

    void splice_out(Connection& conn) {
        io_uring_prep_splice(sqe(), conn.pipe.read_end.get(), -1, conn.fd, -1, conn.pipe_bytes,
                             SPLICE_F_MOVE);
        io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_splice_out));
        ++conn.in_flight;
    }

    void on_spliced_out(Connection& conn, int result) {
        --conn.in_flight;
        if (conn.closed) {
            conn.sending = false;
            return;
        }
        if (result == -EAGAIN) {
            // The socket is non-blocking and its buffer is full; splice does not wait for room
            // the way send does, so ask for writability and splice again then.
            io_uring_prep_poll_add(sqe(), conn.fd, POLLOUT);
            io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_writable));
            ++conn.in_flight;
            return;
        }
        if (result <= 0) {
            conn.sending = false;
            close(conn);
            return;
        }
        conn.session.consume(static_cast<std::size_t>(result));
        conn.pipe_bytes -= static_cast<std::uint32_t>(result);
        if (conn.pipe_bytes > 0) {
            splice_out(conn);
            return;
        }
        conn.sending = false;
        give_back_pipe(conn.pipe);
        after_send(conn);
    }

    void on_writable(Connection& conn) {
        --conn.in_flight;
        if (conn.closed) {
            conn.sending = false;
            return;
        }
        splice_out(conn);
    }

    /// The output may change again: feed what arrived meanwhile, then carry on.
    void after_send(Connection& conn) {
        for (const Deferred& d : conn.deferred) {
            conn.session.feed(buffer_base_ + std::size_t{d.buffer} * kBufferBytes, d.length);
            recycle(d.buffer);
        }
        conn.deferred.clear();
        if (conn.peer_eof) {
            conn.peer_eof = false;
            conn.session.on_peer_closed();
        }
        drive(conn);
    }

    bool take_pipe(Pipe& pipe) {
        if (!pipes_.empty()) {
            pipe = std::move(pipes_.back());
            pipes_.pop_back();
            return true;
        }
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
        pipe.read_end.reset(ends[0]);
        pipe.write_end.reset(ends[1]);
        ::fcntl(ends[1], F_SETPIPE_SZ, static_cast<int>(kPipeBytes));  // best effort
        return true;
    }

    void give_back_pipe(Pipe& pipe) {
        // Only an empty pipe is reused; one with bytes left in it (after an error) is closed.
        if (pipes_.size() < 64) pipes_.push_back(std::move(pipe));
        pipe = Pipe{};
    }

    void update_timer(Connection& conn) {
        std::int64_t deadline = conn.lingering ? conn.linger_until_ms : conn.session.deadline_ms();
        if (!conn.scheduled() || deadline < conn.expires_ms) timers_.schedule(conn, deadline);
    }

    void on_timer(core::TimerNode& node) {
        auto& conn = static_cast<Connection&>(node);
        if (conn.closed) return;
        std::int64_t deadline = conn.lingering ? conn.linger_until_ms : conn.session.deadline_ms();
        if (deadline > context_.now_ms()) {
            timers_.schedule(conn, deadline);
            return;
        }
        close(conn);
    }

    void start_lingering(Connection& conn) {
        // Half-close and discard what still comes, so that unread input does not turn the
        // close into a RST that destroys the response (as the readiness loop does).
        ::shutdown(conn.fd, SHUT_WR);
        conn.lingering = true;
        conn.linger_until_ms = context_.now_ms() + kLingerMs;
        timers_.schedule(conn, conn.linger_until_ms);
        if (!conn.receiving) arm_receive(conn);
    }

    void close(Connection& conn) {
        if (conn.closed) return;
        conn.closed = true;
        timers_.cancel(conn);  // cancel is a member now: it keeps the count right
        // Operations still in flight hold the socket: shutting it down makes them complete
        // now, and the descriptor is closed when the last completion has come (reap).
        if (conn.in_flight > 0) {
            ::shutdown(conn.fd, SHUT_RDWR);
            cancel_receive(conn);
        }
        for (const Deferred& d : conn.deferred) recycle(d.buffer);
        conn.deferred.clear();
        if (conn.starved) std::erase(starved_, &conn);
        if (conn.prev != nullptr) conn.prev->next = conn.next;
        if (conn.next != nullptr) conn.next->prev = conn.prev;
        if (connections_ == &conn) connections_ = conn.next;
        conn.prev = conn.next = nullptr;
        --open_;
        shared_.budget.release();
        graveyard_.push_back(&conn);
    }

    /// Frees closed connections whose last completion has come.
    void reap() {
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
    }

    void begin_shutdown() {
        if (stopping_) return;
        stopping_ = true;
        shutdown_deadline_ms_ = context_.now_ms() + shared_.config.shutdown_grace_ms;
        for (auto& listener : listeners_) {
            if (listener->armed) {
                io_uring_prep_cancel64(sqe(), tag(listener.get(), op_accept), 0);
                io_uring_sqe_set_data64(last_sqe_, op_ignore);
            }
            listener->fd.reset();  // new clients are refused now, not left in a dead queue
        }
        for (Connection* conn = connections_; conn != nullptr;) {
            Connection* next = conn->next;
            conn->session.request_close();
            drive(*conn);
            conn = next;
        }
    }

    std::unique_ptr<http::Handler> handler_;
    LoopShared shared_;
    http::LoopContext context_;
    std::unique_ptr<http::AccessLog> access_log_;
    core::TimerWheel timers_;
    io_uring ring_{};
    bool ring_ready_ = false;
    io_uring_sqe* last_sqe_ = nullptr;
    void* buffers_ = nullptr;
    io_uring_buf_ring* buffer_ring_ = nullptr;
    char* buffer_base_ = nullptr;
    std::vector<std::unique_ptr<Listener>> listeners_;
    Connection* connections_ = nullptr;  // open ones
    std::vector<Connection*> graveyard_; // closed, freed once their last completion came
    std::uint64_t open_ = 0;
    std::vector<Pipe> pipes_;
    std::vector<Connection*> starved_;  // waiting for a receive buffer
    bool recycled_ = false;             // a buffer went back to the ring this iteration
    SpareDescriptor spare_;
    core::RateLimitedLog fd_log_;
    std::int64_t accept_paused_until_ms_ = 0;
    std::int64_t shutdown_deadline_ms_ = 0;
    std::int64_t last_flush_s_ = 0;
    bool stopping_ = false;
};

class UringEngine final : public Engine {
public:
    std::string_view name() const override { return "uring"; }

    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        if (std::string why = uring_unavailable_reason(); !why.empty()) {
            throw std::runtime_error("io_uring does not work here: " + why);
        }
        // Each ring is created by the thread that uses it (SINGLE_ISSUER), inside run().
        return run_loops<UringLoop>(
            config, handlers, listeners, stop,
            [](std::vector<core::unique_fd> fds, std::unique_ptr<http::Handler> handler,
               LoopShared shared) {
                return std::make_unique<UringLoop>(std::move(fds), std::move(handler), shared);
            });
    }
};

}  // namespace

std::unique_ptr<Engine> make_uring_engine() { return std::make_unique<UringEngine>(); }

}  // namespace c10k::engine

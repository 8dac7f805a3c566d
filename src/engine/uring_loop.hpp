#pragma once
// The io_uring event loop: completion-based, so it cannot be a Poller; it drives the same
// http::Session in its own way, one loop per thread, each with its own ring:
//   - one multishot accept per listener, one multishot receive per connection, reading into a
//     provided buffer ring shared by the loop (idle connections hold no buffer);
//   - all SQEs of an iteration go to the kernel in one io_uring_submit_and_wait_timeout;
//   - in-memory output with SEND (one buffer) or SENDMSG (several); file ranges spliced
//     file -> pipe -> socket, so their bytes never cross into user space;
//   - the same timer wheel, limits and lingering close as the readiness loop;
//   - the loop services of http::LoopContext (mailbox, handler timers, ready list, descriptor
//     watcher), so that responses that finish later (live push) work as on the readiness loop.
//
// The loop is split by responsibility: uring_loop.cpp (set-up, the iteration, accepts, the
// mailbox, timers, shutdown), uring_connection.cpp (receive, send, splice, close) and
// uring_watch.cpp (handlers' own descriptors).

#include <liburing.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "core/timer_wheel.hpp"
#include "core/unique_fd.hpp"
#include "engine/admission.hpp"
#include "engine/readiness_loop.hpp"
#include "http/access_log.hpp"
#include "http/context.hpp"
#include "http/session.hpp"

namespace c10k::engine {

class UringLoop final : private http::DescriptorWatcher {
public:
    UringLoop(std::vector<core::unique_fd> listeners, std::unique_ptr<http::Handler> handler,
              LoopShared shared);
    ~UringLoop();
    UringLoop(const UringLoop&) = delete;
    UringLoop& operator=(const UringLoop&) = delete;

    /// Serves until stopped; 0, or 1 when the ring cannot be set up or fails.
    int run();

private:
    static constexpr unsigned kRingEntries = 4096;
    static constexpr unsigned kBufferCount = 1024;  // power of two: the ring's mask needs it
    static constexpr unsigned kBufferBytes = 8 * 1024;
    static constexpr unsigned kBufferGroup = 0;
    /// Buffers offered to the kernel at first (see offer_buffers); doubled whenever a receive
    /// finds none offered while spare ones wait, up to kBufferCount. Few: at 50 connections a
    /// receive's copy then costs what the epoll loop's into its one buffer does (measured with
    /// perf, 32 offered cost twice that), and the shortage that grows the offer is rare (28
    /// times in 200,000 requests).
    static constexpr unsigned kFirstOffer = 4;
    /// Slots of the ring's table of registered files; connections beyond it send by descriptor.
    static constexpr unsigned kFixedFiles = 16384;
    static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
    static constexpr std::uint32_t kPipeBytes = 256 * 1024;  // splice chunk; pipes resized to it
    static constexpr std::uint32_t kFileBufferBytes = 64 * 1024;  // --no-sendfile read chunk
    static constexpr std::int64_t kLingerMs = 2000;
    static constexpr std::int64_t kAcceptPauseMs = 100;
    static constexpr std::size_t kMaxIovecs = 16;
    /// Output pieces this short are copied into the connection before a send (see Connection::
    /// staging). Above any std::string's inline capacity (15 bytes in libstdc++, 22 in libc++).
    static constexpr std::size_t kSmallPieceBytes = 31;
    static constexpr std::size_t kStagingBytes = 64;

    // user_data: an object pointer with the operation in the low bits. Every object named so is
    // allocated with new, which aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16): four free bits.
    enum Op : std::uint64_t {
        op_accept = 1,
        op_recv,
        op_send,
        op_splice_in,
        op_splice_out,
        op_stop,
        op_ignore,
        op_writable,
        op_mailbox,
        op_watch,
        op_file_read,
        op_register,
    };
    static constexpr std::uint64_t kOpMask = 15;
    static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 16);

    static std::uint64_t tag(const void* object, Op op) {
        return reinterpret_cast<std::uint64_t>(object) | op;
    }

    struct Pipe {
        core::unique_fd read_end, write_end;
    };

    /// A receive buffer that arrived while a send was in flight, fed to the Session after it.
    struct HeldInput {
        std::uint16_t buffer;
        std::uint32_t length;
    };

    struct Connection : core::TimerNode {
        Connection(int descriptor, http::LoopContext& context) : fd(descriptor), session(context) {}
        int fd;
        /// Its slot in the ring's registered files (kNoSlot: none), and whether the update that
        /// fills it has completed: from then on sends name the slot, and the kernel skips the
        /// descriptor table lookup and the file's reference count for each of them.
        std::uint32_t slot = kNoSlot;
        bool slot_ready = false;
        int slot_fd = -1;  // what the registering FILES_UPDATE reads at submit time
        http::Session session;
        int in_flight = 0;        // operations whose last completion has not come yet
        bool receiving = false;   // a multishot receive is armed
        bool cancelling = false;  // its cancellation was asked for
        bool sending = false;     // a send or splice is in flight: consume() must wait for it
        bool closed = false;      // closed for the loop; freed when in_flight reaches 0
        bool lingering = false;
        bool peer_eof = false;  // EOF arrived while sending: handed to the session after
        bool starved = false;   // receive ended for want of buffers: re-armed when some return
        std::int64_t linger_until_ms = 0;
        iovec iov[kMaxIovecs];
        msghdr message{};
        std::size_t send_bytes = 0;
        /// Copies of the short pieces of the send in flight. A handler may append to a
        /// suspended Session's output while the kernel still reads it (a publish, a stream's
        /// last chunk), and the output's vector may then move its elements: a string short
        /// enough to be stored inside its object moves with it. Longer strings, shared blobs and
        /// files keep their bytes where they are.
        char staging[kStagingBytes];
        Pipe pipe;  // while splicing a file range
        /// --no-sendfile: a file range is read into this (IORING_OP_READ) and sent from it.
        /// Made at the first such range; a connection that sends no file holds none.
        std::unique_ptr<char[]> file_buffer;
        std::uint32_t pipe_bytes = 0;
        std::vector<HeldInput> held;  // received while sending, fed after
        Connection* prev = nullptr;
        Connection* next = nullptr;
    };

    struct Listener {
        core::unique_fd fd;
        std::uint8_t index = 0;  // of its --listen address: handlers may tell listeners apart
        bool armed = false;
    };

    /// A descriptor of a handler's own (a backend connection, a child's pipe), watched with a
    /// one-shot POLL_ADD re-armed after each completion: that gives the level-triggered
    /// semantics DescriptorWatcher promises (a poll armed on a ready descriptor completes at
    /// once), where a multishot poll would report only new wake-ups.
    struct Watch {
        int fd = -1;
        std::uint32_t events = 0;              // DescriptorTask::readable / writable
        http::DescriptorTask* task = nullptr;  // nullptr once unwatched
        bool armed = false;                    // a POLL_ADD is in flight
        bool cancelling = false;               // its cancellation was asked for
        std::uint32_t armed_events = 0;        // what the POLL_ADD in flight waits for
    };

    // uring_loop.cpp: set-up and the iteration.
    std::string setup();
    int serve();
    io_uring_sqe* sqe();
    int wait_timeout_ms() const;
    Heartbeat heartbeat_;  ///< loop 0's copy of the server's; the others' never beat
    void complete(const io_uring_cqe& cqe);
    void arm_mailbox();
    void on_mailbox(const io_uring_cqe& cqe);
    void run_ready();
    void arm_accept(Listener& listener);
    void on_accept(Listener& listener, const io_uring_cqe& cqe);
    void update_timer(Connection& conn);
    void on_timer(core::TimerNode& node);
    void begin_shutdown();
    void close_all();
    void reap();
    /// Overload control (--overload-target), as the readiness loop's: the loop lag.
    void note_batch_ready(bool behind);

    // uring_connection.cpp: one connection's I/O.
    std::size_t buffer_memory_bytes() const;
    void recycle(std::uint16_t buffer);
    void offer_buffers();
    void register_file(Connection& conn);
    void release_file(Connection& conn);
    void set_send_target(Connection& conn);
    void on_registered(Connection& conn, int result);
    void rearm_starved();
    void arm_receive(Connection& conn);
    void cancel_receive(Connection& conn);
    void on_receive(Connection& conn, const io_uring_cqe& cqe);
    void drive(Connection& conn);
    void start_send(Connection& conn);
    void on_sent(Connection& conn, int result);
    void on_spliced_in(Connection& conn, int result);
    /// --no-sendfile: reads the front file range into the connection's buffer; the send of
    /// what was read follows (on_file_read), and bytes the socket did not take are read again.
    void read_file(Connection& conn, const http::FileRange& range);
    void on_file_read(Connection& conn, int result);
    void splice_out(Connection& conn);
    void on_spliced_out(Connection& conn, int result);
    void on_writable(Connection& conn);
    void after_send(Connection& conn);
    bool take_pipe(Pipe& pipe);
    void give_back_pipe(Pipe& pipe);
    void start_lingering(Connection& conn);
    void close(Connection& conn);

    // uring_watch.cpp: http::DescriptorWatcher.
    bool watch(int fd, std::uint32_t events, http::DescriptorTask& task) override;
    void unwatch(int fd) override;
    void arm_watch(Watch& watched);
    void on_watch(Watch& watched, int result);

    std::unique_ptr<http::Handler> handler_;
    LoopShared shared_;
    http::MetricsSlot metrics_;  ///< before context_: sessions count into it until they go
    http::LoopContext context_;
    std::unique_ptr<http::AccessLog> access_log_;
    core::TimerWheel timers_;
    io_uring ring_{};
    bool ring_ready_ = false;
    io_uring_sqe* last_sqe_ = nullptr;
    void* buffers_ = nullptr;
    io_uring_buf_ring* buffer_ring_ = nullptr;
    char* buffer_base_ = nullptr;
    /// Returned buffers not offered to the kernel yet, the last returned on top: offer_buffers
    /// hands the kernel the ones most recently written, still in this core's caches.
    std::vector<std::uint16_t> spare_buffers_;
    unsigned offered_ = 0;  // in the ring and not yet taken by a receive
    unsigned offer_target_ = kFirstOffer;
    std::int64_t offer_grown_s_ = 0;  // when offer_target_ last moved
    std::vector<std::uint32_t> free_slots_;  // of the registered files; empty if unsupported
    std::vector<std::unique_ptr<Listener>> listeners_;
    Connection* connections_ = nullptr;   // open ones
    std::vector<Connection*> graveyard_;  // closed, freed once their last completion came
    std::uint64_t open_ = 0;
    std::vector<Pipe> pipes_;
    std::vector<Connection*> starved_;             // waiting for a receive buffer
    bool recycled_ = false;                        // a buffer went back to the ring this iteration
    std::vector<std::unique_ptr<Watch>> watches_;  // indexed by descriptor
    std::vector<std::unique_ptr<Watch>> unwatched_;  // kept until their poll's last completion
    bool mailbox_armed_ = false;
    SpareDescriptor spare_;
    core::RateLimitedLog fd_log_;
    std::int64_t accept_paused_until_ms_ = 0;
    std::unique_ptr<http::OverloadGate> overload_;  ///< with --overload-target only
    std::int64_t batch_started_us_ = 0;             ///< when the last wait returned
    std::int64_t previous_batch_us_ = 0;            ///< how long the last batch's handling took
    std::int64_t shutdown_deadline_ms_ = 0;
    std::int64_t last_flush_s_ = 0;
    bool stopping_ = false;
};

}  // namespace c10k::engine

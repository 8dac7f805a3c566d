// Linux realtime signals behind the Poller contract, as Kegel's C10K page describes them:
// F_SETSIG + O_ASYNC make the kernel queue one signal per readiness change, carrying the fd
// and the events; the loop takes them with sigtimedwait. The queue is bounded
// (RLIMIT_SIGPENDING): on overflow the kernel raises plain SIGIO, events are lost, and the
// only safe recovery is to look at every descriptor again with poll().
//
// Signals are edge-like (one per change, nothing for a state that persists), so the poller is
// edge-triggered for the loop, with three places where a state could escape a signal:
//   - readiness that predates add() (data that came before O_ASYNC was set): each new fd is
//     checked once with poll() at the next wait;
//   - descriptors that cannot raise signals at all (an eventfd has no fasync: the stop
//     signal): they are polled whenever a wait returns, at least every 100 ms;
//   - overflow: a full poll() sweep, and, as a safety net, a sweep after a second with no
//     signal at all.
// A descriptor added with `level` (a task that may leave input unread: a CGI program's pipe
// read one buffer per wake-up) must hear again while it stays ready, and no signal says so:
// each one reported is polled again at the next wait, as long as it is watched.

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "core/clock.hpp"
#include "engine/pollers.hpp"

namespace c10k::engine {

namespace {

constexpr int kUnsignalledPollMs = 100;  // how late a stop request may be noticed
constexpr int kIdleSweepMs = 1000;       // how long a lost signal may stall a connection

std::uint32_t bits_of_band(long band) {
    std::uint32_t bits = 0;
    if (band & (POLLIN | POLLRDNORM | POLLPRI)) bits |= Poller::in;
    if (band & (POLLOUT | POLLWRNORM | POLLWRBAND)) bits |= Poller::out;
    if (band & (POLLERR | POLLNVAL)) bits |= Poller::error;
    if (band & (POLLHUP | POLLRDHUP)) bits |= Poller::hangup;
    return bits;
}

class SigioPollerImpl final : public SigioPoller {
public:
    explicit SigioPollerImpl(int offset) : signal_(SIGRTMIN + offset) {
        sigemptyset(&waited_);
        sigaddset(&waited_, signal_);
        sigaddset(&waited_, SIGIO);
    }

    core::Result<void> add(int fd, std::uint32_t interest, void* tag) override {
        if (fd < 0) return core::Errno{EBADF};
        adopt_thread();
        if (static_cast<std::size_t>(fd) >= index_of_.size()) {
            index_of_.resize(static_cast<std::size_t>(fd) + 1 + index_of_.size() / 2, -1);
        }
        if (index_of_[static_cast<std::size_t>(fd)] >= 0) return core::Errno{EEXIST};
        bool signals = can_signal(fd);
        if (signals) {
            // Signals go to this thread only (F_OWNER_TID), so that each loop takes its own.
            f_owner_ex owner{F_OWNER_TID, owner_tid_};
            if (::fcntl(fd, F_SETOWN_EX, &owner) != 0) return core::last_errno();
            if (::fcntl(fd, F_SETSIG, signal_) != 0) return core::last_errno();
            int flags = ::fcntl(fd, F_GETFL);
            if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_ASYNC | O_NONBLOCK) != 0) {
                return core::last_errno();
            }
        } else {
            ++unsignalled_;
        }
        index_of_[static_cast<std::size_t>(fd)] = static_cast<int>(watched_.size());
        watched_.push_back(Watched{fd, interest, signals, tag});
        // Readiness that arrived before O_ASYNC was set raised no signal: look once.
        rechecks_.push_back(fd);
        return {};
    }

    core::Result<void> modify(int fd, std::uint32_t interest, void* tag) override {
        Watched* w = find(fd);
        if (w == nullptr) return core::Errno{ENOENT};
        w->interest = interest;
        w->tag = tag;
        rechecks_.push_back(fd);
        return {};
    }

    void remove(int fd) override {
        Watched* w = find(fd);
        if (w == nullptr) return;
        // O_ASYNC stays set: the fd is about to be closed (or re-added), and a signal for an
        // fd that is not watched is simply dropped.
        if (!w->signals) --unsignalled_;
        auto at = static_cast<std::size_t>(index_of_[static_cast<std::size_t>(fd)]);
        if (at != watched_.size() - 1) {
            watched_[at] = watched_.back();
            index_of_[static_cast<std::size_t>(watched_[at].fd)] = static_cast<int>(at);
        }
        watched_.pop_back();
        index_of_[static_cast<std::size_t>(fd)] = -1;
    }

    core::Result<int> wait(Event* events, int max, int timeout_ms) override {
        adopt_thread();
        if (pending_front_ == pending_.size()) {
            pending_.clear();
            pending_front_ = 0;
            ++generation_;
            auto gathered = gather(max, timeout_ms);
            if (!gathered) return core::Errno{gathered.error()};
        }
        int count = 0;
        while (count < max && pending_front_ < pending_.size()) {
            const Pending& p = pending_[pending_front_++];
            Watched* w = find(p.fd);
            if (w == nullptr) continue;  // removed since: a stale event
            events[count++] = Event{w->tag, p.bits};
            if (w->interest & level) rechecks_.push_back(p.fd);
        }
        return count;
    }

    bool edge_triggered() const override { return true; }
    const SigioStats& stats() const override { return stats_; }

private:
    struct Watched {
        int fd;
        std::uint32_t interest;
        bool signals;  ///< false: the fd cannot raise signals and is polled instead
        void* tag;
        std::uint64_t generation = 0;  ///< batch in which it was last queued
        std::size_t pending_index = 0;
    };
    struct Pending {
        int fd;
        std::uint32_t bits;
    };

    Watched* find(int fd) {
        if (fd < 0 || static_cast<std::size_t>(fd) >= index_of_.size()) return nullptr;
        int index = index_of_[static_cast<std::size_t>(fd)];
        return index < 0 ? nullptr : &watched_[static_cast<std::size_t>(index)];
    }

    static bool can_signal(int fd) {
        // Sockets and pipes implement fasync; an eventfd (the stop signal) does not, and
        // setting O_ASYNC on it would silently do nothing.
        struct stat st {};
        if (::fstat(fd, &st) != 0) return false;
        return S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode);
    }

    void adopt_thread() {
        if (owner_tid_ != 0) return;
        owner_tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
        // Blocked, the signals stay queued for sigtimedwait instead of killing the process.
        pthread_sigmask(SIG_BLOCK, &waited_, nullptr);
        // Signals an earlier poller of this thread left queued name descriptors that may have
        // been closed and reused since: drop them, so that this poller starts clean.
        siginfo_t info;
        timespec now{0, 0};
        while (::sigtimedwait(&waited_, &info, &now) > 0) {
        }
    }

    /// Queues events for `fd`, merging with one already queued in this batch.
    void queue(int fd, std::uint32_t bits) {
        Watched* w = find(fd);
        if (w == nullptr || bits == 0) return;
        if (w->generation == generation_) {
            pending_[w->pending_index].bits |= bits;
            return;
        }
        w->generation = generation_;
        w->pending_index = pending_.size();
        pending_.push_back(Pending{fd, bits});
    }

    /// poll() over `fds` with no wait; queues what is ready.
    void poll_now(const std::vector<int>& fds) {
        scratch_.clear();
        for (int fd : fds) {
            Watched* w = find(fd);
            if (w == nullptr) continue;
            short wanted = 0;
            if (w->interest & readable) wanted |= POLLIN | POLLRDHUP;
            if (w->interest & writable) wanted |= POLLOUT;
            scratch_.push_back(pollfd{fd, wanted, 0});
        }
        if (scratch_.empty() || ::poll(scratch_.data(), scratch_.size(), 0) <= 0) return;
        for (const auto& p : scratch_) {
            if (p.revents != 0) queue(p.fd, bits_of_band(p.revents));
        }
    }

    void sweep() {
        ++stats_.sweeps;
        std::vector<int> all;
        all.reserve(watched_.size());
        for (const auto& w : watched_) all.push_back(w.fd);
        poll_now(all);
        last_sweep_ms_ = core::monotonic_ms();
    }

    void poll_unsignalled() {
        std::vector<int> fds;
        for (const auto& w : watched_) {
            if (!w.signals) fds.push_back(w.fd);
        }
        poll_now(fds);
        last_unsignalled_ms_ = core::monotonic_ms();
    }

    core::Result<void> gather(int max, int timeout_ms) {
        if (!rechecks_.empty()) {
            std::vector<int> fds;
            fds.swap(rechecks_);
            poll_now(fds);
        }
        if (!pending_.empty()) timeout_ms = 0;
        if (unsignalled_ > 0 && (timeout_ms < 0 || timeout_ms > kUnsignalledPollMs)) {
            timeout_ms = kUnsignalledPollMs;
        }
        if (timeout_ms < 0 || timeout_ms > kIdleSweepMs) timeout_ms = kIdleSweepMs;

        bool overflow = false;
        bool timed_out = false;
        timespec wait_for{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
        siginfo_t info;
        // The first signal may wait; the rest of the batch is what is already queued.
        while (static_cast<int>(pending_.size()) < max || overflow) {
            int signo = ::sigtimedwait(&waited_, &info, &wait_for);
            if (signo < 0) {
                if (errno == EAGAIN) {
                    timed_out = wait_for.tv_sec != 0 || wait_for.tv_nsec != 0;
                    break;
                }
                if (errno == EINTR) break;
                return core::last_errno();
            }
            wait_for = timespec{0, 0};
            if (signo == SIGIO) {
                // The queue overflowed: what is queued is incomplete. Drain it and sweep.
                ++stats_.overflows;
                overflow = true;
                continue;
            }
            ++stats_.signals;
            if (!overflow) queue(info.si_fd, bits_of_band(info.si_band));
        }
        std::int64_t now = core::monotonic_ms();
        if (overflow || (timed_out && now - last_sweep_ms_ >= kIdleSweepMs)) {
            sweep();
        } else if (unsignalled_ > 0 &&
                   (timed_out || now - last_unsignalled_ms_ >= kUnsignalledPollMs)) {
            poll_unsignalled();
        }
        return {};
    }

    int signal_;
    sigset_t waited_;
    pid_t owner_tid_ = 0;
    std::vector<Watched> watched_;  ///< dense, for sweeps
    std::vector<int> index_of_;     ///< fd -> index in watched_, -1 when not watched
    std::vector<int> rechecks_;
    std::vector<Pending> pending_;  ///< gathered and not yet handed out
    std::size_t pending_front_ = 0;
    std::uint64_t generation_ = 1;
    std::vector<pollfd> scratch_;
    int unsignalled_ = 0;
    std::int64_t last_sweep_ms_ = core::monotonic_ms();
    std::int64_t last_unsignalled_ms_ = 0;
    SigioStats stats_;
};

}  // namespace

std::unique_ptr<SigioPoller> make_sigio_poller(int signal_offset) {
    return std::make_unique<SigioPollerImpl>(signal_offset);
}

}  // namespace c10k::engine

#pragma once
// The readiness backends other than epoll, each behind the one Poller contract (poller.hpp) so
// that the same ReadinessLoop drives them all and only the waiting differs.

#include <cstdint>
#include <memory>

#include "engine/poller.hpp"

namespace c10k::engine {

/// poll(2): level-triggered. The pollfd array is kept dense (an fd -> index map makes add,
/// modify and remove O(1)), so every wait hands the kernel exactly the watched descriptors and
/// costs O(n) in them: the cost the comparison is meant to show.
std::unique_ptr<Poller> make_poll_poller();

/// select(2): level-triggered, with fd_sets kept between waits. It cannot watch a descriptor at
/// or above FD_SETSIZE (max_fd()): add() refuses one with EBADF instead of overrunning the set,
/// and the ReadinessLoop closes such connections before they get that far.
std::unique_ptr<Poller> make_select_poller();

/// What a realtime-signal poller has seen; for tests and diagnostics.
struct SigioStats {
    std::uint64_t signals = 0;    ///< realtime signals taken (one per readiness change)
    std::uint64_t overflows = 0;  ///< SIGIO seen: the signal queue overflowed, events were lost
    std::uint64_t sweeps = 0;     ///< poll() sweeps over every watched descriptor
};

/// A Poller over Linux realtime signals (Kegel's "RT signals"): each descriptor is set
/// O_ASYNC with F_SETSIG and owned by the waiting thread, so that every readiness change queues
/// one signal carrying the fd (si_fd) and the events (si_band). Signals are taken in batches
/// with sigtimedwait. When the queue overflows the kernel raises plain SIGIO instead, and the
/// poller falls back to one poll() sweep over everything it watches. A signal queued for a
/// descriptor that was removed and whose number was reused may be reported for its new
/// owner: a spurious event, which the loop (reading until EAGAIN) shrugs off.
class SigioPoller : public Poller {
public:
    /// Statistics of this poller (read on the loop's thread, or after it stopped).
    virtual const SigioStats& stats() const = 0;
};

/// `signal_offset` picks SIGRTMIN + offset as the readiness signal.
std::unique_ptr<SigioPoller> make_sigio_poller(int signal_offset = 1);

}  // namespace c10k::engine

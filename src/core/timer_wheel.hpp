#pragma once
// A hashed timer wheel with coarse slots, one per event loop (as in h2o and the Linux kernel's
// timer wheel). Scheduling, moving and cancelling a timer are O(1) pointer updates on an
// intrusive list, so a connection that changes its deadline on every request pays no allocation,
// and idle connections cost no wake-ups beyond one per slot that actually holds an expiring timer.
//
// Timers further out than one revolution stay in their slot and are skipped until their time
// comes round: a lap costs one comparison per such timer.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace c10k::core {

/// Embedded in the object that owns a timer (for example a connection).
struct TimerNode {
    TimerNode* prev = nullptr;
    TimerNode* next = nullptr;
    std::int64_t expires_ms = 0;

    bool scheduled() const { return prev != nullptr; }
};

class TimerWheel {
public:
    /// @param slot_ms  width of a slot: the precision of every timer on this wheel.
    /// @param slots    number of slots, rounded up to a multiple of 64.
    explicit TimerWheel(std::int64_t now_ms, std::int64_t slot_ms = 100, std::size_t slots = 1024);
    TimerWheel(const TimerWheel&) = delete;
    TimerWheel& operator=(const TimerWheel&) = delete;
    ~TimerWheel();

    /// Arms (or re-arms) a timer to fire at the first advance() at or after expires_ms.
    void schedule(TimerNode& node, std::int64_t expires_ms);
    /// Disarms a timer; harmless when it is not armed.
    void cancel(TimerNode& node);

    /// Fires every timer whose time has come, calling on_expired(TimerNode&) once for each, after
    /// unlinking it. The callback may schedule or cancel any timer, including the one it got.
    template <class F>
    std::size_t advance(std::int64_t now_ms, F&& on_expired) {
        collect_expired(now_ms);
        std::size_t fired = 0;
        while (expired_.next != &expired_) {
            TimerNode& node = *expired_.next;
            unlink(node);
            --size_;
            ++fired;
            on_expired(node);
        }
        return fired;
    }

    /// Milliseconds until the earliest slot that holds a timer, 0 if one is due, -1 if the wheel
    /// is empty (sleep forever). Precise to a slot.
    std::int64_t next_timeout_ms(std::int64_t now_ms) const;

    std::size_t size() const { return size_; }
    std::int64_t slot_ms() const { return slot_ms_; }

private:
    static void unlink(TimerNode& node);
    static void link_before(TimerNode& head, TimerNode& node);
    std::size_t slot_of(std::int64_t tick) const { return static_cast<std::size_t>(tick) & mask_; }
    void collect_expired(std::int64_t now_ms);
    void mark(std::size_t slot, bool nonempty);

    std::int64_t slot_ms_;
    std::size_t mask_;
    std::vector<TimerNode> heads_;         // sentinel per slot
    std::vector<std::uint64_t> occupied_;  // one bit per slot that may hold timers
    TimerNode expired_;                    // timers due, being handed to the callback
    std::int64_t current_tick_;            // the next tick advance() has yet to visit
    std::size_t size_ = 0;
};

}  // namespace c10k::core

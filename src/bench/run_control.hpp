#pragma once
// The few words that the coordinating process shares with every bench loop, in threads or in
// forked worker processes alike: it lives in an anonymous shared mapping created before fork,
// so lock-free atomics in it work across processes.

#include <atomic>
#include <cstdint>
#include <memory>

namespace c10k::bench {

/// What one loop publishes for the live progress line, about every 100 ms.
struct alignas(64) LiveCounters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> open{0};
    /// This loop's corrected p99 so far, microseconds (the line shows the largest over loops).
    std::atomic<std::uint64_t> p99_us{0};
};

struct RunControl {
    /// Loops that have opened their connections and wait for start_ns.
    std::atomic<std::uint32_t> ready{0};
    /// Loops that have finished; the coordinator stops waiting when all have.
    std::atomic<std::uint32_t> finished{0};
    /// The common start of every schedule (CLOCK_MONOTONIC is shared by all processes); 0 until
    /// the coordinator has seen every loop ready.
    std::atomic<std::int64_t> start_ns{0};
    /// When set (non-zero), the measured interval ends here instead (interrupt or abort).
    std::atomic<std::int64_t> stop_ns{0};
};

static_assert(std::atomic<std::int64_t>::is_always_lock_free, "shared atomics must be lock-free");

/// A RunControl and `loops` LiveCounters in one MAP_SHARED mapping.
class SharedControl {
public:
    explicit SharedControl(std::uint32_t loops);
    ~SharedControl();
    SharedControl(const SharedControl&) = delete;
    SharedControl& operator=(const SharedControl&) = delete;

    RunControl& control() { return *control_; }
    LiveCounters& live(std::uint32_t loop) { return live_[loop]; }
    std::uint32_t loops() const { return loops_; }

private:
    void* mapping_ = nullptr;
    std::size_t size_ = 0;
    std::uint32_t loops_ = 0;
    RunControl* control_ = nullptr;
    LiveCounters* live_ = nullptr;
};

}  // namespace c10k::bench

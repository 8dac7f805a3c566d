#pragma once
// Overload detection by queue delay, after CoDel (Nichols and Jacobson, 2012): what matters is
// not how much work is queued but how long work waits before it is served, and not a burst
// (which a queue exists to absorb) but a standing queue, one whose *minimum* delay stays above
// a target for a whole interval. Every engine measures its own delay (docs/OVERLOAD.md says
// what each one measures) and feeds it here; the components that shed load read the level.

#include <atomic>
#include <cstdint>
#include <limits>

namespace c10k::core {

/// How overloaded a loop (or a blocking worker) is. Ordered: each level does what the one
/// before it does, and more.
enum class OverloadLevel : std::uint8_t {
    normal,    ///< everything is served
    shedding,  ///< new requests get a canned 503 with Retry-After, never reaching the handler
    severe,    ///< and new connections are closed before reading; idle keep-alives go, oldest first
};

/// The level as any component may read it, from any thread: the shedding of an engine, and the
/// hook for a future staged engine that serves its queues LIFO while overloaded (Meta's adaptive
/// LIFO: under a standing queue the newest request is the one whose client still waits).
class OverloadState {
public:
    OverloadLevel level() const { return level_.load(std::memory_order_relaxed); }
    bool overloaded() const { return level() != OverloadLevel::normal; }
    bool severe() const { return level() == OverloadLevel::severe; }
    void set(OverloadLevel level) { level_.store(level, std::memory_order_relaxed); }

private:
    std::atomic<OverloadLevel> level_{OverloadLevel::normal};
};

/// The detector: samples of queue delay in, a level out. Deterministic (explicit timestamps),
/// and not thread-safe: one per loop or worker, fed by its own thread.
///
/// The rule: the level rises to `shedding` once every sample for at least `interval_us` was
/// above `target_us` (the minimum over the interval exceeds the target), and to `severe` once
/// every sample for an interval was above `severe_factor` x target. It falls back only once the
/// queue stayed short: `normal` again at a sample at or under the target that comes a whole
/// interval after the last sample above it, and `severe` back to `shedding` at a sample at or
/// under the severe threshold. While overloaded the gates admit a request only when its own
/// wait is at or under the target (Meta's CoDel for request queues: the queue timeout is the
/// interval while the queue drains now and then, the target while it stands), so a sample
/// under the target is what an admitted request looks like and must not end the overload.
class OverloadDetector {
public:
    static constexpr std::int64_t kDefaultIntervalUs = 100'000;  ///< CoDel's 100 ms
    static constexpr std::int64_t kSevereFactor = 4;

    /// `target_us` 0 turns detection off: the level stays normal.
    explicit OverloadDetector(std::int64_t target_us, std::int64_t interval_us = kDefaultIntervalUs,
                              std::int64_t severe_factor = kSevereFactor);

    /// One sample: at `now_us` (any monotonic clock), a piece of work had waited `delay_us`.
    /// Returns the level after it.
    OverloadLevel observe(std::int64_t now_us, std::int64_t delay_us);

    OverloadLevel level() const { return level_; }
    bool enabled() const { return target_us_ > 0; }
    /// Whether a request that waited `delay_us` is served at the current level: always when
    /// normal, and while overloaded only if it waited no longer than the target (an older one
    /// is answered 503 at once, so that the time goes to requests whose clients still wait).
    bool admits(std::int64_t delay_us) const {
        return level_ == OverloadLevel::normal || delay_us <= target_us_;
    }
    std::int64_t target_us() const { return target_us_; }
    /// The least delay seen since the current run above target began (for the log line).
    std::int64_t run_min_us() const { return run_min_us_; }

private:
    std::int64_t target_us_;
    std::int64_t interval_us_;
    std::int64_t severe_us_;
    std::int64_t above_since_us_ = -1;         ///< first sample of the run above target; -1: none
    std::int64_t severe_above_since_us_ = -1;  ///< the same for the severe threshold
    std::int64_t last_above_us_ = 0;           ///< the last sample above the target
    std::int64_t run_min_us_ = 0;
    OverloadLevel level_ = OverloadLevel::normal;
};

/// Counts what was shed and says so at most once a second, never per request. Safe to share
/// between threads (the blocking workers of a thread-per-connection server share one): the
/// counts are atomic, and one caller per second wins the right to log them.
class ShedReport {
public:
    /// A request shed, or a new connection refused, after waiting `delay_us`.
    void count_request(std::int64_t delay_us) {
        requests_.fetch_add(1, std::memory_order_relaxed);
        note_delay(delay_us);
    }
    void count_connection(std::int64_t delay_us) {
        connections_.fetch_add(1, std::memory_order_relaxed);
        note_delay(delay_us);
    }
    void count_idle_closed() { idle_closed_.fetch_add(1, std::memory_order_relaxed); }
    /// Logs the counts of the second that ended (if any) when `now_ms` is in a later second.
    /// `where` names the loop or worker; `target_us` is the target, for the log line.
    void maybe_log(std::int64_t now_ms, const char* where, std::int64_t target_us);

private:
    void note_delay(std::int64_t delay_us) {
        std::int64_t least = least_us_.load(std::memory_order_relaxed);
        while (delay_us < least &&
               !least_us_.compare_exchange_weak(least, delay_us, std::memory_order_relaxed)) {
        }
    }

    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> connections_{0};
    std::atomic<std::uint64_t> idle_closed_{0};
    std::atomic<std::int64_t> second_{0};
    std::atomic<std::int64_t> least_us_{
        std::numeric_limits<std::int64_t>::max()};  ///< least delay of what was shed
};

}  // namespace c10k::core

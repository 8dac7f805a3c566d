#include "core/overload.hpp"

#include <algorithm>
#include <limits>

#include "core/log.hpp"

namespace c10k::core {

OverloadDetector::OverloadDetector(std::int64_t target_us, std::int64_t interval_us,
                                   std::int64_t severe_factor)
    : target_us_(std::max<std::int64_t>(target_us, 0)),
      interval_us_(std::max<std::int64_t>(interval_us, 1)),
      severe_us_(target_us_ * std::max<std::int64_t>(severe_factor, 1)) {}

OverloadLevel OverloadDetector::observe(std::int64_t now_us, std::int64_t delay_us) {
    if (target_us_ == 0) return level_;
    if (delay_us <= target_us_) {
        // The queue was short this once. That ends a run above the target; it ends an overload
        // only a whole interval after the last sample above the target, since while shedding
        // every admitted request is one that waited no longer than the target.
        above_since_us_ = -1;
        severe_above_since_us_ = -1;
        if (level_ == OverloadLevel::normal || now_us - last_above_us_ >= interval_us_) {
            level_ = OverloadLevel::normal;
        } else {
            level_ = OverloadLevel::shedding;
        }
        return level_;
    }
    last_above_us_ = now_us;
    if (above_since_us_ < 0) {
        above_since_us_ = now_us;
        run_min_us_ = delay_us;
    }
    run_min_us_ = std::min(run_min_us_, delay_us);
    if (delay_us <= severe_us_) {
        severe_above_since_us_ = -1;
    } else if (severe_above_since_us_ < 0) {
        severe_above_since_us_ = now_us;
    }
    if (severe_above_since_us_ >= 0 && now_us - severe_above_since_us_ >= interval_us_) {
        level_ = OverloadLevel::severe;
    } else if (now_us - above_since_us_ >= interval_us_) {
        level_ = OverloadLevel::shedding;
    } else if (level_ == OverloadLevel::severe) {
        // Above target but no longer far above it for a whole interval: still shedding.
        level_ = OverloadLevel::shedding;
    }
    return level_;
}

void ShedReport::maybe_log(std::int64_t now_ms, const char* where, std::int64_t target_us) {
    std::int64_t second = now_ms / 1000;
    std::int64_t last = second_.load(std::memory_order_relaxed);
    if (second == last) return;
    if (!second_.compare_exchange_strong(last, second, std::memory_order_relaxed)) return;
    std::uint64_t requests = requests_.exchange(0, std::memory_order_relaxed);
    std::uint64_t connections = connections_.exchange(0, std::memory_order_relaxed);
    std::uint64_t idle_closed = idle_closed_.exchange(0, std::memory_order_relaxed);
    std::int64_t least =
        least_us_.exchange(std::numeric_limits<std::int64_t>::max(), std::memory_order_relaxed);
    if (requests == 0 && connections == 0 && idle_closed == 0) return;
    if (requests == 0 && connections == 0) least = 0;
    log(LogLevel::warn,
        "overload ({}): shed {} requests (503) and {} new connections, closed {} idle "
        "keep-alive connections in the last second; target {} ms, least delay of what was shed "
        "{} ms",
        where, requests, connections, idle_closed, target_us / 1000.0, least / 1000.0);
}

}  // namespace c10k::core

#pragma once
// xinetd's `cps = N WAIT`: more than N connections in one second take the service off for WAIT
// seconds. Time is passed in, so that the rule is tested without a clock.

#include <cstdint>

namespace c10k::inetd {

class ConnectionRate {
public:
    /// `per_second` 0: no limit. `wait_ms`: how long accepting stops once it is exceeded.
    ConnectionRate(std::uint32_t per_second, std::int64_t wait_ms)
        : per_second_(per_second), wait_ms_(wait_ms) {}

    /// A connection accepted at `now_ms`. True when it is within the rate; false when it is
    /// one too many: the caller closes it and stops accepting until resume_at_ms().
    bool admit(std::int64_t now_ms);

    /// True while accepting is stopped.
    bool paused(std::int64_t now_ms) const { return now_ms < resume_at_ms_; }
    /// When accepting may start again (meaningful while paused()).
    std::int64_t resume_at_ms() const { return resume_at_ms_; }

    std::uint32_t per_second() const { return per_second_; }
    std::int64_t wait_ms() const { return wait_ms_; }

private:
    std::uint32_t per_second_;
    std::int64_t wait_ms_;
    // One-second windows, each opened by the first connection after the last one ended, as
    // xinetd counts: a steady rate just under the limit is never cut by a window's edge
    // catching the end of one second and the start of the next at twice the rate.
    std::int64_t window_start_ms_ = 0;
    std::uint32_t in_window_ = 0;
    std::int64_t resume_at_ms_ = INT64_MIN;
};

}  // namespace c10k::inetd

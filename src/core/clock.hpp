#pragma once
// Monotonic time in the units the event loops use. clock_gettime(CLOCK_MONOTONIC) goes through
// the vDSO on Linux, so reading it once per loop iteration costs tens of nanoseconds.

#include <time.h>

#include <cstdint>

namespace c10k::core {

inline std::int64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t monotonic_us() {
    return monotonic_ns() / 1000;
}
inline std::int64_t monotonic_ms() {
    return monotonic_ns() / 1'000'000;
}

/// Wall-clock seconds since the epoch (for Date headers and logs).
inline std::int64_t wall_seconds() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

/// Wall-clock milliseconds since the epoch (message timestamps, history ages).
inline std::int64_t wall_ms() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace c10k::core

#pragma once
// Open-loop pacing. Each connection keeps its own schedule of intended send times. With a total
// rate R over N connections, each connection sends every N/R seconds and connection i starts at
// i/R, so the N schedules interleave into one evenly spaced stream: no two connections are due at
// the same moment and there is never a burst (h2load fires its clients together; this does not).
// Poisson arrival replaces the fixed period with exponential gaps of the same mean.

#include <cstdint>
#include <vector>

#include "bench/options.hpp"

namespace c10k::bench {

/// The send schedule of one connection.
class ConnectionSchedule {
public:
    ConnectionSchedule() = default;
    /// `index` is the connection's number among all `total` sending connections of the run (all
    /// threads and processes), `start_ns` the common start of the run.
    ConnectionSchedule(Arrival arrival, double rate, std::uint32_t index, std::uint32_t total,
                       std::int64_t start_ns, std::uint64_t seed);

    /// The intended time of the next request.
    std::int64_t next_ns() const { return next_ns_; }
    /// Moves on to the request after next_ns().
    void advance();

private:
    double exponential_gap();

    Arrival arrival_ = Arrival::uniform;
    double period_ns_ = 0;
    std::int64_t start_ns_ = 0;
    std::uint64_t sends_ = 0;
    std::int64_t next_ns_ = 0;
    std::uint64_t random_state_ = 0;
};

/// Every intended send time of `total` connections at `rate` over [start, start + length), in
/// the order they fall due. For tests and for checking a configuration: the loops never
/// materialise the whole schedule.
std::vector<std::int64_t> merged_schedule(Arrival arrival, double rate, std::uint32_t total,
                                          std::int64_t length_ns, std::uint64_t seed);

/// The largest number of sends in any window of `window_ns` (sliding over every send time)
/// divided by the mean number per window. 1 is perfectly even; a burst shows as a large value.
double peak_to_mean(const std::vector<std::int64_t>& sorted_times, std::int64_t window_ns,
                    std::int64_t length_ns);

}  // namespace c10k::bench

#include "bench/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace c10k::bench {
namespace {

// splitmix64: a tiny, well-mixed generator; one per connection costs 8 bytes.
std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

ConnectionSchedule::ConnectionSchedule(Arrival arrival, double rate, std::uint32_t index,
                                       std::uint32_t total, std::int64_t start_ns,
                                       std::uint64_t seed)
    : arrival_(arrival),
      period_ns_(1e9 * total / rate),
      start_ns_(start_ns),
      random_state_(seed * 0x100000001b3ULL + index) {
    if (arrival_ == Arrival::uniform) {
        // Connection i's first send at i/R: the offsets tile one period evenly.
        start_ns_ = start_ns + static_cast<std::int64_t>(1e9 * index / rate);
        next_ns_ = start_ns_;
    } else {
        // Memoryless: the first gap is exponential too, so the sum over connections is Poisson
        // from the very start.
        next_ns_ = start_ns + static_cast<std::int64_t>(exponential_gap());
    }
}

double ConnectionSchedule::exponential_gap() {
    // 53 random bits in (0, 1]; -ln(u) * mean is exponential with that mean.
    double u = (static_cast<double>(next_random(random_state_) >> 11) + 1.0) / 9007199254740992.0;
    return -std::log(u) * period_ns_;
}

void ConnectionSchedule::advance() {
    ++sends_;
    if (arrival_ == Arrival::uniform) {
        // From the start rather than by adding, so rounding never drifts over long runs.
        next_ns_ = start_ns_ + static_cast<std::int64_t>(period_ns_ * static_cast<double>(sends_));
    } else {
        next_ns_ += static_cast<std::int64_t>(exponential_gap());
    }
}

std::vector<std::int64_t> merged_schedule(Arrival arrival, double rate, std::uint32_t total,
                                          std::int64_t length_ns, std::uint64_t seed) {
    std::vector<std::int64_t> times;
    times.reserve(static_cast<std::size_t>(rate * length_ns / 1e9) + total);
    for (std::uint32_t i = 0; i < total; ++i) {
        ConnectionSchedule schedule(arrival, rate, i, total, 0, seed);
        while (schedule.next_ns() < length_ns) {
            times.push_back(schedule.next_ns());
            schedule.advance();
        }
    }
    std::sort(times.begin(), times.end());
    return times;
}

double peak_to_mean(const std::vector<std::int64_t>& sorted_times, std::int64_t window_ns,
                    std::int64_t length_ns) {
    if (sorted_times.empty() || length_ns <= 0) return 0;
    double mean = static_cast<double>(sorted_times.size()) * window_ns / length_ns;
    // Every window that holds the most sends can be slid to start at one of them.
    std::size_t peak = 0;
    std::size_t end = 0;
    for (std::size_t begin = 0; begin < sorted_times.size(); ++begin) {
        while (end < sorted_times.size() && sorted_times[end] < sorted_times[begin] + window_ns) {
            ++end;
        }
        peak = std::max(peak, end - begin);
    }
    return static_cast<double>(peak) / mean;
}

}  // namespace c10k::bench

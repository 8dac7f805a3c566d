#pragma once
// A log-linear latency histogram (HdrHistogram's idea, written small): exact below 256 us, then
// 128 linear sub-buckets per power of two, so any recorded value is reported within 1/256 (0.4%)
// of itself. Fixed size (~26 KB), no allocation after construction, so each bench thread owns
// one and they are merged at the end.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace c10k::core {

class Histogram {
public:
    /// The largest value kept: one hour in microseconds. Larger values are clamped to it.
    static constexpr std::int64_t max_trackable = 3'600'000'000LL;

    Histogram();

    /// Adds one value (microseconds). Negative values count as 0; values above one hour as one
    /// hour.
    void record(std::int64_t value) { record_n(value, 1); }
    /// Adds `times` copies of a value.
    void record_n(std::int64_t value, std::uint64_t times);
    /// Adds every value of `other` into this histogram.
    void merge(const Histogram& other);
    void clear();

    /// The value at quantile `percent` (0..100): the smallest recorded value such that at least
    /// that share of values is <= it, within the histogram's precision. 0 when empty.
    std::int64_t percentile(double percent) const;
    std::uint64_t count() const { return count_; }
    std::int64_t min() const { return count_ ? min_ : 0; }
    std::int64_t max() const { return count_ ? max_ : 0; }
    double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

    /// Appends a compact binary form (only non-empty buckets) for sending over a pipe.
    void serialize(std::vector<std::uint8_t>& out) const;
    /// Reads what serialize() wrote from `in` at `offset`, advancing it. False on malformed input.
    bool deserialize(std::span<const std::uint8_t> in, std::size_t& offset);

    /// Bucket index of a value; public for tests of the bucket layout.
    static std::size_t bucket_of(std::int64_t value);
    /// The value a bucket reports (its midpoint).
    static std::int64_t bucket_value(std::size_t bucket);

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::int64_t min_ = 0;
    std::int64_t max_ = 0;
    // Sum of values for the mean; 2^63 us is far beyond any run.
    std::int64_t sum_ = 0;
};

}  // namespace c10k::core

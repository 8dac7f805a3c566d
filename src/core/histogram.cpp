#include "core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace c10k::core {
namespace {

// Values below `linear_limit` get a bucket each. Above it, each power of two [2^k, 2^(k+1))
// is cut into `sub_buckets` equal parts, whose width is at most 1/128 of the values in them.
constexpr int sub_bits = 7;
constexpr std::int64_t sub_buckets = 1 << sub_bits;     // 128
constexpr std::int64_t linear_limit = sub_buckets * 2;  // 256
constexpr int top_bit = 31;                             // 2^31 < 1 h in us < 2^32
constexpr std::size_t bucket_count =
    linear_limit + static_cast<std::size_t>(top_bit - sub_bits) * sub_buckets;

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t value) {
    std::uint8_t bytes[8];
    std::memcpy(bytes, &value, 8);
    out.insert(out.end(), bytes, bytes + 8);
}

bool get_u64(std::span<const std::uint8_t> in, std::size_t& offset, std::uint64_t& value) {
    if (offset + 8 > in.size()) return false;
    std::memcpy(&value, in.data() + offset, 8);
    offset += 8;
    return true;
}

}  // namespace

Histogram::Histogram() : counts_(bucket_count, 0) {}

std::size_t Histogram::bucket_of(std::int64_t value) {
    if (value < 0) value = 0;
    if (value > max_trackable) value = max_trackable;
    if (value < linear_limit) return static_cast<std::size_t>(value);
    int msb = 63 - std::countl_zero(static_cast<std::uint64_t>(value));  // >= 8
    int shift = msb - sub_bits;                                          // >= 1
    std::int64_t sub = (value >> shift) - sub_buckets;                   // 0..127
    return static_cast<std::size_t>(linear_limit + (shift - 1) * sub_buckets + sub);
}

std::int64_t Histogram::bucket_value(std::size_t bucket) {
    auto index = static_cast<std::int64_t>(bucket);
    if (index < linear_limit) return index;
    std::int64_t shift = (index - linear_limit) / sub_buckets + 1;
    std::int64_t sub = (index - linear_limit) % sub_buckets + sub_buckets;
    std::int64_t low = sub << shift;
    return low + ((std::int64_t{1} << shift) - 1) / 2;
}

void Histogram::record_n(std::int64_t value, std::uint64_t times) {
    if (times == 0) return;
    value = std::clamp<std::int64_t>(value, 0, max_trackable);
    counts_[bucket_of(value)] += times;
    if (count_ == 0) {
        min_ = max_ = value;
    } else {
        min_ = std::min(min_, value);
        max_ = std::max(max_, value);
    }
    count_ += times;
    sum_ += value * static_cast<std::int64_t>(times);
}

void Histogram::merge(const Histogram& other) {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    if (count_ == 0) {
        min_ = other.min_;
        max_ = other.max_;
    } else {
        min_ = std::min(min_, other.min_);
        max_ = std::max(max_, other.max_);
    }
    count_ += other.count_;
    sum_ += other.sum_;
}

void Histogram::clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = 0;
    min_ = max_ = sum_ = 0;
}

std::int64_t Histogram::percentile(double percent) const {
    if (count_ == 0) return 0;
    percent = std::clamp(percent, 0.0, 100.0);
    // The rank of the wanted value among the sorted values, 1-based, as in the exact definition
    // sorted[ceil(q * n) - 1]; the small epsilon keeps 99.9% of 1000 from rounding up to 1000.
    auto rank = static_cast<std::uint64_t>(std::ceil(percent / 100.0 * count_ - 1e-9));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    if (rank == count_) return max_;  // the largest value is known exactly
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::clamp(bucket_value(i), min_, max_);
    }
    return max_;
}

void Histogram::serialize(std::vector<std::uint8_t>& out) const {
    put_u64(out, count_);
    put_u64(out, static_cast<std::uint64_t>(min_));
    put_u64(out, static_cast<std::uint64_t>(max_));
    put_u64(out, static_cast<std::uint64_t>(sum_));
    std::uint64_t used = 0;
    for (auto c : counts_) used += c != 0;
    put_u64(out, used);
    for (std::size_t i = 0; i < bucket_count; ++i) {
        if (counts_[i] == 0) continue;
        put_u64(out, i);
        put_u64(out, counts_[i]);
    }
}

bool Histogram::deserialize(std::span<const std::uint8_t> in, std::size_t& offset) {
    clear();
    std::uint64_t count = 0, min = 0, max = 0, sum = 0, used = 0;
    if (!get_u64(in, offset, count) || !get_u64(in, offset, min) || !get_u64(in, offset, max) ||
        !get_u64(in, offset, sum) || !get_u64(in, offset, used)) {
        return false;
    }
    std::uint64_t total = 0;
    for (std::uint64_t k = 0; k < used; ++k) {
        std::uint64_t index = 0, times = 0;
        if (!get_u64(in, offset, index) || !get_u64(in, offset, times)) return false;
        if (index >= bucket_count) return false;
        counts_[index] += times;
        total += times;
    }
    if (total != count) return false;
    count_ = count;
    min_ = static_cast<std::int64_t>(min);
    max_ = static_cast<std::int64_t>(max);
    sum_ = static_cast<std::int64_t>(sum);
    return true;
}

}  // namespace c10k::core

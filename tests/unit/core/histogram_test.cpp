// The histogram is checked against exact percentiles computed from sorted vectors of the same
// random values: every reported percentile must lie within 1% of the exact one.

#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace c10k::core {
namespace {

std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, double percent) {
    auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * sorted.size() - 1e-9));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

void expect_close_to_exact(const std::vector<std::int64_t>& values, const Histogram& histogram) {
    std::vector<std::int64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        auto exact = exact_percentile(sorted, q);
        auto got = histogram.percentile(q);
        EXPECT_LE(std::abs(got - exact), std::max<double>(1.0, exact * 0.01))
            << "q=" << q << " exact=" << exact << " got=" << got;
    }
    EXPECT_EQ(histogram.min(), sorted.front());
    EXPECT_EQ(histogram.max(), sorted.back());
    EXPECT_EQ(histogram.count(), sorted.size());
}

TEST(Histogram, EmptyReportsZero) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(99), 0);
    EXPECT_EQ(h.max(), 0);
    EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
    Histogram h;
    for (int v = 0; v < 256; ++v) h.record(v);
    EXPECT_EQ(h.percentile(50), 127);
    EXPECT_EQ(h.percentile(100), 255);
    EXPECT_EQ(h.min(), 0);
    EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(Histogram, EveryBucketValueIsWithinHalfPercentOfItsMembers) {
    std::mt19937_64 random(7);
    std::uniform_int_distribution<std::int64_t> any(1, Histogram::max_trackable);
    for (int i = 0; i < 200000; ++i) {
        auto v = any(random);
        auto reported = Histogram::bucket_value(Histogram::bucket_of(v));
        ASSERT_LE(std::abs(reported - v), v / 200 + 1) << v;
    }
    // The layout is monotonic: a larger value never lands in a smaller bucket.
    std::size_t previous = 0;
    for (std::int64_t v = 0; v < 5'000'000; v += 37) {
        auto bucket = Histogram::bucket_of(v);
        ASSERT_GE(bucket, previous);
        previous = bucket;
    }
}

TEST(Histogram, UniformRandomMatchesExactPercentiles) {
    std::mt19937_64 random(1);
    std::uniform_int_distribution<std::int64_t> dist(1, 2'000'000);
    std::vector<std::int64_t> values(100000);
    Histogram h;
    for (auto& v : values) h.record(v = dist(random));
    expect_close_to_exact(values, h);
}

TEST(Histogram, LongTailedRandomMatchesExactPercentiles) {
    // Latencies look log-normal: most near 100 us, a tail out to seconds.
    std::mt19937_64 random(2);
    std::lognormal_distribution<double> dist(std::log(100.0), 1.5);
    std::vector<std::int64_t> values(200000);
    Histogram h;
    for (auto& v : values) {
        v = std::min<std::int64_t>(Histogram::max_trackable, static_cast<std::int64_t>(dist(random)) + 1);
        h.record(v);
    }
    expect_close_to_exact(values, h);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
    std::mt19937_64 random(3);
    std::exponential_distribution<double> dist(1.0 / 5000);
    std::vector<std::int64_t> values;
    Histogram a, b, all;
    for (int i = 0; i < 50000; ++i) {
        auto v = static_cast<std::int64_t>(dist(random)) + 1;
        values.push_back(v);
        (i % 3 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    expect_close_to_exact(values, a);
    for (double q : {50.0, 99.0, 99.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
}

TEST(Histogram, ClampsOutOfRangeValues) {
    Histogram h;
    h.record(-5);
    h.record(Histogram::max_trackable * 10);
    EXPECT_EQ(h.min(), 0);
    EXPECT_EQ(h.max(), Histogram::max_trackable);
    EXPECT_EQ(h.percentile(100), Histogram::max_trackable);
}

TEST(Histogram, SerializeRoundTrips) {
    std::mt19937_64 random(4);
    std::uniform_int_distribution<std::int64_t> dist(1, 10'000'000);
    Histogram h;
    for (int i = 0; i < 10000; ++i) h.record(dist(random));
    std::vector<std::uint8_t> bytes{1, 2, 3};  // a prefix, as in a larger message
    h.serialize(bytes);
    Histogram back;
    std::size_t offset = 3;
    ASSERT_TRUE(back.deserialize(bytes, offset));
    EXPECT_EQ(offset, bytes.size());
    EXPECT_EQ(back.count(), h.count());
    EXPECT_EQ(back.max(), h.max());
    EXPECT_EQ(back.min(), h.min());
    for (double q : {1.0, 50.0, 99.0, 99.9}) EXPECT_EQ(back.percentile(q), h.percentile(q));
    // A truncated message is refused rather than read past its end.
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.end() - 4);
    offset = 3;
    EXPECT_FALSE(back.deserialize(cut, offset));
}

}  // namespace
}  // namespace c10k::core

// The queue-delay detector of overload control: fed explicit timestamps, so that every case is
// deterministic. Times are microseconds; the target is 5 ms and the interval CoDel's 100 ms.

#include <gtest/gtest.h>

#include "core/overload.hpp"

namespace c10k::core {
namespace {

constexpr std::int64_t kTarget = 5'000;
constexpr std::int64_t kInterval = 100'000;

TEST(OverloadDetector, OffWhenTheTargetIsZero) {
    OverloadDetector detector(0, kInterval);
    EXPECT_FALSE(detector.enabled());
    for (std::int64_t t = 0; t <= 1'000'000; t += 10'000) {
        EXPECT_EQ(detector.observe(t, 500'000), OverloadLevel::normal);
    }
}

TEST(OverloadDetector, ABurstShorterThanTheIntervalIsNotOverload) {
    OverloadDetector detector(kTarget, kInterval);
    // High delays for 90 ms: a burst the queue absorbs, not a standing queue.
    for (std::int64_t t = 0; t <= 90'000; t += 10'000) {
        EXPECT_EQ(detector.observe(t, 20'000), OverloadLevel::normal) << t;
    }
    // One sample under the target: the queue drained, and the run starts again.
    EXPECT_EQ(detector.observe(95'000, 1'000), OverloadLevel::normal);
    for (std::int64_t t = 100'000; t < 200'000; t += 10'000) {
        EXPECT_EQ(detector.observe(t, 20'000), OverloadLevel::normal) << t;
    }
}

TEST(OverloadDetector, ShedsOnceTheMinimumStaysAboveTheTargetForAnInterval) {
    OverloadDetector detector(kTarget, kInterval);
    EXPECT_EQ(detector.observe(0, 6'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(50'000, 7'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(99'999, 6'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(100'000, 6'000), OverloadLevel::shedding);
    EXPECT_EQ(detector.level(), OverloadLevel::shedding);
    EXPECT_EQ(detector.run_min_us(), 6'000);
    // Still above: still shedding.
    EXPECT_EQ(detector.observe(150'000, 8'000), OverloadLevel::shedding);
}

TEST(OverloadDetector, StopsOnceTheDelayStayedAtTheTargetForAnInterval) {
    OverloadDetector detector(kTarget, kInterval);
    detector.observe(0, 10'000);
    ASSERT_EQ(detector.observe(120'000, 10'000), OverloadLevel::shedding);
    // A request that waited no longer than the target is what shedding admits: it does not
    // end the overload while samples above the target keep coming.
    EXPECT_EQ(detector.observe(130'000, kTarget), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(140'000, 10'000), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(200'000, 1'000), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(239'999, 1'000), OverloadLevel::shedding);
    // A whole interval after the last sample above the target: the queue has drained.
    EXPECT_EQ(detector.observe(240'000, 1'000), OverloadLevel::normal);
    // And it takes a whole interval above the target again to shed again.
    EXPECT_EQ(detector.observe(250'000, 10'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(349'999, 10'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(350'000, 10'000), OverloadLevel::shedding);
}

TEST(OverloadDetector, ALoopThatWentIdleLearnsItFromTheNextRequest) {
    OverloadDetector detector(kTarget, kInterval);
    detector.observe(0, 10'000);
    ASSERT_EQ(detector.observe(100'000, 10'000), OverloadLevel::shedding);
    // No work for a second, then a fresh request: the overload is over at once.
    EXPECT_EQ(detector.observe(1'100'000, 100), OverloadLevel::normal);
}

TEST(OverloadDetector, WhileOverloadedOnlyRequestsThatWaitedNoLongerThanTheTargetAreAdmitted) {
    OverloadDetector detector(kTarget, kInterval);
    EXPECT_TRUE(detector.admits(50'000));  // normal: everything is served, bursts included
    detector.observe(0, 10'000);
    ASSERT_EQ(detector.observe(100'000, 10'000), OverloadLevel::shedding);
    EXPECT_TRUE(detector.admits(0));
    EXPECT_TRUE(detector.admits(kTarget));
    EXPECT_FALSE(detector.admits(kTarget + 1));
    EXPECT_FALSE(detector.admits(50'000));
}

TEST(OverloadDetector, SevereOnlyWhenFarAboveTheTargetForAnInterval) {
    OverloadDetector detector(kTarget, kInterval);
    // 4 x 5 ms = 20 ms is the severe threshold: above it from 0 on.
    EXPECT_EQ(detector.observe(0, 30'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(60'000, 25'000), OverloadLevel::normal);
    EXPECT_EQ(detector.observe(100'000, 40'000), OverloadLevel::severe);
    // Back under 4 x target but above it: shedding requests, no longer refusing connections.
    EXPECT_EQ(detector.observe(110'000, 10'000), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(120'000, 30'000), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(219'999, 30'000), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(220'000, 30'000), OverloadLevel::severe);
    // Under the target: no longer severe, and normal an interval after the last sample above.
    EXPECT_EQ(detector.observe(230'000, 100), OverloadLevel::shedding);
    EXPECT_EQ(detector.observe(320'000, 100), OverloadLevel::normal);
}

TEST(OverloadDetector, ADelayJustOverTheTargetNeverMakesItSevere) {
    OverloadDetector detector(kTarget, kInterval);
    for (std::int64_t t = 0; t <= 1'000'000; t += 10'000) detector.observe(t, 19'000);
    EXPECT_EQ(detector.level(), OverloadLevel::shedding);
}

TEST(OverloadState, ReadsWhatWasSet) {
    OverloadState state;
    EXPECT_FALSE(state.overloaded());
    state.set(OverloadLevel::shedding);
    EXPECT_TRUE(state.overloaded());
    EXPECT_FALSE(state.severe());
    state.set(OverloadLevel::severe);
    EXPECT_TRUE(state.severe());
    state.set(OverloadLevel::normal);
    EXPECT_FALSE(state.overloaded());
}

}  // namespace
}  // namespace c10k::core

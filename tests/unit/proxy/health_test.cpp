// Health's pure logic: the statuses an HTTP check accepts, the rise/fall rule, a pool that
// reads the checks' board (a DOWN server is never chosen, one newly UP ramps), and passive
// ejection (streak, growing time, the cap on the ejected share).

#include "proxy/health.hpp"

#include <gtest/gtest.h>

#include <string>

#include "proxy/pool.hpp"

namespace c10k::proxy {
namespace {

PoolSpec spec_of(int servers) {
    PoolSpec spec;
    for (int i = 0; i < servers; ++i) {
        ServerSpec server;
        std::string error;
        EXPECT_TRUE(
            core::parse_endpoint("127.0.0.1:" + std::to_string(9000 + i), server.address, error));
        spec.servers.push_back(server);
    }
    return spec;
}

std::string sequence(Pool& pool, int count, std::int64_t now = 0) {
    std::string picks;
    for (int i = 0; i < count; ++i) {
        int chosen = pool.pick(now, 0);
        picks.push_back(chosen < 0 ? '-' : static_cast<char>('a' + chosen));
    }
    return picks;
}

TEST(StatusRanges, DefaultAcceptsSuccessAndRedirects) {
    StatusRanges ranges;
    EXPECT_TRUE(ranges.contains(200));
    EXPECT_TRUE(ranges.contains(399));
    EXPECT_FALSE(ranges.contains(404));
    EXPECT_FALSE(ranges.contains(199));
}

TEST(StatusRanges, ParsesListsAndRanges) {
    StatusRanges ranges;
    std::string error;
    ASSERT_TRUE(parse_status_ranges("200,204,300-302", ranges, error)) << error;
    EXPECT_TRUE(ranges.contains(204));
    EXPECT_TRUE(ranges.contains(301));
    EXPECT_FALSE(ranges.contains(201));
    EXPECT_FALSE(ranges.contains(303));
}

TEST(StatusRanges, RejectsWhatIsNotAStatus) {
    for (const char* bad : {"", "2xx", "600", "99", "300-200", "200,", "200-", "-200"}) {
        StatusRanges ranges;
        std::string error;
        EXPECT_FALSE(parse_status_ranges(bad, ranges, error)) << bad;
        EXPECT_NE(error.find("200-399"), std::string::npos) << error;
        // A failed parse leaves what was there.
        EXPECT_TRUE(ranges.contains(200));
    }
}

TEST(HealthStreak, DownAfterFallFailuresUpAfterRisePasses) {
    HealthStreak streak;
    EXPECT_TRUE(streak.up);
    EXPECT_FALSE(streak.record(false, 2, 3));
    EXPECT_FALSE(streak.record(false, 2, 3));
    EXPECT_TRUE(streak.record(false, 2, 3));
    EXPECT_FALSE(streak.up);
    EXPECT_FALSE(streak.record(false, 2, 3));  // still down: no change to report
    EXPECT_FALSE(streak.record(true, 2, 3));
    EXPECT_TRUE(streak.record(true, 2, 3));
    EXPECT_TRUE(streak.up);
    EXPECT_EQ(streak.passes, 2u);
}

TEST(HealthStreak, APassBreaksTheFailureStreak) {
    HealthStreak streak;
    streak.record(false, 2, 3);
    streak.record(false, 2, 3);
    streak.record(true, 2, 3);
    EXPECT_FALSE(streak.record(false, 2, 3));
    EXPECT_FALSE(streak.record(false, 2, 3));
    EXPECT_TRUE(streak.up);
    EXPECT_TRUE(streak.record(false, 2, 3));
}

TEST(PoolHealth, ADownServerIsNeverChosen) {
    HealthBoard board(3);
    Pool pool(spec_of(3), &board);
    EXPECT_EQ(sequence(pool, 3), "abc");
    board.set_down(1);
    EXPECT_EQ(sequence(pool, 4), "acac");
    EXPECT_FALSE(pool.none_healthy());
    EXPECT_FALSE(pool.state(1).checked_up);
    // Not even as the last resort when the others failed their connects.
    pool.mark_failed(0, 0);
    pool.mark_failed(2, 0);
    EXPECT_NE(pool.pick(10, 0), 1);
    board.set_down(0);
    board.set_down(2);
    EXPECT_TRUE(pool.none_healthy());
    EXPECT_EQ(pool.pick(10, 0), -1);
}

TEST(PoolHealth, AServerBackUpRampsWithSlowStart) {
    PoolSpec spec = spec_of(2);
    spec.slow_start_ms = 1000;
    HealthBoard board(2);
    Pool pool(spec, &board);
    board.set_down(0);
    pool.pick(5000, 0);
    board.set_up(0, 6000);
    pool.pick(6000, 0);
    EXPECT_EQ(pool.state(0).slow_start_from_ms, 6000);
    EXPECT_LT(pool.effective_weight(0, 6500), pool.effective_weight(1, 6500));
    EXPECT_EQ(pool.effective_weight(0, 7000), pool.effective_weight(1, 7000));
}

TEST(PoolEjection, EjectedAfterTheStreakForLongerEachTime) {
    PoolSpec spec = spec_of(2);
    spec.eject_after = 3;
    spec.eject_time_ms = 100;
    spec.eject_max_time_ms = 250;
    Pool pool(spec);
    EXPECT_FALSE(pool.record_failed_request(0, 0));
    EXPECT_FALSE(pool.record_failed_request(0, 0));
    EXPECT_TRUE(pool.record_failed_request(0, 0));
    EXPECT_EQ(pool.state(0).ejections, 1u);
    EXPECT_EQ(sequence(pool, 3, 50), "bbb");
    EXPECT_EQ(pool.state(0).ejected_until_ms, 100);
    for (int i = 0; i < 2; ++i) EXPECT_FALSE(pool.record_failed_request(0, 100));
    EXPECT_TRUE(pool.record_failed_request(0, 100));
    EXPECT_EQ(pool.state(0).ejected_until_ms, 300);  // twice the time
    for (int i = 0; i < 2; ++i) EXPECT_FALSE(pool.record_failed_request(0, 300));
    EXPECT_TRUE(pool.record_failed_request(0, 300));
    EXPECT_EQ(pool.state(0).ejected_until_ms, 550);  // capped
}

TEST(PoolEjection, ASuccessEndsTheStreak) {
    PoolSpec spec = spec_of(2);
    spec.eject_after = 2;
    Pool pool(spec);
    EXPECT_FALSE(pool.record_failed_request(0, 0));
    pool.record_good_request(0);
    EXPECT_FALSE(pool.record_failed_request(0, 0));
    EXPECT_TRUE(pool.record_failed_request(0, 0));
}

TEST(PoolEjection, NeverMoreThanTheCapAndNeverTheWholePool) {
    PoolSpec spec = spec_of(2);
    spec.eject_after = 1;
    spec.max_ejected_percent = 50;
    Pool pool(spec);
    EXPECT_TRUE(pool.record_failed_request(0, 0));
    EXPECT_FALSE(pool.record_failed_request(1, 0));
    EXPECT_EQ(pool.state(1).ejections, 0u);

    spec.max_ejected_percent = 100;
    Pool all(spec);
    EXPECT_TRUE(all.record_failed_request(0, 0));
    EXPECT_FALSE(all.record_failed_request(1, 0));  // one server always stays

    PoolSpec single = spec_of(1);
    single.eject_after = 1;
    Pool alone(single);
    EXPECT_FALSE(alone.record_failed_request(0, 0));
}

TEST(PoolEjection, ZeroTurnsItOff) {
    PoolSpec spec = spec_of(2);
    spec.eject_after = 0;
    Pool pool(spec);
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(pool.record_failed_request(0, 0));
}

}  // namespace
}  // namespace c10k::proxy

// xinetd's cps rule with the time passed in: N connections a second pass, the one after them
// is refused and stops accepting for the wait, and counting starts afresh afterwards.

#include <gtest/gtest.h>

#include "inetd/connection_rate.hpp"

namespace c10k::inetd {
namespace {

TEST(ConnectionRate, NoLimitAdmitsEverything) {
    ConnectionRate rate(0, 10'000);
    for (int i = 0; i < 10'000; ++i) EXPECT_TRUE(rate.admit(5));
    EXPECT_FALSE(rate.paused(5));
}

TEST(ConnectionRate, TheOneTooManyInASecondIsRefusedAndPausesForTheWait) {
    ConnectionRate rate(3, 10'000);
    EXPECT_TRUE(rate.admit(1000));
    EXPECT_TRUE(rate.admit(1100));
    EXPECT_TRUE(rate.admit(1999));
    EXPECT_FALSE(rate.paused(1999));
    EXPECT_FALSE(rate.admit(1999));
    EXPECT_TRUE(rate.paused(1999));
    EXPECT_EQ(rate.resume_at_ms(), 11'999);
    EXPECT_TRUE(rate.paused(11'998));
    EXPECT_FALSE(rate.paused(11'999));
}

TEST(ConnectionRate, AWindowIsOneSecondFromItsFirstConnection) {
    ConnectionRate rate(2, 5'000);
    EXPECT_TRUE(rate.admit(0));
    EXPECT_TRUE(rate.admit(999));
    // A new window opens at 1000: two more pass.
    EXPECT_TRUE(rate.admit(1000));
    EXPECT_TRUE(rate.admit(1500));
    EXPECT_FALSE(rate.admit(1999));
}

TEST(ConnectionRate, ASteadyRateAtTheLimitIsNeverCut) {
    ConnectionRate rate(10, 1'000);
    for (std::int64_t now = 0; now < 60'000; now += 100) {
        ASSERT_TRUE(rate.admit(now)) << now;
    }
}

TEST(ConnectionRate, CountingStartsAfreshAfterAPause) {
    ConnectionRate rate(1, 2'000);
    EXPECT_TRUE(rate.admit(0));
    EXPECT_FALSE(rate.admit(10));
    // Accepting resumed at 2010: the burst before the pause does not count.
    EXPECT_TRUE(rate.admit(2010));
    EXPECT_FALSE(rate.admit(2020));
    EXPECT_EQ(rate.resume_at_ms(), 4020);
}

}  // namespace
}  // namespace c10k::inetd

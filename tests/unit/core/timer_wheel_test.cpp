#include "core/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace c10k::core {
namespace {

struct Timer : TimerNode {
    int id = 0;
    std::int64_t fired_at = -1;
};

std::vector<int> advance_collect(TimerWheel& wheel, std::int64_t now) {
    std::vector<int> fired;
    wheel.advance(now, [&](TimerNode& node) {
        auto& t = static_cast<Timer&>(node);
        t.fired_at = now;
        fired.push_back(t.id);
    });
    return fired;
}

TEST(TimerWheel, FiresAtOrAfterItsTimeButNotBefore) {
    TimerWheel wheel(0, 100, 64);
    Timer t;
    t.id = 1;
    wheel.schedule(t, 250);
    EXPECT_TRUE(advance_collect(wheel, 100).empty());
    EXPECT_TRUE(advance_collect(wheel, 249).empty());
    EXPECT_EQ(advance_collect(wheel, 250), std::vector<int>{1});
    EXPECT_FALSE(t.scheduled());
    EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CancelAndRescheduleAreHonoured) {
    TimerWheel wheel(0, 10, 64);
    Timer a, b;
    a.id = 1;
    b.id = 2;
    wheel.schedule(a, 50);
    wheel.schedule(b, 50);
    wheel.cancel(a);
    wheel.cancel(a);         // harmless twice
    wheel.schedule(b, 500);  // moved later
    EXPECT_TRUE(advance_collect(wheel, 100).empty());
    EXPECT_EQ(advance_collect(wheel, 500), std::vector<int>{2});
}

TEST(TimerWheel, TimersBeyondOneRevolutionWaitForTheirLap) {
    TimerWheel wheel(0, 10, 64);  // one revolution = 640 ms
    Timer far;
    far.id = 7;
    wheel.schedule(far, 2000);
    for (std::int64_t now = 0; now < 2000; now += 7) {
        ASSERT_TRUE(advance_collect(wheel, now).empty()) << now;
    }
    EXPECT_EQ(advance_collect(wheel, 2005), std::vector<int>{7});
}

TEST(TimerWheel, OverdueTimersFireAtTheNextAdvance) {
    TimerWheel wheel(1000, 10, 64);
    Timer late;
    late.id = 3;
    wheel.schedule(late, 10);  // in the past
    EXPECT_EQ(wheel.next_timeout_ms(1000), 10);
    EXPECT_EQ(advance_collect(wheel, 1000), std::vector<int>{3});
}

TEST(TimerWheel, NextTimeoutPointsAtTheEarliestOccupiedSlot) {
    // Declared before the wheel: still scheduled at the end, they must outlive it (the wheel's
    // destructor unlinks them).
    Timer t;
    Timer sooner;
    TimerWheel wheel(0, 100, 1024);
    EXPECT_EQ(wheel.next_timeout_ms(0), -1);
    wheel.schedule(t, 5000);
    std::int64_t wait = wheel.next_timeout_ms(0);
    EXPECT_GE(wait, 5000);
    EXPECT_LE(wait, 5100);
    wheel.schedule(sooner, 300);
    wait = wheel.next_timeout_ms(0);
    EXPECT_GE(wait, 300);
    EXPECT_LE(wait, 400);
}

TEST(TimerWheel, ACallbackMayRescheduleAndCancelOthers) {
    TimerWheel wheel(0, 10, 64);
    Timer a, b, c;
    a.id = 1;
    b.id = 2;
    c.id = 3;
    wheel.schedule(a, 20);
    wheel.schedule(b, 20);
    wheel.schedule(c, 20);
    std::vector<int> fired;
    wheel.advance(30, [&](TimerNode& node) {
        auto& t = static_cast<Timer&>(node);
        fired.push_back(t.id);
        if (t.id == fired.front()) {
            // The first to fire cancels one of the others and re-arms itself.
            wheel.cancel(t.id == 2 ? a : b);
            wheel.schedule(t, 100);
        }
    });
    EXPECT_EQ(fired.size(), 2u);
    EXPECT_EQ(wheel.size(), 1u);
    std::vector<int> later = advance_collect(wheel, 100);
    EXPECT_EQ(later, std::vector<int>{fired.front()});
}

TEST(TimerWheel, RandomScheduleFiresEveryTimerWithinOneSlotOfItsTime) {
    std::mt19937 random(1);
    TimerWheel wheel(0, 10, 128);
    std::vector<Timer> timers(2000);
    for (std::size_t i = 0; i < timers.size(); ++i) {
        timers[i].id = static_cast<int>(i);
        wheel.schedule(timers[i], static_cast<std::int64_t>(random() % 5000));
    }
    // Some get moved, some cancelled.
    for (std::size_t i = 0; i < timers.size(); i += 3) {
        wheel.schedule(timers[i], static_cast<std::int64_t>(random() % 5000));
    }
    for (std::size_t i = 1; i < timers.size(); i += 7) wheel.cancel(timers[i]);
    for (std::int64_t now = 0; now <= 5100; now += 1 + static_cast<std::int64_t>(random() % 13)) {
        advance_collect(wheel, now);
        for (auto& t : timers) {
            if (t.fired_at >= 0) {
                ASSERT_GE(t.fired_at, t.expires_ms);
            }
        }
    }
    advance_collect(wheel, 5200);
    for (std::size_t i = 0; i < timers.size(); ++i) {
        bool cancelled = i % 7 == 1;
        if (cancelled) {
            EXPECT_EQ(timers[i].fired_at, -1) << i;
        } else {
            ASSERT_GE(timers[i].fired_at, timers[i].expires_ms) << i;
            EXPECT_LE(timers[i].fired_at, timers[i].expires_ms + 13 + 10) << i;
        }
    }
    EXPECT_EQ(wheel.size(), 0u);
}

}  // namespace
}  // namespace c10k::core

// A stage's pool with real threads, its controller ticked by hand: it grows while work waits
// and shrinks back to its minimum once the threads are idle. Nothing here depends on timing:
// the test waits for states, never for durations.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/stage.hpp"

namespace c10k::engine {
namespace {

/// Work that blocks until the gate opens, as a handler waiting on a slow disk would.
struct Gate {
    std::mutex mutex;
    std::condition_variable opened_cv;
    bool opened = false;
    std::atomic<int> finished{0};

    void wait() {
        std::unique_lock<std::mutex> lock(mutex);
        opened_cv.wait(lock, [this] { return opened; });
    }
    void open() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            opened = true;
        }
        opened_cv.notify_all();
    }
};

class GatedWork final : public StageWork {
public:
    explicit GatedWork(Gate& gate) : gate_(gate) {}
    void run(http::Handler*, std::unique_ptr<StageWork>&) override {
        gate_.wait();
        gate_.finished.fetch_add(1);
    }

private:
    Gate& gate_;
};

ControllerRule quick_rule(std::uint32_t min, std::uint32_t max) {
    ControllerRule rule;
    rule.bounds = {min, max};
    rule.grow_after_ticks = 1;
    rule.shrink_after_ticks = 2;
    return rule;
}

TEST(Stage, GrowsWithinItsMaximumWhileWorkWaitsThenShrinksToItsMinimum) {
    Stage stage("test", quick_rule(1, 3));
    stage.start();
    Gate gate;
    constexpr int kWork = 10;
    for (int i = 0; i < kWork; ++i) {
        std::unique_ptr<StageWork> work = std::make_unique<GatedWork>(gate);
        ASSERT_TRUE(stage.push(work));
    }
    // Every thread blocks on the gate, so the queue stays long whatever the tick: the pool
    // grows by one thread per tick until its maximum, and no further.
    for (int tick = 0; tick < 20; ++tick) stage.control();
    EXPECT_EQ(stage.stats().threads, 3u);
    EXPECT_GE(stage.stats().queue_depth, static_cast<std::size_t>(kWork - 3));

    gate.open();
    while (gate.finished.load() < kWork) std::this_thread::yield();
    // Idle now; each tick that finds idle threads past the timeout retires one. Retiring is
    // done by the thread itself, so the test ticks until the pool is at its minimum.
    for (int tick = 0; tick < 100000 && stage.stats().threads > 1; ++tick) {
        stage.control();
        std::this_thread::yield();
    }
    StageStats stats = stage.stats();
    EXPECT_EQ(stats.threads, 1u);
    EXPECT_EQ(stats.threads_started, 3u);
    EXPECT_EQ(stats.threads_stopped, 2u);
    EXPECT_EQ(stats.dequeued, static_cast<std::uint64_t>(kWork));
    EXPECT_EQ(stats.completed, static_cast<std::uint64_t>(kWork));
    stage.stop();
}

TEST(Stage, RefusesWorkOnceStopped) {
    Stage stage("test", quick_rule(1, 2));
    stage.start();
    stage.stop();
    Gate gate;
    std::unique_ptr<StageWork> work = std::make_unique<GatedWork>(gate);
    EXPECT_FALSE(stage.push(work));
    EXPECT_NE(work, nullptr);  // still the caller's
}

/// Work that notes the order in which it ran.
class NumberedWork final : public StageWork {
public:
    NumberedWork(int number, std::mutex& mutex, std::vector<int>& order)
        : number_(number), mutex_(mutex), order_(order) {}
    void run(http::Handler*, std::unique_ptr<StageWork>&) override {
        std::lock_guard<std::mutex> lock(mutex_);
        order_.push_back(number_);
    }

private:
    int number_;
    std::mutex& mutex_;
    std::vector<int>& order_;
};

/// Work that an overloaded stage may answer without doing: it records which way it went.
class ExpirableWork final : public StageWork {
public:
    ExpirableWork(int number, std::mutex& mutex, std::vector<int>& ran, std::vector<int>& expired)
        : number_(number), mutex_(mutex), ran_(ran), expired_(expired) {}
    void run(http::Handler*, std::unique_ptr<StageWork>&) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ran_.push_back(number_);
    }
    bool expire(std::unique_ptr<StageWork>&) override {
        std::lock_guard<std::mutex> lock(mutex_);
        expired_.push_back(number_);
        return true;
    }

private:
    int number_;
    std::mutex& mutex_;
    std::vector<int>& ran_;
    std::vector<int>& expired_;
};

/// Holds the stage's only thread until its queue is overloaded (CoDel's 100 ms interval of
/// the oldest work older than the target), ticking the controller, bounded by a count.
void wait_until_overloaded(Stage& stage) {
    for (int tick = 0; tick < 5000 && !stage.overload().overloaded(); ++tick) {
        stage.control();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

TEST(Stage, AStandingQueueExpiresStaleWorkAndServesTheNewestFirstUntilItDrains) {
    Stage stage("test", quick_rule(1, 1));
    stage.enable_overload(50'000);  // 50 ms: fresh work pushed below stays fresh when run
    stage.start();
    Gate gate;
    std::unique_ptr<StageWork> blocker = std::make_unique<GatedWork>(gate);
    ASSERT_TRUE(stage.push(blocker));
    std::mutex mutex;
    std::vector<int> ran, expired;
    for (int i = 1; i <= 3; ++i) {
        std::unique_ptr<StageWork> work = std::make_unique<ExpirableWork>(i, mutex, ran, expired);
        ASSERT_TRUE(stage.push(work));
    }
    wait_until_overloaded(stage);
    ASSERT_TRUE(stage.overload().overloaded());
    EXPECT_GE(stage.queue_delay_us(), 50'000);
    // The stale work was answered by the controller's sweep, unrun, though no thread was free.
    {
        std::lock_guard<std::mutex> lock(mutex);
        EXPECT_EQ(expired, (std::vector<int>{1, 2, 3}));
        EXPECT_TRUE(ran.empty());
    }
    // Fresh work while overloaded: taken newest first.
    for (int i = 4; i <= 6; ++i) {
        std::unique_ptr<StageWork> work = std::make_unique<ExpirableWork>(i, mutex, ran, expired);
        ASSERT_TRUE(stage.push(work));
    }
    gate.open();
    while (stage.stats().completed < 7) std::this_thread::yield();
    {
        std::lock_guard<std::mutex> lock(mutex);
        EXPECT_EQ(ran, (std::vector<int>{6, 5, 4}));
        EXPECT_EQ(expired, (std::vector<int>{1, 2, 3}));
    }
    EXPECT_EQ(stage.stats().expired, 3u);
    EXPECT_EQ(stage.stats().taken_newest_first, 3u);
    // Drained: the overload ends an interval after the last sample above the target.
    for (int tick = 0; tick < 5000 && stage.overload().overloaded(); ++tick) {
        stage.control();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_FALSE(stage.overload().overloaded());
    EXPECT_EQ(stage.queue_delay_us(), 0);
    stage.stop();
}

TEST(Stage, StaleWorkThatCannotBeExpiredIsStillRunInOrder) {
    Stage stage("test", quick_rule(1, 1));
    stage.enable_overload(1000);  // 1 ms
    stage.start();
    Gate gate;
    std::unique_ptr<StageWork> blocker = std::make_unique<GatedWork>(gate);
    ASSERT_TRUE(stage.push(blocker));
    std::mutex mutex;
    std::vector<int> order;
    constexpr int kQueued = 4;
    for (int i = 1; i <= kQueued; ++i) {
        std::unique_ptr<StageWork> work = std::make_unique<NumberedWork>(i, mutex, order);
        ASSERT_TRUE(stage.push(work));
    }
    wait_until_overloaded(stage);
    ASSERT_TRUE(stage.overload().overloaded());
    {
        // The controller swept it and put it back: nothing ran on the controller's thread.
        std::lock_guard<std::mutex> lock(mutex);
        EXPECT_TRUE(order.empty());
    }
    EXPECT_EQ(stage.stats().queue_depth, static_cast<std::size_t>(kQueued));
    gate.open();
    while (stage.stats().completed < kQueued + 1) std::this_thread::yield();
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(stage.stats().expired, 0u);
}

TEST(Stage, WithoutATargetTheQueueStaysFirstInFirstOut) {
    Stage stage("test", quick_rule(1, 1));
    stage.start();
    Gate gate;
    std::unique_ptr<StageWork> blocker = std::make_unique<GatedWork>(gate);
    ASSERT_TRUE(stage.push(blocker));
    std::mutex mutex;
    std::vector<int> order;
    for (int i = 1; i <= 4; ++i) {
        std::unique_ptr<StageWork> work = std::make_unique<NumberedWork>(i, mutex, order);
        ASSERT_TRUE(stage.push(work));
    }
    for (int tick = 0; tick < 150; ++tick) {
        stage.control();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_FALSE(stage.overload().overloaded());
    gate.open();
    while (stage.stats().completed < 5) std::this_thread::yield();
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(stage.stats().taken_newest_first, 0u);
}

}  // namespace
}  // namespace c10k::engine

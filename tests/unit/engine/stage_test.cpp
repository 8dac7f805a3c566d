// A stage's pool with real threads, its controller ticked by hand: it grows while work waits
// and shrinks back to its minimum once the threads are idle. Nothing here depends on timing:
// the test waits for states, never for durations.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

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

}  // namespace
}  // namespace c10k::engine

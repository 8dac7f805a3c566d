// The staged engine's pool controller, driven by explicit ticks (no clock), and the parsing of
// --stage-threads.

#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/stage_controller.hpp"

namespace c10k::engine {
namespace {

ControllerRule rule(std::uint32_t min, std::uint32_t max) {
    ControllerRule r;
    r.bounds = {min, max};
    r.grow_after_ticks = 2;
    r.shrink_after_ticks = 3;
    return r;
}

/// A stage the test plays: applies each decision to its thread count.
struct FakeStage {
    std::uint32_t threads;
    std::uint32_t most = 0;
    StageDecision tick(StageController& controller, std::size_t depth, std::uint32_t idle,
                       std::uint64_t completed) {
        StageDecision decision = controller.tick({depth, threads, idle, completed});
        if (decision == StageDecision::grow) ++threads;
        if (decision == StageDecision::shrink) --threads;
        most = std::max(most, threads);
        return decision;
    }
};

TEST(StageController, GrowsUpToItsMaximumWhileTheQueueStaysLong) {
    StageController controller(rule(1, 4));
    FakeStage stage{1};
    for (int i = 0; i < 30; ++i) stage.tick(controller, 100, 0, 0);
    EXPECT_EQ(stage.threads, 4u);
    EXPECT_EQ(stage.most, 4u);  // never beyond
}

TEST(StageController, AddsAtMostOneThreadPerPeriod) {
    StageController controller(rule(1, 8));
    FakeStage stage{1};
    EXPECT_EQ(stage.tick(controller, 100, 0, 0), StageDecision::hold);  // first long tick
    EXPECT_EQ(stage.tick(controller, 100, 0, 0), StageDecision::grow);  // long for the period
    EXPECT_EQ(stage.tick(controller, 100, 0, 0), StageDecision::hold);  // a new period begins
    EXPECT_EQ(stage.tick(controller, 100, 0, 0), StageDecision::grow);
    EXPECT_EQ(stage.threads, 3u);
}

TEST(StageController, ABurstShorterThanThePeriodAddsNoThread) {
    StageController controller(rule(1, 8));
    FakeStage stage{1};
    for (int i = 0; i < 10; ++i) {
        stage.tick(controller, 100, 0, 0);  // long for one tick...
        stage.tick(controller, 0, 0, 0);    // ...then drained
    }
    EXPECT_EQ(stage.threads, 1u);
}

TEST(StageController, AQueueWithinThePerThreadThresholdAddsNoThread) {
    StageController controller(rule(1, 8));
    FakeStage stage{2};
    for (int i = 0; i < 10; ++i) stage.tick(controller, 2, 0, 0);  // one per thread: not long
    EXPECT_EQ(stage.threads, 2u);
}

TEST(StageController, ShrinksToItsMinimumWhenThreadsStayIdle) {
    StageController controller(rule(2, 8));
    FakeStage stage{6};
    // Idle for less than the timeout: nothing goes.
    EXPECT_EQ(stage.tick(controller, 0, 6, 0), StageDecision::hold);
    EXPECT_EQ(stage.tick(controller, 0, 6, 0), StageDecision::hold);
    for (int i = 0; i < 20; ++i) stage.tick(controller, 0, stage.threads, 0);
    EXPECT_EQ(stage.threads, 2u);
}

TEST(StageController, BusyThreadsAreNotRemoved) {
    StageController controller(rule(1, 8));
    FakeStage stage{4};
    for (int i = 0; i < 20; ++i) stage.tick(controller, 0, 0, 0);  // all busy, queue short
    EXPECT_EQ(stage.threads, 4u);
}

TEST(StageController, WorkBetweenIdleTicksRestartsTheIdleTimeout) {
    StageController controller(rule(1, 8));
    FakeStage stage{4};
    for (int i = 0; i < 10; ++i) {
        stage.tick(controller, 0, 1, 0);
        stage.tick(controller, 0, 1, 0);
        stage.tick(controller, 0, 0, 0);  // every thread busy again
    }
    EXPECT_EQ(stage.threads, 4u);
}

TEST(StageController, StopsGrowingWhenAThreadAddsNoThroughput) {
    // Work bound elsewhere (the CPUs): 10 completions a tick however many threads there are.
    StageController controller(rule(1, 8));
    FakeStage stage{1};
    std::uint64_t completed = 0;
    for (int i = 0; i < 40; ++i) {
        completed += 10;
        stage.tick(controller, 100, 0, completed);
    }
    EXPECT_EQ(stage.threads, 2u);  // the second thread was tried, and bought nothing
}

TEST(StageController, GoesOnGrowingWhileThreadsAddThroughput) {
    // Work bound by waiting (a blocking call): each thread finishes 10 a tick.
    StageController controller(rule(1, 6));
    FakeStage stage{1};
    std::uint64_t completed = 0;
    for (int i = 0; i < 40; ++i) {
        completed += 10 * stage.threads;
        stage.tick(controller, 100, 0, completed);
    }
    EXPECT_EQ(stage.threads, 6u);
}

TEST(StageController, ANewEpisodeOfLoadIsJudgedAfresh) {
    StageController controller(rule(1, 8));
    FakeStage stage{1};
    std::uint64_t completed = 0;
    for (int i = 0; i < 20; ++i) stage.tick(controller, 100, 0, completed += 10);
    ASSERT_EQ(stage.threads, 2u);             // plateaued
    stage.tick(controller, 0, 0, completed);  // drained: the episode ends
    for (int i = 0; i < 2; ++i) stage.tick(controller, 100, 0, completed += 10);
    EXPECT_EQ(stage.threads, 3u);  // tried again
}

TEST(StageThreadsFlag, ParsesRangesAndFixedSizes) {
    StagedConfig config;
    std::string error;
    ASSERT_TRUE(parse_stage_threads("handler=2..16", config, error)) << error;
    EXPECT_EQ(config.handler.min_threads, 2u);
    EXPECT_EQ(config.handler.max_threads, 16u);
    ASSERT_TRUE(parse_stage_threads("file=3", config, error)) << error;
    EXPECT_EQ(config.file.min_threads, 3u);
    EXPECT_EQ(config.file.max_threads, 3u);
}

TEST(StageThreadsFlag, RefusesWhatMakesNoSenseAndSaysHowToFixIt) {
    for (const char* bad : {"handler", "disk=1..2", "handler=0..4", "handler=5..2", "handler=a..b",
                            "handler=1..", "handler=1..99999"}) {
        StagedConfig config;
        std::string error;
        EXPECT_FALSE(parse_stage_threads(bad, config, error)) << bad;
        EXPECT_NE(error.find("--stage-threads"), std::string::npos) << error;
        EXPECT_NE(error.find("e.g. handler=2..16"), std::string::npos) << error;
    }
}

}  // namespace
}  // namespace c10k::engine

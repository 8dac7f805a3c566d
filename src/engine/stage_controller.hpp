#pragma once
// Sizes one stage's thread pool, as SEDA's thread pool controller does (Welsh, Culler and
// Brewer, SOSP 2001, section 4.2): it samples the stage's input queue at a fixed interval, adds a
// thread when the queue stays longer than a threshold, and removes a thread that stays idle;
// always within the stage's bounds. Pure logic, driven by explicit ticks, so that tests need no
// clock and no threads; the stage (engine/stage.hpp) applies its decisions.

#include <cstddef>
#include <cstdint>

#include "engine/engine.hpp"

namespace c10k::engine {

/// The rule's parameters, in ticks of the controller (the staged engine ticks every 100 ms).
struct ControllerRule {
    StageBounds bounds;
    /// The queue is "long" when more than this much work waits per thread.
    std::size_t queue_per_thread = 1;
    /// Consecutive long-queue ticks before a thread is added (SEDA's "for a period"): a
    /// burst shorter than this is absorbed by the queue, not by a new thread.
    int grow_after_ticks = 2;
    /// Consecutive ticks with a thread idle before one is removed (SEDA's idle timeout).
    int shrink_after_ticks = 20;
    /// Throughput: after a thread was added, another is added only if the stage finished more
    /// work per tick than before the last one (adding threads to a stage whose work is bound
    /// by something else, such as the CPUs, only adds contention). Judged only when at least
    /// this many completions were seen before the last addition; fewer is too coarse a
    /// measure, and growth goes on.
    std::uint64_t min_completions_to_judge = 16;
};

/// What the stage looked like at one tick.
struct StageSample {
    std::size_t queue_depth = 0;
    std::uint32_t threads = 0;
    std::uint32_t idle_threads = 0;
    std::uint64_t completed = 0;  ///< work finished since the stage started (only grows)
};

enum class StageDecision { hold, grow, shrink };

class StageController {
public:
    explicit StageController(ControllerRule rule) : rule_(rule) {}

    /// One tick: what the stage should do now. At most one thread is added or removed per
    /// tick, so that the pool moves by steps the next samples can judge.
    StageDecision tick(const StageSample& sample);

    const ControllerRule& rule() const { return rule_; }

private:
    ControllerRule rule_;
    int long_ticks_ = 0;
    int idle_ticks_ = 0;
    std::uint64_t last_completed_ = 0;
    bool grown_ = false;                    ///< a thread was added in this episode of a long queue
    std::uint64_t rate_before_grow_ = 0;    ///< completions per tick (x1000) before the last add
    std::uint64_t judged_before_grow_ = 0;  ///< completions that rate was measured over
    /// Completions and ticks since the queue became long, or since the last thread was added.
    std::uint64_t window_completed_ = 0;
    int window_ticks_ = 0;
};

}  // namespace c10k::engine

#include "engine/stage_controller.hpp"

#include <algorithm>

namespace c10k::engine {

StageDecision StageController::tick(const StageSample& sample) {
    std::uint64_t done = sample.completed - std::min(sample.completed, last_completed_);
    last_completed_ = sample.completed;
    const StageBounds& bounds = rule_.bounds;
    if (sample.threads < bounds.min_threads) return StageDecision::grow;
    if (sample.threads > bounds.max_threads) return StageDecision::shrink;

    std::size_t per_thread = std::max<std::size_t>(rule_.queue_per_thread, 1);
    bool long_queue = sample.queue_depth > per_thread * std::max<std::uint32_t>(sample.threads, 1);
    if (!long_queue) {
        // The episode of load ended: the next one measures its throughput afresh.
        long_ticks_ = 0;
        grown_ = false;
        window_completed_ = 0;
        window_ticks_ = 0;
        if (sample.idle_threads == 0) {
            idle_ticks_ = 0;
            return StageDecision::hold;
        }
        // Not reset after a removal: each idle thread left has been idle the whole period,
        // so one goes per tick until none is idle or the pool is at its minimum.
        if (++idle_ticks_ >= rule_.shrink_after_ticks && sample.threads > bounds.min_threads) {
            return StageDecision::shrink;
        }
        return StageDecision::hold;
    }

    idle_ticks_ = 0;
    ++long_ticks_;
    window_completed_ += done;
    ++window_ticks_;
    if (long_ticks_ < rule_.grow_after_ticks || sample.threads >= bounds.max_threads) {
        return StageDecision::hold;
    }
    // Rates are completions per tick, times 1000 so that slow stages keep their resolution.
    std::uint64_t rate = window_completed_ * 1000 / static_cast<std::uint64_t>(window_ticks_);
    if (grown_ && judged_before_grow_ >= rule_.min_completions_to_judge &&
        rate <= rate_before_grow_) {
        return StageDecision::hold;  // the last thread bought nothing: keep measuring
    }
    grown_ = true;
    rate_before_grow_ = rate;
    judged_before_grow_ = window_completed_;
    window_completed_ = 0;
    window_ticks_ = 0;
    long_ticks_ = 0;  // the new thread gets a period to show what it changes
    return StageDecision::grow;
}

}  // namespace c10k::engine

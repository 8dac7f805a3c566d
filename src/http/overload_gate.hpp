#pragma once
// A loop's (or blocking worker's) overload control: its engine says when the work about to be
// handled became ready, each request's wait is a sample for the detector, and a request that
// arrives while the loop is overloaded is answered with a canned 503 instead of reaching the
// handler (Session::dispatch). Made only with --overload-target: without it a Session pays one
// null test per request.

#include <cstdint>

#include "core/clock.hpp"
#include "core/overload.hpp"

namespace c10k::http {

class OverloadGate {
public:
    /// `shared_report`: where shedding is counted for the log when several gates share one
    /// (the blocking workers of a process); null: the gate's own.
    explicit OverloadGate(std::int64_t target_us, core::ShedReport* shared_report = nullptr)
        : detector_(target_us), report_(shared_report != nullptr ? shared_report : &own_report_) {}

    /// The engine: the work it is about to hand the sessions became ready at `us`
    /// (core::monotonic_us()). Each engine's choice is in docs/OVERLOAD.md.
    void set_ready_at(std::int64_t us) { ready_at_us_ = us; }
    std::int64_t ready_at_us() const { return ready_at_us_; }

    /// A request is about to be dispatched: counts its wait as a sample and says whether it is
    /// served (true) or shed with a 503 (false): while overloaded only a request that waited
    /// no longer than the target is served (core::OverloadDetector::admits).
    bool admit() {
        std::int64_t now = core::monotonic_us();
        std::int64_t delay = now > ready_at_us_ ? now - ready_at_us_ : 0;
        state_.set(detector_.observe(now, delay));
        if (detector_.admits(delay)) return true;
        report_->count_request(delay);
        return false;
    }
    /// A connection was just accepted: its wait is a sample too, so that a loop that went
    /// idle while overloaded learns from the next client that it caught up. True when it is
    /// to be closed unread (severe overload); the caller counts it in its metrics.
    bool refuse_connection() {
        std::int64_t now = core::monotonic_us();
        std::int64_t delay = now > ready_at_us_ ? now - ready_at_us_ : 0;
        core::OverloadLevel level = detector_.observe(now, delay);
        state_.set(level);
        if (level != core::OverloadLevel::severe) return false;
        report_->count_connection(delay);
        return true;
    }

    /// What any component may read: the shedding engine, a future staged engine's queues.
    const core::OverloadState& state() const { return state_; }
    const core::OverloadDetector& detector() const { return detector_; }
    core::ShedReport& report() { return *report_; }
    /// Logs last second's shedding, at most once a second.
    void maybe_log(std::int64_t now_ms, const char* where) {
        report_->maybe_log(now_ms, where, detector_.target_us());
    }

private:
    core::OverloadDetector detector_;
    core::OverloadState state_;
    core::ShedReport own_report_;
    core::ShedReport* report_;
    std::int64_t ready_at_us_ = 0;
};

}  // namespace c10k::http

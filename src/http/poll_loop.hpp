#pragma once
// A minimal event loop for handler-side clients outside an engine (the Redis check before the
// server starts, and the tests of those clients): poll(2) over the watched descriptors,
// level-triggered like every engine's DescriptorWatcher, with the loop's clock, its handler
// timers and the caller's tick run on every round.

#include <poll.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "http/context.hpp"
#include "http/handler.hpp"
#include "http/poll_watcher.hpp"

namespace c10k::http {

class PollLoop {
public:
    PollLoop() : context_(handler_, Limits{}, Timeouts{}) { context_.set_descriptors(&watched_); }
    LoopContext& context() { return context_; }

    /// Runs rounds of at most 10 ms until `done()` holds, calling `on_round` (a client's
    /// on_tick, say) first in each; false when `max_rounds` passed first.
    bool run_until(const std::function<void()>& on_round, const std::function<bool()>& done,
                   int max_rounds = 3000) {
        for (int round = 0; round < max_rounds && !done(); ++round) {
            context_.tick();
            context_.run_timers();
            if (on_round) on_round();
            waits_.clear();
            watched_.append_to(waits_);
            if (::poll(waits_.data(), waits_.size(), 10) <= 0) continue;
            watched_.dispatch(waits_, 0);
        }
        return done();
    }

private:
    struct NoHandler final : Handler {
        void handle(const Request&, Response&) override {}
    };
    NoHandler handler_;
    LoopContext context_;
    PollWatcher watched_;
    std::vector<pollfd> waits_;
};

}  // namespace c10k::http

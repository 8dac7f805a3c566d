#pragma once
// A minimal event loop for handler-side clients outside an engine (the Redis check before the
// server starts, and the tests of those clients): poll(2) over the watched descriptors,
// level-triggered like every engine's DescriptorWatcher, with the loop's clock, its handler
// timers and the caller's tick run on every round.

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "http/context.hpp"
#include "http/handler.hpp"

namespace c10k::http {

class PollLoop final : public DescriptorWatcher {
public:
    PollLoop() : context_(handler_, Limits{}, Timeouts{}) { context_.set_descriptors(this); }
    LoopContext& context() { return context_; }

    bool watch(int fd, std::uint32_t events, DescriptorTask& task) override {
        watched_[fd] = {events, &task};
        return true;
    }
    void unwatch(int fd) override { watched_.erase(fd); }

    /// Runs rounds of at most 10 ms until `done()` holds, calling `on_round` (a client's
    /// on_tick, say) first in each; false when `max_rounds` passed first.
    bool run_until(const std::function<void()>& on_round, const std::function<bool()>& done,
                   int max_rounds = 3000) {
        for (int round = 0; round < max_rounds && !done(); ++round) {
            context_.tick();
            context_.run_timers();
            if (on_round) on_round();
            std::vector<pollfd> fds;
            for (auto& [fd, watch] : watched_) {
                short events = 0;
                if ((watch.events & DescriptorTask::readable) != 0) events |= POLLIN;
                if ((watch.events & DescriptorTask::writable) != 0) events |= POLLOUT;
                fds.push_back({fd, events, 0});
            }
            if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
            for (const pollfd& each : fds) {
                auto found = watched_.find(each.fd);
                // A task run earlier in this round may have stopped watching (or closed) it.
                if (each.revents == 0 || found == watched_.end()) continue;
                std::uint32_t events = 0;
                if ((each.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
                    events |= DescriptorTask::readable;
                if ((each.revents & (POLLOUT | POLLHUP | POLLERR)) != 0)
                    events |= DescriptorTask::writable;
                found->second.task->on_ready(events & found->second.events);
            }
        }
        return done();
    }

private:
    struct NoHandler final : Handler {
        void handle(const Request&, Response&) override {}
    };
    struct Watch {
        std::uint32_t events;
        DescriptorTask* task;
    };
    NoHandler handler_;
    LoopContext context_;
    std::map<int, Watch> watched_;
};

}  // namespace c10k::http

#pragma once
// A DescriptorWatcher for loops that wait with poll(2): the blocking engines' workers, the
// thread engine's acceptor loop, and http::PollLoop. It keeps the handler's descriptors, adds
// them to the loop's pollfd set, and hands each task what poll() reported for it. Few
// descriptors are expected (a Redis connection or two), so a vector and linear lookups do.

#include <poll.h>

#include <cstdint>
#include <vector>

#include "http/context.hpp"

namespace c10k::http {

class PollWatcher final : public DescriptorWatcher {
public:
    bool watch(int fd, std::uint32_t events, DescriptorTask& task) override;
    void unwatch(int fd) override;

    /// Appends one pollfd per watched descriptor to `waits`.
    void append_to(std::vector<pollfd>& waits) const;
    /// Calls on_ready for what poll() reported in waits[from..] (the entries append_to added).
    /// A task may watch or unwatch meanwhile: each descriptor is looked up again first.
    void dispatch(const std::vector<pollfd>& waits, std::size_t from);

    bool empty() const { return watched_.empty(); }

private:
    struct Watched {
        int fd;
        std::uint32_t events;
        DescriptorTask* task;
    };
    std::vector<Watched> watched_;
};

}  // namespace c10k::http

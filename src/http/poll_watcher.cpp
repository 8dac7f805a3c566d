#include "http/poll_watcher.hpp"

#include <algorithm>

namespace c10k::http {

bool PollWatcher::watch(int fd, std::uint32_t events, DescriptorTask& task) {
    for (Watched& each : watched_) {
        if (each.fd == fd) {
            each.events = events;
            each.task = &task;
            return true;
        }
    }
    watched_.push_back({fd, events, &task});
    return true;
}

void PollWatcher::unwatch(int fd) {
    std::erase_if(watched_, [fd](const Watched& each) { return each.fd == fd; });
}

void PollWatcher::append_to(std::vector<pollfd>& waits) const {
    for (const Watched& each : watched_) {
        short wanted = 0;
        if (each.events & DescriptorTask::readable) wanted |= POLLIN;
        if (each.events & DescriptorTask::writable) wanted |= POLLOUT;
        waits.push_back({each.fd, wanted, 0});
    }
}

void PollWatcher::dispatch(const std::vector<pollfd>& waits, std::size_t from) {
    for (std::size_t i = from; i < waits.size(); ++i) {
        short got = waits[i].revents;
        if (got == 0) continue;
        auto found = std::find_if(watched_.begin(), watched_.end(),
                                  [&](const Watched& each) { return each.fd == waits[i].fd; });
        if (found == watched_.end()) continue;
        // Errors and hang-ups report as both, as on every engine's watcher.
        std::uint32_t events = 0;
        if (got & (POLLIN | POLLHUP | POLLERR)) events |= DescriptorTask::readable;
        if (got & (POLLOUT | POLLHUP | POLLERR)) events |= DescriptorTask::writable;
        events &= found->events;
        if (events != 0) found->task->on_ready(events);
    }
}

}  // namespace c10k::http

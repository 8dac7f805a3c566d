// poll(2) behind the Poller contract: level-triggered, a dense pollfd array, O(n) per wait.

#include <poll.h>

#include <vector>

#include "engine/pollers.hpp"

namespace c10k::engine {

namespace {

class PollPoller final : public Poller {
public:
    core::Result<void> add(int fd, std::uint32_t interest, void* tag) override {
        if (fd < 0) return core::Errno{EBADF};
        if (static_cast<std::size_t>(fd) >= index_of_.size()) {
            index_of_.resize(static_cast<std::size_t>(fd) + 1 + index_of_.size() / 2, -1);
        }
        if (index_of_[static_cast<std::size_t>(fd)] >= 0) return core::Errno{EEXIST};
        index_of_[static_cast<std::size_t>(fd)] = static_cast<int>(entries_.size());
        entries_.push_back(pollfd{});
        descriptors_.push_back(fd);
        tags_.push_back(tag);
        set_interest(entries_.size() - 1, fd, interest);
        return {};
    }

    core::Result<void> modify(int fd, std::uint32_t interest, void* tag) override {
        int index = find(fd);
        if (index < 0) return core::Errno{ENOENT};
        tags_[static_cast<std::size_t>(index)] = tag;
        set_interest(static_cast<std::size_t>(index), fd, interest);
        return {};
    }

    void remove(int fd) override {
        int index = find(fd);
        if (index < 0) return;
        // Swap with the last entry: O(1), and the array stays dense for the kernel.
        auto last = entries_.size() - 1;
        auto at = static_cast<std::size_t>(index);
        if (at != last) {
            entries_[at] = entries_[last];
            descriptors_[at] = descriptors_[last];
            tags_[at] = tags_[last];
            index_of_[static_cast<std::size_t>(descriptors_[at])] = index;
        }
        entries_.pop_back();
        descriptors_.pop_back();
        tags_.pop_back();
        index_of_[static_cast<std::size_t>(fd)] = -1;
        if (cursor_ > entries_.size()) cursor_ = 0;
    }

    core::Result<int> wait(Event* events, int max, int timeout_ms) override {
        int ready = ::poll(entries_.data(), entries_.size(), timeout_ms);
        if (ready < 0) {
            if (errno == EINTR) return 0;
            return core::last_errno();
        }
        // Scan from where the last full batch stopped, so that when more descriptors are ready
        // than fit in one batch the later ones are not starved by the earlier ones.
        int count = 0;
        std::size_t size = entries_.size();
        for (std::size_t seen = 0; seen < size && ready > 0 && count < max; ++seen) {
            std::size_t i = (cursor_ + seen) % size;
            short revents = entries_[i].revents;
            if (revents == 0) continue;
            --ready;
            std::uint32_t bits = 0;
            if (revents & POLLIN) bits |= in;
            if (revents & POLLOUT) bits |= out;
            if (revents & (POLLERR | POLLNVAL)) bits |= error;
            if (revents & (POLLHUP | POLLRDHUP)) bits |= hangup;
            events[count++] = Event{tags_[i], bits};
            if (count == max) cursor_ = (i + 1) % size;
        }
        return count;
    }

    bool edge_triggered() const override { return false; }

private:
    int find(int fd) const {
        if (fd < 0 || static_cast<std::size_t>(fd) >= index_of_.size()) return -1;
        return index_of_[static_cast<std::size_t>(fd)];
    }

    void set_interest(std::size_t index, int fd, std::uint32_t interest) {
        short wanted = 0;
        if (interest & readable) wanted |= POLLIN | POLLRDHUP;
        if (interest & writable) wanted |= POLLOUT;
        // With no interest at all the entry is parked with a negative fd, which poll() skips:
        // otherwise a hang-up would be reported on every wait while the loop does not care.
        entries_[index].fd = wanted == 0 ? -1 : fd;
        entries_[index].events = wanted;
        entries_[index].revents = 0;
    }

    std::vector<pollfd> entries_;
    std::vector<int> descriptors_;  ///< the real fd of each entry (entries_ may hold -1)
    std::vector<void*> tags_;
    std::vector<int> index_of_;     ///< fd -> index in entries_, -1 when not watched
    std::size_t cursor_ = 0;
};

}  // namespace

std::unique_ptr<Poller> make_poll_poller() { return std::make_unique<PollPoller>(); }

}  // namespace c10k::engine

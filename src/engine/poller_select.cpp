// select(2) behind the Poller contract: level-triggered, descriptors below FD_SETSIZE only.

#include <sys/select.h>

#include <algorithm>
#include <vector>

#include "engine/pollers.hpp"

namespace c10k::engine {

namespace {

class SelectPoller final : public Poller {
public:
    SelectPoller() {
        FD_ZERO(&read_set_);
        FD_ZERO(&write_set_);
        index_of_.assign(FD_SETSIZE, -1);
    }

    core::Result<void> add(int fd, std::uint32_t interest, void* tag) override {
        // FD_SET beyond FD_SETSIZE writes past the end of the set: refuse, never overrun.
        if (fd < 0 || fd >= FD_SETSIZE) return core::Errno{EBADF};
        if (index_of_[static_cast<std::size_t>(fd)] >= 0) return core::Errno{EEXIST};
        index_of_[static_cast<std::size_t>(fd)] = static_cast<int>(watched_.size());
        watched_.push_back(Watched{fd, tag});
        if (fd > max_watched_) max_watched_ = fd;
        set_interest(fd, interest);
        return {};
    }

    core::Result<void> modify(int fd, std::uint32_t interest, void* tag) override {
        int index = find(fd);
        if (index < 0) return core::Errno{ENOENT};
        watched_[static_cast<std::size_t>(index)].tag = tag;
        set_interest(fd, interest);
        return {};
    }

    void remove(int fd) override {
        int index = find(fd);
        if (index < 0) return;
        auto at = static_cast<std::size_t>(index);
        if (at != watched_.size() - 1) {
            watched_[at] = watched_.back();
            index_of_[static_cast<std::size_t>(watched_[at].fd)] = index;
        }
        watched_.pop_back();
        index_of_[static_cast<std::size_t>(fd)] = -1;
        FD_CLR(fd, &read_set_);
        FD_CLR(fd, &write_set_);
        if (fd == max_watched_) max_dirty_ = true;  // recomputed lazily, at the next wait
    }

    core::Result<int> wait(Event* events, int max, int timeout_ms) override {
        if (max_dirty_) {
            max_watched_ = -1;
            for (const auto& w : watched_) max_watched_ = std::max(max_watched_, w.fd);
            max_dirty_ = false;
        }
        // select() overwrites its sets: hand it copies of the ones kept between waits.
        fd_set readable_now = read_set_;
        fd_set writable_now = write_set_;
        timeval timeout{};
        timeval* timeout_ptr = nullptr;
        if (timeout_ms >= 0) {
            timeout.tv_sec = timeout_ms / 1000;
            timeout.tv_usec = (timeout_ms % 1000) * 1000;
            timeout_ptr = &timeout;
        }
        int ready = ::select(max_watched_ + 1, &readable_now, &writable_now, nullptr, timeout_ptr);
        if (ready < 0) {
            if (errno == EINTR) return 0;
            return core::last_errno();
        }
        int count = 0;
        std::size_t size = watched_.size();
        for (std::size_t seen = 0; seen < size && ready > 0 && count < max; ++seen) {
            std::size_t i = (cursor_ + seen) % size;
            int fd = watched_[i].fd;
            std::uint32_t bits = 0;
            if (FD_ISSET(fd, &readable_now)) bits |= in;
            if (FD_ISSET(fd, &writable_now)) bits |= out;
            if (bits == 0) continue;
            ready -= (bits & in ? 1 : 0) + (bits & out ? 1 : 0);
            events[count++] = Event{watched_[i].tag, bits};
            if (count == max) cursor_ = (i + 1) % size;
        }
        return count;
    }

    bool edge_triggered() const override { return false; }
    int max_fd() const override { return FD_SETSIZE; }

private:
    struct Watched {
        int fd;
        void* tag;
    };

    int find(int fd) const {
        if (fd < 0 || fd >= FD_SETSIZE) return -1;
        return index_of_[static_cast<std::size_t>(fd)];
    }

    void set_interest(int fd, std::uint32_t interest) {
        if (interest & readable) {
            FD_SET(fd, &read_set_);
        } else {
            FD_CLR(fd, &read_set_);
        }
        if (interest & writable) {
            FD_SET(fd, &write_set_);
        } else {
            FD_CLR(fd, &write_set_);
        }
    }

    fd_set read_set_;
    fd_set write_set_;
    std::vector<Watched> watched_;  ///< dense, so that a wait scans only watched descriptors
    std::vector<int> index_of_;     ///< fd -> index in watched_, -1 when not watched
    int max_watched_ = -1;
    bool max_dirty_ = false;
    std::size_t cursor_ = 0;
};

}  // namespace

std::unique_ptr<Poller> make_select_poller() { return std::make_unique<SelectPoller>(); }

}  // namespace c10k::engine

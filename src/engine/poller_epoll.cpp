#include "engine/poller_epoll.hpp"

#include <sys/epoll.h>

#include <stdexcept>
#include <vector>

#include "core/unique_fd.hpp"

namespace c10k::engine {

namespace {

class EpollPoller final : public Poller {
public:
    explicit EpollPoller(bool edge) : epoll_(::epoll_create1(EPOLL_CLOEXEC)), edge_(edge) {
        if (!epoll_) throw std::runtime_error("epoll_create1 failed");
    }

    core::Result<void> add(int fd, std::uint32_t interest, void* tag) override {
        return control(EPOLL_CTL_ADD, fd, interest, tag);
    }
    core::Result<void> modify(int fd, std::uint32_t interest, void* tag) override {
        return control(EPOLL_CTL_MOD, fd, interest, tag);
    }
    void remove(int fd) override { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

    core::Result<int> wait(Event* events, int max, int timeout_ms) override {
        if (static_cast<int>(buffer_.size()) < max) buffer_.resize(static_cast<std::size_t>(max));
        int n = ::epoll_wait(epoll_.get(), buffer_.data(), max, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) return 0;
            return core::last_errno();
        }
        for (int i = 0; i < n; ++i) {
            std::uint32_t e = buffer_[i].events;
            events[i].tag = buffer_[i].data.ptr;
            std::uint32_t bits = 0;
            if (e & EPOLLIN) bits |= in;
            if (e & EPOLLOUT) bits |= out;
            if (e & EPOLLERR) bits |= error;
            if (e & (EPOLLHUP | EPOLLRDHUP)) bits |= hangup;
            events[i].events = bits;
        }
        return n;
    }

    bool edge_triggered() const override { return edge_; }

private:
    core::Result<void> control(int op, int fd, std::uint32_t interest, void* tag) {
        epoll_event ev{};
        ev.data.ptr = tag;
        ev.events = 0;
        if (interest & readable) ev.events |= EPOLLIN | EPOLLRDHUP;
        if (interest & writable) ev.events |= EPOLLOUT;
        if (edge_ && !(interest & level)) ev.events |= EPOLLET;
        if (::epoll_ctl(epoll_.get(), op, fd, &ev) != 0) return core::last_errno();
        return {};
    }

    core::unique_fd epoll_;
    bool edge_;
    std::vector<epoll_event> buffer_;
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller(bool edge_triggered) {
    return std::make_unique<EpollPoller>(edge_triggered);
}

}  // namespace c10k::engine

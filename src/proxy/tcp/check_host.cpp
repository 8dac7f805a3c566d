#include "proxy/tcp/check_host.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <system_error>

namespace c10k::proxy::tcp {

namespace {

/// A handful of servers are checked at a time (at most 64 in a pool).
constexpr int kMaxEvents = 64;

}  // namespace

CheckHost::CheckHost(const PoolSpec& pool, HealthBoard& board)
    : context_(handler_, http::Limits{}, http::Timeouts{}), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    context_.set_descriptors(this);
    checker_ = std::make_unique<HealthChecker>(context_, pool, pool.health, board, nullptr);
}

CheckHost::~CheckHost() = default;

bool CheckHost::watch(int fd, std::uint32_t events, http::DescriptorTask& task) {
    // Level-triggered, as DescriptorWatcher promises every engine's watches are.
    epoll_event event{};
    if (events & http::DescriptorTask::readable) event.events |= EPOLLIN;
    if (events & http::DescriptorTask::writable) event.events |= EPOLLOUT;
    event.data.fd = fd;
    bool known = watched_.contains(fd);
    if (::epoll_ctl(epoll_.get(), known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) != 0) {
        return false;
    }
    watched_[fd] = Watched{&task, events};
    return true;
}

void CheckHost::unwatch(int fd) {
    if (watched_.erase(fd) == 0) return;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void CheckHost::on_ready() {
    context_.tick();
    epoll_event events[kMaxEvents];
    int count = ::epoll_wait(epoll_.get(), events, kMaxEvents, 0);
    for (int i = 0; i < count; ++i) {
        // Looked up anew for each event: an earlier one of the batch may have ended a check
        // and unwatched (or closed) this descriptor.
        auto found = watched_.find(events[i].data.fd);
        if (found == watched_.end()) continue;
        std::uint32_t ready = 0;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) {
            ready = http::DescriptorTask::readable | http::DescriptorTask::writable;
        }
        if (events[i].events & EPOLLIN) ready |= http::DescriptorTask::readable;
        if (events[i].events & EPOLLOUT) ready |= http::DescriptorTask::writable;
        ready &= found->second.events;
        if (ready != 0) found->second.task->on_ready(ready);
    }
}

void CheckHost::run_timers() {
    context_.tick();
    context_.run_timers();
}

std::int64_t CheckHost::next_timeout_ms() {
    context_.tick();
    return context_.handler_timers().next_timeout_ms(context_.now_ms());
}

}  // namespace c10k::proxy::tcp

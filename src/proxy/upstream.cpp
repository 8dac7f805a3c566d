#include "proxy/upstream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "proxy/exchange.hpp"
#include "proxy/proxy_handler.hpp"

namespace c10k::proxy {

Upstream::Upstream(ProxyHandler& handler, std::size_t server, core::unique_fd fd)
    : handler_(handler), server_(server), fd_(std::move(fd)) {
    ++handler_.pool().state(server_).connections;
    handler_.counters(server_).connects.add();
}

Upstream::~Upstream() {
    ServerState& state = handler_.pool().state(server_);
    if (state.connections > 0) --state.connections;
    handler_.counters(server_).closes.add();
    cancel_timer();
    if (watched_ != 0 && handler_.context().descriptors() != nullptr) {
        handler_.context().descriptors()->unwatch(fd_.get());
    }
}

core::Result<core::unique_fd> Upstream::connect_to(const core::Endpoint& address) {
    core::unique_fd fd(
        ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd) return core::last_errno();
    // Requests and heads go out whole in one write: Nagle would only hold the last segment.
    core::set_no_delay(fd.get());
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.address), address.length) !=
            0 &&
        errno != EINPROGRESS) {
        return core::last_errno();
    }
    return fd;
}

bool Upstream::watch(std::uint32_t events) {
    http::DescriptorWatcher* watcher = handler_.context().descriptors();
    if (watcher == nullptr) return false;
    if (events == watched_) return true;
    if (events == 0) {
        watcher->unwatch(fd_.get());
        watched_ = 0;
        return true;
    }
    if (!watcher->watch(fd_.get(), events, *this)) return false;
    watched_ = events;
    return true;
}

void Upstream::arm_timer(std::int64_t deadline_ms) {
    handler_.context().timers().schedule(*this, deadline_ms);
}

void Upstream::cancel_timer() {
    if (scheduled()) handler_.context().timers().cancel(*this);
}

void Upstream::on_ready(std::uint32_t events) {
    if (exchange_ != nullptr) {
        exchange_->on_upstream_ready(events);
        return;
    }
    // Idle: the server closed it (or sent bytes nobody asked for, which is as bad).
    handler_.drop_idle(*this);
}

void Upstream::on_timer() {
    if (exchange_ != nullptr) {
        exchange_->on_upstream_timeout();
        return;
    }
    handler_.drop_idle(*this);
}

}  // namespace c10k::proxy

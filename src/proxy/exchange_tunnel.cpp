// The tunnel an Upgrade request becomes once the backend answered 101 Switching Protocols
// (WebSocket through the proxy): bytes go both ways unchanged until either side closes.
// Backend to client flows with the same backpressure as a response body; client to backend
// is held while the backend does not read, up to a bound.

#include <sys/socket.h>

#include <cerrno>

#include "http/session.hpp"
#include "proxy/exchange.hpp"
#include "proxy/proxy_handler.hpp"
#include "proxy/upstream.hpp"

namespace c10k::proxy {

namespace {

/// Client bytes held for a backend that does not read. The Session cannot stop reading an
/// upgraded client, so past this the tunnel closes rather than hold without bound.
constexpr std::size_t kMaxHeldForBackend = 1024 * 1024;

}  // namespace

void Exchange::open_tunnel(const char* rest, std::size_t size) {
    handler_.pool().mark_ok(upstream_->server());
    release_server();  // a tunnel is no request in flight: it must not skew least-outstanding
    upstream_->cancel_timer();
    if (size > 0) pending_.write(std::string_view(rest, size));
    tunnel_flush();
}

void Exchange::tunnel_ready(std::uint32_t events) {
    if ((events & http::DescriptorTask::writable) != 0 && !to_backend_.empty()) {
        tunnel_flush();
        if (!upstream_) return;
    }
    if ((events & http::DescriptorTask::readable) == 0) return;
    std::vector<char>& buffer = handler_.read_buffer();
    for (int round = 0; round < 4; ++round) {
        ssize_t n = ::recv(upstream_->fd(), buffer.data(), buffer.size(), 0);
        if (n > 0) {
            pending_.write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            std::uint64_t limit = handler_.options().client_buffer_bytes;
            if (pending_.queued_bytes() > limit && pending_.notify_drained(limit / 4)) {
                // The client reads slower than the backend sends: the backend is not read
                // until on_pending_drained; bytes for it still go out meanwhile.
                tunnel_paused_ = true;
                upstream_->watch(to_backend_.empty() ? 0 : http::DescriptorTask::writable);
                return;
            }
            continue;
        }
        if (n == 0) {
            close_tunnel(true);
            return;
        }
        if (errno == EAGAIN || errno == EINTR) return;
        close_tunnel(false);
        return;
    }
}

void Exchange::tunnel_flush() {
    while (!to_backend_.empty()) {
        ssize_t n = ::send(upstream_->fd(), to_backend_.data(), to_backend_.size(), MSG_NOSIGNAL);
        if (n > 0) {
            to_backend_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close_tunnel(false);
        return;
    }
    std::uint32_t events = tunnel_paused_ ? 0 : http::DescriptorTask::readable;
    if (!to_backend_.empty()) events |= http::DescriptorTask::writable;
    if (!upstream_->watch(events)) close_tunnel(false);
}

void Exchange::on_upgraded_input(const char* data, std::size_t size) {
    if (!upstream_) return;
    to_backend_.append(data, size);
    if (to_backend_.size() > kMaxHeldForBackend) {
        close_tunnel(false);
        return;
    }
    tunnel_flush();
}

void Exchange::on_upgraded_stop() {
    // The server stops: the backend's side ends with the proxy's; the client sees a close.
    close_tunnel(true);
}

void Exchange::close_tunnel(bool clean) {
    upstream_.reset();
    // Clean: what the backend sent reaches the client, then the connection closes.
    if (clean) {
        pending_.finish();
    } else {
        pending_.close();
    }
    end();
}

}  // namespace c10k::proxy

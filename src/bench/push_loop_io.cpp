// The socket side of PushLoop: connecting (from 127.0.0.x source addresses when the plan says
// so), writing subscribe and poll requests, reading streams, and closing with the right
// follow-up: at once after a stream ends, after a backoff after a refusal.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/core.h>

#include "bench/client_socket.hpp"
#include "bench/push_loop.hpp"
#include "bench/push_message.hpp"
#include "core/net.hpp"

namespace c10k::bench {
namespace {

// Doubling from 100 ms to 1.6 s after refusals, so a server that refuses is probed steadily
// rather than in a busy loop.
std::int64_t retry_delay_ns(std::uint32_t failures) {
    return 100'000'000LL << std::min<std::uint32_t>(failures, 4);
}

}  // namespace

void PushLoop::start_connect(Subscriber& sub) {
    const Target& target = targets_[sub.target];
    int family = target.endpoint.family();
    sub.connect_started_ns = now_ns_;
    if (!sub.settling) {
        sub.settling = true;
        in_progress_++;
    }
    int fd = open_client_socket(family, options_.buffers);
    if (fd < 0) {
        connect_failed(sub, errno);
        return;
    }
    sub.fd = fd;
    sub.generation++;
    sub.state = ConnectionState::connecting;
    if (sub.source != 0 && family == AF_INET) {
        // As in ClientLoop: past ~28,000 subscribers per destination one source address runs
        // out of ports; IP_BIND_ADDRESS_NO_PORT lets connect() choose the port per 4-tuple.
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(sub.source);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
            connect_failed(sub, errno);
            return;
        }
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = (std::uint64_t{sub.generation} << 32) | sub.index;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
        connect_failed(sub, errno);
        return;
    }
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&target.endpoint.address),
                       target.endpoint.length);
    if (rc == 0) {
        on_connected(sub);
    } else if (errno != EINPROGRESS) {
        connect_failed(sub, errno);
    }
}

void PushLoop::on_connected(Subscriber& sub) {
    sub.state = ConnectionState::open;
    sub.subscribed = false;
    sub.answered = false;
    sub.drop = DropReason::none;
    if (sub.extra) sub.extra->unsent.clear();
    sub.http.reset();
    sub.sse.reset();
    if (options_.push.transport == PushTransport::long_poll) {
        // A long-poll subscriber is subscribed once it can ask; each answer is one message.
        sub.subscribed = true;
        open_++;
        settle(sub);
        if (sub.ever_subscribed && counting()) count(sub, [](PushStats& s) { s.reconnects++; });
        sub.ever_subscribed = true;
        sub.failures = 0;
    }
    send_request(sub);
}

void PushLoop::connect_failed(Subscriber& sub, int error) {
    stats_.connect_failures[error]++;
    close_socket(sub);
    sub.retry_at_ns = now_ns_ + retry_delay_ns(sub.failures);
    if (sub.failures < 255) sub.failures++;
}

void PushLoop::send_request(Subscriber& sub) {
    if (sub.state != ConnectionState::open) return;
    if (websocket()) {
        build_ws_request(sub);
    } else {
        scratch_ = request_heads_[sub.target];
    }
    if (websocket()) {
        // The handshake is whole: build_ws_request() ended it.
    } else if (sse()) {
        // What an EventSource sends: its last event ID buffer, whatever the id looked like.
        std::string last = sub.sse.last_event_id();
        if (!last.empty()) scratch_ += fmt::format("Last-Event-ID: {}\r\n", last);
    } else if (sub.extra && sub.extra->have_resume) {
        scratch_ += fmt::format("Last-Event-ID: {}\r\n", sub.extra->resume_id);
    } else if (sub.have_id) {
        scratch_ += fmt::format("Last-Event-ID: {}\r\n", sub.last_id);
    }
    if (!websocket()) scratch_ += "\r\n";
    if (sub.extra) {
        sub.extra->poll_due_ns = 0;
        sub.extra->poll_body.clear();
    }
    if (sub.has_unsent()) {
        sub.extra->unsent += scratch_;  // an earlier request is still going out: keep the order
        flush(sub);
        return;
    }
    ssize_t n = ::send(sub.fd, scratch_.data(), scratch_.size(), MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            sub.need_extra().unsent = scratch_;
            return;
        }
        drop(sub, DropReason::stream_closed);
        return;
    }
    if (static_cast<std::size_t>(n) < scratch_.size()) sub.need_extra().unsent = scratch_.substr(n);
}

void PushLoop::flush(Subscriber& sub) {
    if (!sub.extra) return;
    std::string& unsent = sub.extra->unsent;
    while (!unsent.empty() && sub.state == ConnectionState::open) {
        ssize_t n = ::send(sub.fd, unsent.data(), unsent.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT comes back
            if (errno == EINTR) continue;
            drop(sub, DropReason::stream_closed);
            return;
        }
        unsent.erase(0, static_cast<std::size_t>(n));
    }
    if (!unsent.empty()) return;
    // An SSE subscriber needs its extra state only for this: it holds nothing else.
    if (sse()) {
        sub.extra.reset();
    } else {
        std::string().swap(unsent);
    }
}

void PushLoop::handle_event(std::uint64_t data, std::uint32_t events) {
    auto index = static_cast<std::uint32_t>(data & 0xffffffffu);
    if (index >= subs_.size()) return;
    Subscriber& sub = subs_[index];
    if (sub.fd < 0 || sub.generation != static_cast<std::uint32_t>(data >> 32)) return;
    if (sub.state == ConnectionState::connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(sub.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            connect_failed(sub, error);
            return;
        }
        on_connected(sub);
        if (sub.state != ConnectionState::open) return;
    }
    if ((events & EPOLLOUT) && sub.has_unsent()) flush(sub);
    if (sub.state == ConnectionState::open &&
        (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        // Without a hang-up, a short read means the socket is empty (edge-triggered: any later
        // data raises a new edge), so the read that would only say EAGAIN is skipped.
        on_readable(sub, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    }
}

void PushLoop::on_readable(Subscriber& sub, bool until_eof) {
    while (sub.state == ConnectionState::open) {
        ssize_t n = ::recv(sub.fd, read_buffer_.data(), read_buffer_.size(), 0);
        if (n > 0) {
            // One clock read per read() stamps every event in it: they arrived together.
            receipt_ns_ = realtime_ns();
            if (counting()) stats_.bytes_read += static_cast<std::uint64_t>(n);
            auto size = static_cast<std::size_t>(n);
            if (sub.ws()) {
                if (!feed_ws(sub, read_buffer_.data(), size)) return;
                if (!until_eof && size < read_buffer_.size()) break;
                continue;
            }
            SubscriberRef ref{this, &sub};
            auto outcome = sub.http.feed(read_buffer_.data(), size, callbacks_, &ref);
            if (outcome == PushResponseParser::Outcome::upgraded && websocket()) {
                // The 101's head ended inside this read: the rest is the first WebSocket bytes.
                std::size_t used = std::min(sub.http.upgrade_offset(), size);
                if (!feed_ws(sub, read_buffer_.data() + used, size - used)) return;
                if (!until_eof && size < read_buffer_.size()) break;
                continue;
            }
            if (outcome == PushResponseParser::Outcome::ok) {
                if (!until_eof && size < read_buffer_.size()) break;
                continue;
            }
            if (outcome == PushResponseParser::Outcome::parse_error) {
                stats_.protocol_errors++;
                sub.drop = DropReason::refused;
            }
            drop(sub, sub.drop == DropReason::none ? DropReason::stream_closed : sub.drop);
            return;
        }
        if (n == 0) {
            // The end of a close-delimited body completes it (and may be a long-poll answer).
            receipt_ns_ = realtime_ns();
            if (sub.ws()) {
                ws_peer_closed(sub);
            } else {
                SubscriberRef ref{this, &sub};
                sub.http.finish(callbacks_, &ref);
            }
            drop(sub,
                 sub.drop == DropReason::refused ? DropReason::refused : DropReason::stream_closed);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        if (sub.ws()) ws_peer_closed(sub);
        drop(sub, DropReason::stream_closed);
        return;
    }
    if (sub.state == ConnectionState::open && sub.poll_due_ns() != 0 &&
        sub.poll_due_ns() <= now_ns_) {
        send_request(sub);  // long-poll: ask again on the same connection at once
    }
}

void PushLoop::settle(Subscriber& sub) {
    if (!sub.settling) return;
    sub.settling = false;
    in_progress_--;
}

void PushLoop::close_socket(Subscriber& sub) {
    settle(sub);
    if (sub.fd >= 0) ::close(sub.fd);  // also removes it from the epoll set
    sub.fd = -1;
    if (sub.subscribed) open_--;
    sub.subscribed = false;
    sub.state = ConnectionState::closed;
    if (sub.extra) {
        // Never from inside the Connection's own callbacks (they only flag): this frees it.
        if (sub.extra->have_resume) {
            SubscriberExtra& extra = *sub.extra;
            extra.poll_due_ns = 0;
            std::string().swap(extra.unsent);
            std::string().swap(extra.poll_body);
            extra.ws.reset();
        } else {
            sub.extra.reset();  // nothing in it outlives the connection
        }
    }
}

void PushLoop::drop(Subscriber& sub, DropReason reason) {
    bool was_subscribed = sub.subscribed;
    // A connection closed before any answer is a refusal too: resubscribing at once would spin
    // against a server that accepts and closes.
    if (!sub.answered) reason = DropReason::refused;
    close_socket(sub);
    sub.drop = DropReason::none;
    if (reason == DropReason::refused) {
        sub.retry_at_ns = now_ns_ + retry_delay_ns(sub.failures);
        if (sub.failures < 255) sub.failures++;
    } else {
        if (was_subscribed && counting() && phase_ != Phase::done) stats_.disconnects++;
        sub.retry_at_ns = now_ns_;
    }
    // Not from here: drop() runs deep inside event handling (and inside start_connect when a
    // send fails at once); wait_for_events() reconnects once the events are handled.
    if (phase_ != Phase::done) reconnect_now_.push_back(sub.index);
}

void PushLoop::maybe_reconnect(Subscriber& sub) {
    if (reconnects_wanted() && sub.state == ConnectionState::closed && now_ns_ >= sub.retry_at_ns) {
        start_connect(sub);
    }
}

}  // namespace c10k::bench

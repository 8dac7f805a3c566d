// The socket side of WsEchoLoop: connecting (from 127.0.0.x source addresses when the plan says
// so), the handshake, framing due messages through the Connection while the socket keeps up,
// timing each echo from the stamp it carries, and turning every way a connection ends into an
// error of a known kind for the messages it held.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/client_socket.hpp"
#include "bench/ws_echo_loop.hpp"
#include "bench/ws_message.hpp"
#include "core/net.hpp"
#include "websocket/handshake.hpp"

namespace c10k::bench {
namespace {

// Framed bytes a connection may hold beyond what the socket took. Past it, due messages wait
// unframed with their intended time, so a slow server shows as corrected latency rather than
// as memory.
constexpr std::size_t max_unsent_bytes = 64 * 1024;

// Doubling from 100 ms to 1.6 s after failures, so a refusing server is probed steadily.
std::int64_t retry_delay_ns(std::uint32_t failures) {
    return 100'000'000LL << std::min<std::uint32_t>(failures, 4);
}

ErrorKind connect_error_kind(int error) {
    if (error == ECONNREFUSED) return ErrorKind::connect_refused;
    if (error == ETIMEDOUT) return ErrorKind::connect_timeout;
    return ErrorKind::connect_other;
}

}  // namespace

void WsEchoLoop::start_connect(EchoConnection& conn) {
    const Target& target = targets_[conn.target];
    int family = target.endpoint.family();
    conn.connect_started_ns = now_ns_;
    if (!conn.settling) {
        conn.settling = true;
        in_progress_++;
    }
    int fd = open_client_socket(family, options_.buffers);
    if (fd < 0) {
        connect_failed(conn, errno);
        return;
    }
    conn.fd = fd;
    conn.generation++;
    conn.state = ConnectionState::connecting;
    if (conn.source != 0 && family == AF_INET) {
        // As in ClientLoop: IP_BIND_ADDRESS_NO_PORT lets connect() choose the port per 4-tuple.
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(conn.source);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
            connect_failed(conn, errno);
            return;
        }
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = (std::uint64_t{conn.generation} << 32) | conn.index;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
        connect_failed(conn, errno);
        return;
    }
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&target.endpoint.address),
                       target.endpoint.length);
    if (rc == 0) {
        on_connected(conn);
    } else if (errno != EINPROGRESS) {
        connect_failed(conn, errno);
    }
}

void WsEchoLoop::on_connected(EchoConnection& conn) {
    conn.state = ConnectionState::open;
    conn.close_pending = false;
    conn.refused = false;
    conn.http.reset();
    std::string key = websocket::make_client_key();
    std::memcpy(conn.key.data(), key.data(), std::min(key.size(), conn.key.size()));
    scratch_.clear();
    append_ws_request(scratch_, requests_[conn.target],
                      std::string_view(conn.key.data(), conn.key.size()), std::nullopt);
    conn.unsent = scratch_;
    flush(conn);
}

void WsEchoLoop::connect_failed(EchoConnection& conn, int error) {
    if (!conn.ever_opened && conn.failures == 0) stats_.run.connect_failures[error]++;
    ErrorKind kind = connect_error_kind(error);
    while (conn.queued() > 0) {
        if (in_window(conn.front().intended_ns)) stats_.run.count_error(kind);
        conn.pop_front();
    }
    conn.in_flight = 0;
    close_socket(conn);
    conn.retry_at_ns = now_ns_ + retry_delay_ns(conn.failures);
    if (conn.failures < 255) conn.failures++;
}

void WsEchoLoop::handle_event(std::uint64_t data, std::uint32_t events) {
    auto index = static_cast<std::uint32_t>(data & 0xffffffffu);
    if (index >= conns_.size()) return;
    EchoConnection& conn = conns_[index];
    if (conn.fd < 0 || conn.generation != static_cast<std::uint32_t>(data >> 32)) return;
    if (conn.state == ConnectionState::connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            connect_failed(conn, error);
            return;
        }
        on_connected(conn);
        if (conn.state != ConnectionState::open) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        // Without a hang-up, a short read means the socket is empty (edge-triggered).
        on_readable(conn, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    } else if (events & EPOLLOUT) {
        pump(conn);
    }
}

void WsEchoLoop::on_readable(EchoConnection& conn, bool until_eof) {
    while (conn.state == ConnectionState::open) {
        ssize_t n = ::recv(conn.fd, read_buffer_.data(), read_buffer_.size(), 0);
        if (n > 0) {
            auto size = static_cast<std::size_t>(n);
            if (phase_ == Phase::running && now_ns_ >= measure_start_ns_) {
                stats_.run.bytes_read += size;
            }
            if (conn.ws) {
                if (!feed_ws(conn, read_buffer_.data(), size)) return;
            } else {
                auto outcome = conn.http.feed(read_buffer_.data(), size, callbacks_, &conn);
                if (outcome == PushResponseParser::Outcome::upgraded && conn.ws) {
                    std::size_t used = std::min(conn.http.upgrade_offset(), size);
                    if (!feed_ws(conn, read_buffer_.data() + used, size - used)) return;
                } else if (outcome != PushResponseParser::Outcome::ok) {
                    if (!conn.close_pending) {
                        conn.refused = true;
                        conn.close_kind = ErrorKind::parse_error;
                    }
                    fail_connection(conn, conn.close_kind);
                    return;
                }
            }
            if (!until_eof && size < read_buffer_.size()) break;
            continue;
        }
        if (n == 0) {
            if (conn.ws) {
                conn.ws->connection().on_peer_closed();  // reports 1006 unless it had ended
            } else {
                conn.refused = true;  // closed during the handshake: back off
            }
            fail_connection(conn, conn.close_pending ? conn.close_kind : ErrorKind::closed_early);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        if (conn.ws) conn.ws->connection().on_peer_closed();
        fail_connection(conn, ErrorKind::reset);
        return;
    }
    pump(conn);
}

bool WsEchoLoop::feed_ws(EchoConnection& conn, const char* data, std::size_t size) {
    if (size > 0) conn.ws->connection().feed(data, size, now_ns_ / 1'000'000);
    if (!conn.unsent.empty()) flush(conn);
    if (conn.state != ConnectionState::open) return false;
    if (conn.close_pending || conn.ws->connection().finished()) {
        fail_connection(conn, conn.close_pending ? conn.close_kind : ErrorKind::closed_early);
        return false;
    }
    return true;
}

void WsEchoLoop::pump(EchoConnection& conn) {
    if (closed_loop() && phase_ == Phase::running && now_ns_ < measure_end_ns_ &&
        conn.queued() == 0) {
        // Closed loop: one message owed at all times, intended now.
        conn.queue.push_back(PendingRequest{now_ns_, 0});
        if (in_window(now_ns_)) stats_.ws.messages_sent++;
    }
    if (conn.state == ConnectionState::open && conn.ws) {
        websocket::Connection& connection = conn.ws->connection();
        while (conn.in_flight < conn.queued() && conn.unsent.size() < max_unsent_bytes &&
               connection.can_send()) {
            PendingRequest& message = conn.queue[conn.head + conn.in_flight];
            message.sent_ns = now_ns_;
            payload_.clear();
            append_echo_payload(payload_, {conn.next_sequence++, message.intended_ns, now_ns_},
                                options_.ws.message_size);
            if (options_.ws.text) {
                connection.send_text(payload_);
            } else {
                connection.send_binary(payload_);
            }
            conn.in_flight++;
        }
        flush(conn);
    } else if (conn.state == ConnectionState::closed && conn.queued() > 0 &&
               now_ns_ >= conn.retry_at_ns && wants_connection(conn)) {
        start_connect(conn);
    }
}

void WsEchoLoop::flush(EchoConnection& conn) {
    while (!conn.unsent.empty() && conn.state == ConnectionState::open) {
        ssize_t n = ::send(conn.fd, conn.unsent.data(), conn.unsent.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT comes back
            if (errno == EINTR) continue;
            fail_connection(conn, ErrorKind::reset);
            return;
        }
        conn.unsent.erase(0, static_cast<std::size_t>(n));
    }
    if (conn.unsent.empty()) std::string().swap(conn.unsent);
}

void WsEchoLoop::fail_connection(EchoConnection& conn, ErrorKind kind) {
    // Messages sent on this connection will never be echoed; those not yet sent are kept and
    // go out on the next connection, unless the server refused the handshake: then, as for a
    // failed connect, everything owed fails with the refusal's kind.
    std::uint32_t failing = conn.refused ? conn.queued() : conn.in_flight;
    for (std::uint32_t i = 0; i < failing; ++i) {
        if (in_window(conn.front().intended_ns)) stats_.run.count_error(kind);
        conn.pop_front();
    }
    conn.in_flight = 0;
    bool refused = conn.refused;
    close_socket(conn);
    if (refused) {
        conn.retry_at_ns = now_ns_ + retry_delay_ns(conn.failures);
        if (conn.failures < 255) conn.failures++;
    } else {
        conn.retry_at_ns = now_ns_;
    }
    // Not from here: this runs deep inside event handling; wait_for_events() reconnects.
    if (phase_ != Phase::done) reconnect_now_.push_back(conn.index);
}

void WsEchoLoop::settle(EchoConnection& conn) {
    if (!conn.settling) return;
    conn.settling = false;
    in_progress_--;
}

void WsEchoLoop::close_socket(EchoConnection& conn) {
    settle(conn);
    if (conn.fd >= 0) ::close(conn.fd);  // also removes it from the epoll set
    conn.fd = -1;
    if (conn.ws) open_--;
    conn.ws.reset();  // never from inside the Connection's own callbacks (they only flag)
    conn.state = ConnectionState::closed;
    conn.close_pending = false;
    conn.refused = false;
    conn.next_sequence = 0;
    conn.next_echo = 0;
    std::string().swap(conn.unsent);
}

bool WsEchoLoop::head_thunk(void* context, const PushResponseParser::Head& head) {
    auto* conn = static_cast<EchoConnection*>(context);
    return conn->loop->on_head(*conn, head);
}

bool WsEchoLoop::body_thunk(void*, const char*, std::size_t) {
    return true;
}

bool WsEchoLoop::complete_thunk(void*, bool) {
    return true;
}

void WsEchoLoop::message_thunk(void* context, websocket::MessageType, std::string_view payload) {
    auto* conn = static_cast<EchoConnection*>(context);
    conn->loop->on_echo(*conn, payload);
}

void WsEchoLoop::close_thunk(void* context, std::uint16_t code) {
    auto* conn = static_cast<EchoConnection*>(context);
    conn->loop->on_close(*conn, code);
}

void WsEchoLoop::output_thunk(void* context, std::string frames) {
    // Queued, and flushed by pump() or once feed() has returned.
    static_cast<EchoConnection*>(context)->unsent += frames;
}

bool WsEchoLoop::on_head(EchoConnection& conn, const PushResponseParser::Head& head) {
    if (head.status >= 100 && head.status <= 999) stats_.run.status[head.status]++;
    WsHandshakeCheck check = check_ws_handshake(
        head, std::string_view(conn.key.data(), conn.key.size()), options_.ws.deflate);
    if (check.outcome != WsHandshakeCheck::Outcome::accepted) {
        if (check.outcome == WsHandshakeCheck::Outcome::refused) {
            stats_.ws.refused[head.status]++;
            conn.close_kind = ErrorKind::bad_status_line;
        } else {
            stats_.ws.bad_handshakes++;
            conn.close_kind = ErrorKind::parse_error;
        }
        conn.refused = true;
        conn.close_pending = true;
        return false;
    }
    stats_.ws.handshakes++;
    if (check.deflate) stats_.ws.deflate_agreed++;
    static const WsLinkCallbacks callbacks{&WsEchoLoop::message_thunk, &WsEchoLoop::close_thunk,
                                           &WsEchoLoop::output_thunk};
    conn.ws =
        std::make_unique<WsLink>(ws_options_, callbacks, &conn, now_ns_ / 1'000'000, check.deflate);
    open_++;
    settle(conn);
    if (conn.ever_opened) stats_.run.reconnects++;
    conn.ever_opened = true;
    conn.failures = 0;
    return true;
}

void WsEchoLoop::on_echo(EchoConnection& conn, std::string_view payload) {
    auto stamp = parse_echo_payload(payload);
    if (!stamp || conn.in_flight == 0 || stamp->sequence != conn.next_echo) {
        // Not the next message this connection sent: the stream is not trusted any more.
        stats_.ws.bad_echoes++;
        conn.close_kind = ErrorKind::parse_error;
        conn.close_pending = true;
        return;
    }
    conn.next_echo++;
    conn.pop_front();
    conn.in_flight--;
    if (in_window(stamp->intended_ns)) {
        stats_.run.requests++;
        stats_.run.corrected.record((now_ns_ - stamp->intended_ns) / 1000);
        stats_.run.uncorrected.record((now_ns_ - stamp->sent_ns) / 1000);
    }
}

void WsEchoLoop::on_close(EchoConnection& conn, std::uint16_t code) {
    if (phase_ == Phase::running || phase_ == Phase::draining) stats_.ws.close_codes[code]++;
    if (conn.ws && conn.ws->connection().failed()) {
        conn.close_kind = ErrorKind::parse_error;  // the server broke the protocol
        conn.refused = true;
    } else if (!conn.close_pending) {
        conn.close_kind = ErrorKind::closed_early;
    }
    conn.close_pending = true;
}

}  // namespace c10k::bench

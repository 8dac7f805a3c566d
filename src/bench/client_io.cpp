// The socket side of ClientLoop: connecting, writing queued requests, reading responses, and
// turning every way a connection can fail into an error of a known kind.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include "bench/client_loop.hpp"
#include "bench/client_socket.hpp"
#include "core/clock.hpp"
#include "core/net.hpp"

namespace c10k::bench {
namespace {

// How long to wait before connecting again after a failed connect: doubling from 100 ms to
// 1.6 s, so that a dead server is probed steadily rather than in a busy loop.
std::int64_t retry_delay_ns(std::uint32_t failures) {
    return 100'000'000LL << std::min<std::uint32_t>(failures, 4);
}

ErrorKind connect_error_kind(int error) {
    if (error == ECONNREFUSED) return ErrorKind::connect_refused;
    if (error == ETIMEDOUT) return ErrorKind::connect_timeout;
    return ErrorKind::connect_other;
}

}  // namespace

void ClientLoop::start_connect(Connection& conn) {
    const Target& target = targets_[conn.target];
    int family = target.endpoint.family();
    int fd = open_client_socket(family, options_.buffers);
    if (fd < 0) {
        connect_failed(conn, errno);
        return;
    }
    conn.fd = fd;
    conn.generation++;
    conn.state = ConnectionState::connecting;
    conn.connect_started_ns = now_ns_;
    connecting_++;
    if (conn.source != 0 && family == AF_INET) {
        // Past ~28,000 connections to one destination the ephemeral ports of one source address
        // run out. Binding another 127.0.0.x with IP_BIND_ADDRESS_NO_PORT lets connect() pick
        // the port per 4-tuple instead of reserving one at bind time.
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

void ClientLoop::on_connected(Connection& conn) {
    connecting_--;
    open_++;
    conn.state = ConnectionState::open;
    if (conn.ever_opened) stats_.reconnects++;
    conn.ever_opened = true;
    conn.failures = 0;
    conn.close_requested = false;
    conn.unsolicited = false;
    conn.parser.reset(targets_[conn.target].head, &ClientLoop::response_thunk, &conn);
    pump(conn);
}

void ClientLoop::connect_failed(Connection& conn, int error) {
    if (conn.state == ConnectionState::connecting) connecting_--;
    if (conn.fd >= 0) ::close(conn.fd);
    conn.fd = -1;
    conn.state = ConnectionState::closed;
    if (!conn.ever_opened && conn.failures == 0) {
        // "Failed to connect" in the report means connections that never got their first
        // connect through; later failures show as errors of the requests they held up.
        stats_.connections_failed++;
        stats_.connect_failures[error]++;
    }
    conn.retry_at_ns = now_ns_ + retry_delay_ns(conn.failures);
    if (conn.failures < 255) conn.failures++;
    ErrorKind kind = connect_error_kind(error);
    while (conn.queued() > 0) {
        fail_request(conn.front(), kind);
        conn.pop_front();
    }
    conn.in_flight = 0;
    conn.tail_unwritten = 0;
}

void ClientLoop::handle_event(std::uint64_t data, std::uint32_t events) {
    auto index = static_cast<std::uint32_t>(data & 0xffffffffu);
    if (index >= conns_.size()) return;
    Connection& conn = conns_[index];
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
        // Without a hang-up in the event, a short read means the socket is empty: any later
        // data raises a new edge, so the extra read that would only say EAGAIN is skipped.
        bool until_eof = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        on_readable(conn, until_eof);  // also writes what the responses made room for
    } else if (events & EPOLLOUT) {
        pump(conn);
    }
}

void ClientLoop::on_readable(Connection& conn, bool until_eof) {
    while (conn.state == ConnectionState::open) {
        ssize_t n = ::recv(conn.fd, read_buffer_.data(), read_buffer_.size(), 0);
        if (n > 0) {
            if (phase_ == Phase::running && now_ns_ >= measure_start_ns_) {
                stats_.bytes_read += static_cast<std::uint64_t>(n);
            }
            auto outcome = conn.parser.feed(read_buffer_.data(), static_cast<std::size_t>(n));
            if (outcome == ResponseParser::Outcome::ok) {
                if (!until_eof && static_cast<std::size_t>(n) < read_buffer_.size()) break;
                continue;
            }
            if (outcome == ResponseParser::Outcome::stopped && !conn.unsolicited) {
                close_gracefully(conn);
            } else if (outcome == ResponseParser::Outcome::bad_status_line) {
                fail_connection(conn, ErrorKind::bad_status_line);
            } else {
                fail_connection(conn, ErrorKind::parse_error);
            }
            return;
        }
        if (n == 0) {
            // End of stream completes a close-delimited body; whatever is still unanswered
            // after that was cut short by the server.
            conn.parser.finish();
            if (conn.in_flight > 0) {
                fail_connection(conn, ErrorKind::closed_early);
            } else {
                close_gracefully(conn);
            }
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        if (conn.in_flight > 0) {
            fail_connection(conn, ErrorKind::reset);
        } else {
            close_gracefully(conn);  // an idle connection dropped: not a failed request
        }
        return;
    }
    pump(conn);
}

bool ClientLoop::response_thunk(void* context, int status, bool keep_alive) {
    auto* conn = static_cast<Connection*>(context);
    return conn->loop->on_response(*conn, status, keep_alive);
}

bool ClientLoop::on_response(Connection& conn, int status, bool keep_alive) {
    // Runs inside llhttp_execute: it only records; closing and writing wait until the parser
    // has returned.
    if (conn.in_flight == 0) {
        conn.unsolicited = true;  // a response to nothing we sent: the stream is not trusted
        if (phase_ == Phase::running || phase_ == Phase::draining) {
            stats_.count_error(ErrorKind::parse_error);
        }
        return false;
    }
    PendingRequest request = conn.front();
    conn.pop_front();
    conn.in_flight--;
    if (in_window(request.intended_ns)) {
        stats_.requests++;
        std::int64_t waited_ns = now_ns_ - request.intended_ns;
        stats_.corrected.record(waited_ns / 1000);
        stats_.uncorrected.record((now_ns_ - request.sent_ns) / 1000);
        stats_.status[std::clamp(status, 0, 999)]++;
        if (status == 200) {
            stats_.ok_corrected.record(waited_ns / 1000);
            if (options_.deadline_ns > 0 && waited_ns <= options_.deadline_ns) stats_.good++;
        }
    }
    if (!keep_alive || options_.new_connection_per_request) {
        conn.close_requested = true;
        return false;
    }
    return true;
}

void ClientLoop::pump(Connection& conn) {
    if (conn.idle) return;
    if (closed_loop() && phase_ == Phase::running && now_ns_ < measure_end_ns_) {
        // Closed loop: a connection always has `depth_` requests owed, intended "now".
        while (conn.queued() < depth_) conn.push(PendingRequest{now_ns_, 0});
    }
    if (conn.state == ConnectionState::open) {
        write_requests(conn);
    } else if (conn.state == ConnectionState::closed && conn.queued() > 0 &&
               now_ns_ >= conn.retry_at_ns) {
        start_connect(conn);  // on_connected() pumps again
    }
}

void ClientLoop::write_requests(Connection& conn) {
    const std::string& request = targets_[conn.target].request;
    constexpr std::uint32_t max_batch = 64;
    while (conn.state == ConnectionState::open) {
        iovec iov[max_batch + 1];
        int count = 0;
        std::size_t wanted = 0;
        if (conn.tail_unwritten > 0) {
            iov[count++] = {const_cast<char*>(request.data()) + request.size() - conn.tail_unwritten,
                            conn.tail_unwritten};
            wanted += conn.tail_unwritten;
        }
        std::uint32_t room = depth_ > conn.in_flight ? depth_ - conn.in_flight : 0;
        std::uint32_t fresh = std::min({room, conn.unsent(), max_batch});
        for (std::uint32_t i = 0; i < fresh; ++i) {
            iov[count++] = {const_cast<char*>(request.data()), request.size()};
            wanted += request.size();
        }
        if (count == 0) return;
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = static_cast<std::size_t>(count);
        // MSG_NOSIGNAL: a peer that has gone away is an error to count, not a SIGPIPE.
        ssize_t n = ::sendmsg(conn.fd, &message, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT will call again
            if (errno == EINTR) continue;
            fail_connection(conn, ErrorKind::reset);
            return;
        }
        auto written = static_cast<std::size_t>(n);
        std::size_t from_tail = std::min<std::size_t>(written, conn.tail_unwritten);
        conn.tail_unwritten -= static_cast<std::uint32_t>(from_tail);
        written -= from_tail;
        for (std::uint32_t i = 0; i < fresh && written > 0; ++i) {
            conn.queue[conn.head + conn.in_flight].sent_ns = now_ns_;
            conn.in_flight++;
            std::size_t part = std::min(written, request.size());
            written -= part;
            conn.tail_unwritten = static_cast<std::uint32_t>(request.size() - part);
        }
        if (static_cast<std::size_t>(n) < wanted) return;  // socket buffer full: wait for EPOLLOUT
    }
}

void ClientLoop::fail_request(const PendingRequest& request, ErrorKind kind) {
    if (in_window(request.intended_ns)) stats_.count_error(kind);
}

void ClientLoop::fail_connection(Connection& conn, ErrorKind kind) {
    // The requests written on this connection are lost; those not yet written are kept and go
    // out on the next connection.
    for (std::uint32_t i = 0; i < conn.in_flight; ++i) {
        fail_request(conn.front(), kind);
        conn.pop_front();
    }
    conn.in_flight = 0;
    conn.tail_unwritten = 0;
    close_socket(conn);
    after_close(conn);
}

void ClientLoop::close_gracefully(Connection& conn) {
    // The server ended the connection between responses (or said it would): requests written
    // but not answered were never processed, so they are sent again on a new connection.
    for (std::uint32_t i = 0; i < conn.in_flight; ++i) conn.queue[conn.head + i].sent_ns = 0;
    conn.in_flight = 0;
    conn.tail_unwritten = 0;
    close_socket(conn);
    after_close(conn);
}

void ClientLoop::close_socket(Connection& conn) {
    if (conn.fd < 0) return;
    ::close(conn.fd);  // also removes it from the epoll set
    conn.fd = -1;
    if (conn.state == ConnectionState::open) open_--;
    if (conn.state == ConnectionState::connecting) connecting_--;
    conn.state = ConnectionState::closed;
}

void ClientLoop::after_close(Connection& conn) {
    if (wants_connection(conn)) {
        start_connect(conn);
    }
}

}  // namespace c10k::bench

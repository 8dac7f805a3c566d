#include "bench/publisher.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <iterator>

#include <fmt/core.h>

#include "bench/push_message.hpp"
#include "bench/target.hpp"
#include "core/clock.hpp"

namespace c10k::bench {
namespace {

// Publishes written and not yet answered. Past this, due publishes wait (still stamped with
// their intended time), so a server that stops answering does not grow the bench's memory.
constexpr std::size_t max_in_flight = 4096;
// An acknowledgement is a short JSON object; more than this is not read.
constexpr std::size_t max_answer_body = 4096;

}  // namespace

bool make_publish_target(const PushOptions& push, PublishTarget& out, std::string& error) {
    Url url;
    if (!parse_url(push.publish_url, url, error)) {
        error = "--publish: " + error;
        return false;
    }
    std::string host_port = url.host.find(':') != std::string::npos
                                ? fmt::format("[{}]:{}", url.host, url.port)
                                : fmt::format("{}:{}", url.host, url.port);
    if (!core::parse_endpoint(host_port, out.endpoint, error)) {
        error = fmt::format("--publish '{}': {}", push.publish_url, error);
        return false;
    }
    out.head = fmt::format("POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\n", url.path,
                           url.authority);
    if (!push.publish_token.empty()) {
        out.head += fmt::format("Authorization: Bearer {}\r\n", push.publish_token);
    }
    out.head += "Content-Length: ";
    return true;
}

Publisher::Publisher(const BenchOptions& options, PublishTarget target,
                     std::int64_t realtime_offset_ns, RunControl& control, PushControl& push)
    : options_(options),
      target_(std::move(target)),
      realtime_offset_ns_(realtime_offset_ns),
      control_(control),
      push_(push) {
    callbacks_.on_head = &Publisher::head_thunk;
    callbacks_.on_body = &Publisher::body_thunk;
    callbacks_.on_complete = &Publisher::complete_thunk;
    period_ns_ = 1e9 / options.push.publish_rate;
}

std::int64_t Publisher::intended(std::uint64_t sequence) const {
    // Computed from the start each time, not by adding periods, so rounding never accumulates.
    return start_ns_ + std::llround(static_cast<double>(sequence) * period_ns_);
}

PublisherStats Publisher::run() {
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    now_ns_ = core::monotonic_ns();
    connect();
    while (control_.start_ns.load() == 0 && control_.stop_ns.load() == 0) {
        wait(now_ns_ + 2'000'000);
        if (state_ == State::closed && now_ns_ >= retry_at_ns_) connect();
    }
    start_ns_ = control_.start_ns.load();
    if (start_ns_ == 0) start_ns_ = now_ns_;
    measure_start_ns_ = start_ns_ + options_.warmup_ns;
    measure_end_ns_ = measure_start_ns_ + options_.duration_ns;
    std::uint64_t next = 0;
    std::int64_t drain_deadline = INT64_MAX;
    while (true) {
        now_ns_ = core::monotonic_ns();
        std::int64_t stop = control_.stop_ns.load();
        if (stop != 0 && stop < measure_end_ns_) {
            measure_end_ns_ = std::max(stop, measure_start_ns_);
        }
        while (intended(next) <= now_ns_ && intended(next) < measure_end_ns_ &&
               pending_.size() < max_in_flight) {
            append(next++);
        }
        bool schedule_done = intended(next) >= measure_end_ns_;
        if (schedule_done && pending_.empty()) break;
        if (now_ns_ >= measure_end_ns_ && drain_deadline == INT64_MAX) {
            std::int64_t budget = stop != 0
                                      ? std::min<std::int64_t>(options_.timeout_ns, 500'000'000)
                                      : options_.timeout_ns;
            drain_deadline = now_ns_ + budget;
        }
        if (now_ns_ >= drain_deadline) break;
        if (state_ == State::closed && now_ns_ >= retry_at_ns_) connect();
        if (state_ == State::connecting &&
            now_ns_ - connect_started_ns_ > options_.connect_timeout_ns) {
            stats_.connect_failures++;
            fail_connection();
        }
        if (state_ == State::open) write_out();
        std::int64_t until = std::min(drain_deadline, now_ns_ + 100'000'000);
        if (!schedule_done && pending_.size() < max_in_flight)
            until = std::min(until, intended(next));
        if (state_ == State::closed) until = std::min(until, retry_at_ns_);
        wait(until);
    }
    // What is still unanswered when time runs out may or may not have been published.
    for (const auto& pending : pending_) {
        if (in_window(pending.intended_ns)) stats_.unanswered++;
    }
    pending_.clear();
    close_socket();
    std::uint64_t final_id = 0;
    for (auto [id, intended_ns] : stats_.acked) {
        if (in_window(intended_ns)) final_id = std::max(final_id, id);
    }
    push_.final_id.store(final_id);
    push_.publisher_done.store(1);
    return std::move(stats_);
}

void Publisher::append(std::uint64_t sequence) {
    std::int64_t due = intended(sequence);
    std::string body;
    append_publish_body(body, due + realtime_offset_ns_, sequence, options_.push.message_size);
    pending_.push_back(Pending{sequence, due, appended_});
    std::size_t before = out_.size();
    out_ += target_.head;
    out_ += fmt::format("{}\r\n\r\n", body.size());
    out_ += body;
    appended_ += out_.size() - before;
    if (in_window(due)) stats_.sent++;
}

void Publisher::connect() {
    int family = target_.endpoint.family();
    fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect_started_ns_ = now_ns_;
    if (fd_ < 0) {
        stats_.connect_failures++;
        fail_connection();
        return;
    }
    core::set_no_delay(fd_);
    state_ = State::connecting;
    int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&target_.endpoint.address),
                       target_.endpoint.length);
    if (rc == 0) {
        on_connected();
    } else if (errno != EINPROGRESS) {
        stats_.connect_failures++;
        fail_connection();
    }
}

void Publisher::on_connected() {
    state_ = State::open;
    failures_ = 0;
    close_after_ = false;
    parser_.reset();
}

void Publisher::write_out() {
    while (state_ == State::open && !out_.empty()) {
        ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            fail_connection();
            return;
        }
        out_.erase(0, static_cast<std::size_t>(n));
        written_ += static_cast<std::size_t>(n);
    }
}

void Publisher::read_in() {
    char buffer[16384];
    while (state_ == State::open) {
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            auto outcome = parser_.feed(buffer, static_cast<std::size_t>(n), callbacks_, this);
            if (outcome == PushResponseParser::Outcome::ok) continue;
            // Stopped: the server said it closes, so what is still out is lost with it. Either
            // way the connection is over.
            fail_connection();
            return;
        }
        if (n == 0) {
            parser_.finish(callbacks_, this);
            fail_connection();
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        fail_connection();
        return;
    }
}

void Publisher::fail_connection() {
    // Publishes whose first byte went out may have been published: they count as unanswered
    // and are not sent again (a repeated POST is a second message). The others go out again,
    // unchanged, on the next connection.
    bool clean = state_ == State::open && (close_after_ || pending_.empty());
    std::deque<Pending> kept;
    for (const auto& pending : pending_) {
        if (pending.start < written_) {
            if (in_window(pending.intended_ns)) stats_.unanswered++;
        } else {
            kept.push_back(pending);
        }
    }
    close_socket();
    pending_.clear();
    out_.clear();
    appended_ = 0;
    written_ = 0;
    for (const auto& pending : kept) {
        if (in_window(pending.intended_ns)) stats_.sent--;  // append() counts it again
        append(pending.sequence);
    }
    // A server closing a connection it said it would close, or an idle one, is no failure:
    // connect again at once. Otherwise back off, 100 ms doubling to 1.6 s.
    if (clean) {
        retry_at_ns_ = now_ns_;
        return;
    }
    retry_at_ns_ = now_ns_ + (100'000'000LL << std::min<std::uint32_t>(failures_, 4));
    failures_++;
}

void Publisher::close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    state_ = State::closed;
}

void Publisher::wait(std::int64_t until_ns) {
    std::int64_t wait_ns = std::max<std::int64_t>(0, until_ns - now_ns_);
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                     static_cast<long>(wait_ns % 1'000'000'000)};
    pollfd p{fd_, 0, 0};
    if (state_ == State::connecting) p.events = POLLOUT;
    if (state_ == State::open) p.events = static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT));
    int ready = ::ppoll(&p, fd_ >= 0 ? 1 : 0, &timeout, nullptr);
    now_ns_ = core::monotonic_ns();
    if (ready <= 0) return;
    if (state_ == State::connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            stats_.connect_failures++;
            fail_connection();
            return;
        }
        on_connected();
        return;
    }
    if (state_ == State::open && (p.revents & (POLLIN | POLLHUP | POLLERR))) read_in();
    if (state_ == State::open && (p.revents & POLLOUT)) write_out();
}

bool Publisher::head_thunk(void* context, const PushResponseParser::Head& head) {
    auto* self = static_cast<Publisher*>(context);
    self->status_ = head.status;
    self->body_.clear();
    return true;
}

bool Publisher::body_thunk(void* context, const char* data, std::size_t size) {
    auto* self = static_cast<Publisher*>(context);
    if (self->body_.size() < max_answer_body) {
        self->body_.append(data, std::min(size, max_answer_body - self->body_.size()));
    }
    return true;
}

bool Publisher::complete_thunk(void* context, bool keep_alive) {
    return static_cast<Publisher*>(context)->on_complete(keep_alive);
}

bool Publisher::on_complete(bool keep_alive) {
    if (pending_.empty()) return false;  // an answer to nothing: the stream is not trusted
    Pending pending = pending_.front();
    pending_.pop_front();
    bool counted = in_window(pending.intended_ns);
    if (status_ >= 200 && status_ < 300) {
        if (auto id = parse_ack_id(body_)) {
            stats_.acked.emplace_back(*id, pending.intended_ns);
            push_.published.fetch_add(1, std::memory_order_relaxed);
            if (counted) {
                stats_.published++;
                stats_.ack_latency.record((now_ns_ - pending.intended_ns) / 1000);
            }
        } else if (counted) {
            stats_.acks_without_id++;
        }
    } else if (counted) {
        stats_.error_status[status_]++;
    }
    if (!keep_alive) {
        close_after_ = true;
        return false;
    }
    return true;
}

}  // namespace c10k::bench

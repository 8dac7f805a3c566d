#include "proxy/exchange.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "core/log.hpp"
#include "core/proxy_protocol.hpp"
#include "http/session.hpp"
#include "proxy/forward.hpp"
#include "proxy/proxy_handler.hpp"
#include "proxy/upstream.hpp"

namespace c10k::proxy {

namespace {

/// Whether the client's request carries a body (and so a length the backend must be told).
bool has_body(const http::Request& request) {
    return request.has_header("Content-Length") || request.has_header("Transfer-Encoding");
}

/// Whether the request may be sent again after it may have run: idempotent methods, and with
/// the operator's word for it (--retry-non-idempotent, or the route's) POST and PATCH.
/// `route_opts_in`: the request's route says so for its own requests (retry_non_idempotent).
bool may_resend(http::Method method, const RetryPolicy& policy, bool route_opts_in) {
    if (is_idempotent(method)) return true;
    return (policy.non_idempotent || route_opts_in) &&
           (method == http::Method::post || method == http::Method::patch);
}

}  // namespace

Exchange::Exchange(ProxyHandler& handler, const http::Request& request, bool retry_non_idempotent)
    : handler_(handler),
      method_(request.method),
      idempotent_(may_resend(request.method, handler.options().retry, retry_non_idempotent)) {
    handler_.exchange_started();
    parser_ = handler_.take_parser();
    request_bytes_ = handler_.take_bytes();
    const ProxyOptions& options = handler_.options();
    // The request's views live only while the handler runs: its bytes are built now, once,
    // and sent as they are to whichever server takes them.
    ForwardInfo info;
    info.client_address = request.peer;
    listener_ = request.listener;
    if (handler_.sends_proxy_protocol()) client_address_ = request.peer;
    upgrade_requested_ = request.has_header("Upgrade") && connection_names(request, "upgrade");
    info.upgrade = upgrade_requested_;
    if (request.body_streamed) {
        // The body follows (on_request_body): sent on as it comes, in the client's framing.
        body_done_ = false;
        if (request.body_length != http::Request::kChunkedBody) {
            info.content_length = request.body_length;
        } else {
            info.chunked = true;
            chunked_upload_ = true;
        }
    } else if (has_body(request)) {
        info.content_length = request.body.size();
    }
    if (options.sticky.enabled()) {
        info.drop_cookie = options.sticky.name;
        for (const http::Header& header : request.headers) {
            if (!http::iequals(header.name, "Cookie")) continue;
            std::string_view value = cookie_value(header.value, options.sticky.name);
            if (value.empty()) continue;
            // A value naming no server (an old pool's, or made up) is ignored: balanced, and
            // the answer sets a cookie that does name one.
            sticky_server_ = handler_.sticky_server(value);
            break;
        }
    }
    request_bytes_.reserve(512 + request.body.size());
    append_request_head(request, info, request_bytes_);
    request_bytes_.append(request.body);
    balance_key_ = balance_key(request, options.pool.balance, options.hash_key);
}

Exchange::~Exchange() {
    if (scheduled()) handler_.context().timers().cancel(*this);
    handler_.give_parser(std::move(parser_));
    handler_.give_bytes(std::move(request_bytes_));
}

void Exchange::begin(http::Pending pending) {
    pending_ = pending;
    if (std::int64_t total = handler_.options().total_timeout_ms; total > 0) {
        total_deadline_ms_ = handler_.context().now_ms() + total;
        arm_deadline();
    }
    // Before the attempt, which may end the exchange; nothing arrives from inside this call
    // (the handler runs as the head is parsed).
    if (!body_done_) pending_.read_body(*this);
    attempt();
}

void Exchange::end() {
    if (draining_) handler_.stop_draining(*this);
    if (holds_retry_) handler_.retry_budget().release();
    handler_.exchange_ended();
    delete this;
}

void Exchange::release_server() {
    if (!holding_server_ || !upstream_) return;
    holding_server_ = false;
    ServerState& state = handler_.pool().state(upstream_->server());
    if (state.outstanding > 0) --state.outstanding;
    handler_.counters(upstream_->server()).finished.add();
}

void Exchange::attempt() {
    Pool& pool = handler_.pool();
    // Every server once, plus the one retry a stale keep-alive connection earns.
    if (attempts_ >= static_cast<int>(pool.size()) + 1) {
        handler_.pool_counters().unavailable.add();
        answer_error(502, "no backend server could be reached");
        return;
    }
    if (pool.none_healthy()) {
        // Nothing to try: the checks say every server is DOWN, and they will say when one is
        // back, so the client is told to come back rather than that the proxy failed.
        answer_error(503, "no healthy server in the pool");
        return;
    }
    if (failed_server_ >= 0) {
        // Sent on after failing there (counted only when it is sent on).
        handler_.counters(static_cast<std::size_t>(failed_server_)).retries.add();
        failed_server_ = -1;
    }
    int chosen = choose();
    if (chosen == kAllFull) {
        if (!handler_.enqueue(*this)) {
            handler_.pool_counters().queue_full.add();
            answer_error(503, "every server is at its connection limit and the queue is full");
            return;
        }
        queued_ = true;
        queue_deadline_ms_ = handler_.context().now_ms() + handler_.options().queue_timeout_ms;
        arm_deadline();
        return;
    }
    start_on(chosen);
}

int Exchange::choose() {
    Pool& pool = handler_.pool();
    std::uint32_t cap = handler_.options().max_connections_per_server;
    std::int64_t now = handler_.context().now_ms();
    std::uint64_t full = 0;
    // Servers being drained are as good as tried: never chosen, not even as a last resort.
    std::uint64_t drained = handler_.draining();
    if (sticky_server_ >= 0) {
        auto server = static_cast<std::size_t>(sticky_server_);
        if ((((tried_ | drained) >> server) & 1) == 0 && pool.up(server, now)) {
            // The cookie's server, while it is up: at its cap the request waits for it in the
            // queue rather than moving the client.
            if (cap == 0 || pool.state(server).connections < cap || handler_.has_idle(server))
                return sticky_server_;
            return kAllFull;
        }
    }
    for (;;) {
        int chosen = pool.pick(now, tried_ | full | drained, balance_key_);
        if (chosen < 0) return full != 0 ? kAllFull : kNone;
        auto server = static_cast<std::size_t>(chosen);
        if (cap == 0 || pool.state(server).connections < cap || handler_.has_idle(server)) {
            return chosen;
        }
        full |= std::uint64_t{1} << server;
    }
}

void Exchange::leave_queue(int server) {
    queued_ = false;
    arm_deadline();
    start_on(server);
}

void Exchange::arm_deadline() {
    std::int64_t deadline = INT64_MAX;
    if (queued_) deadline = queue_deadline_ms_;
    if (total_deadline_ms_ > 0) deadline = std::min(deadline, total_deadline_ms_);
    if (deadline == INT64_MAX) {
        handler_.context().timers().cancel(*this);
    } else {
        handler_.context().timers().schedule(*this, deadline);
    }
}

void Exchange::on_timer() {
    std::int64_t now = handler_.context().now_ms();
    if (queued_ && now >= queue_deadline_ms_) {
        handler_.unqueue(*this);
        queued_ = false;
        handler_.pool_counters().queue_timeouts.add();
        answer_error(503, "no connection to a server came free in time");
        return;
    }
    if (total_deadline_ms_ == 0 || now < total_deadline_ms_) {
        arm_deadline();
        return;
    }
    // The whole request ran out of time, wherever it is: waiting, uploading, or streaming an
    // answer (which is then cut: a short body must not pass for a whole one).
    if (queued_) {
        handler_.unqueue(*this);
        queued_ = false;
    }
    handler_.pool_counters().total_timeouts.add();
    if (upstream_) handler_.counters(upstream_->server()).failures.add();
    answer_error(504, "the request took longer than --total-timeout");
}

void Exchange::start_on(int chosen) {
    if (chosen < 0) {
        handler_.pool_counters().unavailable.add();
        if (attempts_ == 0 && handler_.draining() != 0) {
            // Nothing was tried: what is left of the pool is being drained. Overload-like, and
            // short-lived: the client may come back.
            answer_error(503, "every server of the pool is being drained");
            return;
        }
        answer_error(502, "no backend server could be reached");
        return;
    }
    ++attempts_;
    Pool& pool = handler_.pool();
    std::int64_t now = handler_.context().now_ms();
    auto server = static_cast<std::size_t>(chosen);
    parser_->reset(method_);
    sent_ = 0;
    complete_ = false;
    server_error_ = false;
    if (preamble_size_ > 0) {
        // The last attempt's PROXY header belonged to its connection.
        request_bytes_.erase(0, preamble_size_);
        preamble_size_ = 0;
    }
    std::unique_ptr<Upstream> upstream = force_fresh_ ? nullptr : handler_.take_idle(server);
    force_fresh_ = false;
    ServerState& state = pool.state(server);
    ++state.requests;
    ++state.outstanding;
    holding_server_ = true;
    ServerCounters& counters = handler_.counters(server);
    counters.requests.add();
    if (upstream) {
        upstream_ = std::move(upstream);
        upstream_->attach(this);
        upstream_->count_use();
        step_ = Step::sending;
        send();
        return;
    }
    auto fd = Upstream::connect_to(pool.server(server).address);
    if (!fd) {
        --state.outstanding;
        holding_server_ = false;
        counters.finished.add();
        counters.failures.add();
        failed_server_ = chosen;
        pool.mark_failed(server, now);
        count_failed_request(server);
        mark_tried(server);
        // Nothing was sent, so nothing is amplified: not a retry the budget counts (a pool
        // losing a server must not turn the refused connects into 502s).
        if (untried_left()) {
            attempt();
        } else {
            answer_error(
                502, fmt::format("{}: {}", pool.server(server).name, std::strerror(fd.error())));
        }
        return;
    }
    upstream_ = std::make_unique<Upstream>(handler_, server, std::move(*fd));
    upstream_->attach(this);
    step_ = Step::connecting;
    if (pool.server(server).proxy_protocol != 0)
        put_proxy_header(pool.server(server).proxy_protocol);
    if (!upstream_->watch(http::DescriptorTask::writable)) {
        fail(Failure::connect, "the loop cannot watch the connection");
        return;
    }
    upstream_->arm_timer(now + handler_.options().connect_timeout_ms);
}

void Exchange::put_proxy_header(std::uint8_t version) {
    // The client's address as the engine saw it (its port is not kept: 0), and the address it
    // connected to as configured.
    sockaddr_storage source{};
    if (!core::parse_address_text(client_address_, source)) source.ss_family = AF_UNSPEC;
    const sockaddr_storage& destination = handler_.listener_address(listener_);
    std::string header;
    if (version == 2) {
        core::append_proxy_v2(source, destination, header);
    } else {
        core::append_proxy_v1(source, destination, header);
    }
    preamble_size_ = header.size();
    request_bytes_.insert(0, header);
}

void Exchange::on_upstream_ready(std::uint32_t events) {
    switch (step_) {
        case Step::connecting:
            connected();
            return;
        case Step::tunnel:
            tunnel_ready(events);
            return;
        case Step::sending:
        case Step::waiting:
        case Step::body:
            break;
    }
    // Both ways at once: a body still going up while the answer comes down (a server may
    // answer early, and one that echoes a stream answers as it reads).
    if ((events & http::DescriptorTask::writable) && sent_ < request_bytes_.size() && !send())
        return;
    if (events & http::DescriptorTask::readable) receive();
}

void Exchange::connected() {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(upstream_->fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
        fail(Failure::connect, std::strerror(error));
        return;
    }
    step_ = Step::sending;
    send();
}

bool Exchange::send() {
    // A client paused for its body is resumed from here (after_send), and what it then hands
    // over is only queued (on_request_body sees in_send_): this loop sends it.
    in_send_ = true;
    for (;;) {
        bool blocked = false;
        while (sent_ < request_bytes_.size()) {
            ssize_t n = ::send(upstream_->fd(), request_bytes_.data() + sent_,
                               request_bytes_.size() - sent_, MSG_NOSIGNAL);
            if (n > 0) {
                sent_ += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                blocked = true;
                break;
            }
            in_send_ = false;
            fail(Failure::send, std::strerror(errno));
            return false;
        }
        after_send();
        if (blocked || sent_ == request_bytes_.size()) break;
    }
    in_send_ = false;
    // All of it went out: a response is what comes next. The bytes stay until its head
    // arrives, for a retry on another connection (while replayable_).
    if (upload_done() && step_ == Step::sending) step_ = Step::waiting;
    if (!update_watch()) {
        fail(Failure::send, "the loop cannot watch the connection");
        return false;
    }
    upstream_->arm_timer(handler_.context().now_ms() + handler_.options().response_timeout_ms);
    return true;
}

bool Exchange::update_watch() {
    std::uint32_t events = 0;
    if (step_ == Step::connecting || sent_ < request_bytes_.size())
        events |= http::DescriptorTask::writable;
    if (step_ != Step::connecting && !response_paused_) events |= http::DescriptorTask::readable;
    return upstream_->watch(events);
}

void Exchange::receive() {
    std::vector<char>& buffer = handler_.read_buffer();
    // A few reads per wake-up, so one busy server does not starve the loop's other work.
    for (int round = 0; round < 4; ++round) {
        ssize_t n = ::recv(upstream_->fd(), buffer.data(), buffer.size(), 0);
        if (n > 0) {
            ParseResult result = parser_->feed(buffer.data(), static_cast<std::size_t>(n), *this);
            if (rejected_) {
                // Whatever the rest of that response holds, it is not forwarded.
                retry_after_status(result.error == ParseError::none && complete_ &&
                                   result.consumed == static_cast<std::size_t>(n));
                return;
            }
            if (result.error != ParseError::none) {
                fail(Failure::bad_response, describe(result.error));
                return;
            }
            if (complete_ && step_ == Step::tunnel) {
                // What followed the 101 is the new protocol's already.
                open_tunnel(buffer.data() + result.consumed,
                            static_cast<std::size_t>(n) - result.consumed);
                return;
            }
            if (complete_ && !head_sent_) {
                fail(Failure::bad_response, "a protocol switch (101) the client did not ask for");
                return;
            }
            if (complete_) {
                // Bytes after the response are no response of ours: the connection is not
                // reused (HAProxy and nginx drop it too).
                finish(result.consumed == static_cast<std::size_t>(n));
                return;
            }
            if (draining_) {
                drained_ += static_cast<std::size_t>(n);
                if (drained_ > handler_.options().client_buffer_bytes) {
                    // Too much left to be worth a connection: a reconnect is cheaper.
                    abandon();
                    return;
                }
            }
            upstream_->arm_timer(handler_.context().now_ms() +
                                 handler_.options().response_timeout_ms);
            std::uint64_t limit = handler_.options().client_buffer_bytes;
            if (client_open_ && pending_.queued_bytes() > limit &&
                pending_.notify_drained(limit / 4)) {
                // The client reads slower than the server sends: stop reading the server until
                // it catches up, so the proxy holds at most about `limit` per client.
                response_paused_ = true;
                update_watch();
                if (upload_done()) upstream_->cancel_timer();
                return;
            }
            continue;
        }
        if (n == 0) {
            ParseResult result = parser_->on_eof(*this);
            if (result.error == ParseError::none && complete_) {
                finish(false);
                return;
            }
            fail(Failure::receive, "the server closed the connection before the response ended");
            return;
        }
        if (errno == EAGAIN || errno == EINTR) return;
        fail(Failure::receive, std::strerror(errno));
        return;
    }
}

void Exchange::on_upstream_timeout() {
    if (step_ == Step::connecting) {
        fail(Failure::connect_timeout, "connect timed out");
    } else {
        fail(Failure::response_timeout, "the server did not answer in time");
    }
}

void Exchange::on_head(const ResponseParser& parser) {
    server_error_ = parser.status() >= 500;
    if (draining_) {
        // Nobody to tell: the body is read to its end and dropped.
        release_request();
        head_sent_ = true;
        step_ = Step::body;
        return;
    }
    if (retries_status(parser.status())) {
        rejected_ = true;
        return;
    }
    http::Response& head = handler_.head_response();
    head.clear();
    head.set_status(parser.status());
    parser.append_forwarded_headers(head);
    if (handler_.options().sticky.enabled()) {
        // The server that answered, unless the client's cookie names it already (then the
        // cookie is right, and a new one would only cost bytes).
        std::size_t server = upstream_->server();
        if (static_cast<int>(server) != sticky_server_)
            head.add_header("Set-Cookie", handler_.sticky_set_cookie(server));
    }
    if (parser.status() == 101) {
        if (!upgrade_requested_) return;  // receive() sees no head sent: a bad response
        head_sent_ = true;
        step_ = Step::tunnel;
        // A tunnel lives as long as its two ends want; --total-timeout bounds requests.
        total_deadline_ms_ = 0;
        arm_deadline();
        release_request();
        pending_.upgrade(head, *this);
        return;
    }
    head_sent_ = true;
    step_ = Step::body;
    // Nothing will be sent again now.
    release_request();
    bool no_body_status = parser.status() == 204 || parser.status() == 304;
    if (parser.framing() == Framing::length ||
        (parser.framing() == Framing::none && (parser.has_content_length() || no_body_status))) {
        // Framing none: HEAD, 204, 304, whose head is the whole answer; a HEAD answer still
        // tells the length the GET would have (and 204/304 get none: Response knows).
        client_open_ = pending_.start_stream(head, parser.content_length());
    } else {
        // Chunked or close-delimited; or a HEAD answer whose GET would be chunked, which then
        // says so too.
        pending_.start_stream(head);
        client_open_ = method_ != http::Method::head;
    }
}

void Exchange::on_body(const char* data, std::size_t size) {
    if (client_open_ && !rejected_) pending_.write(std::string_view(data, size));
}

void Exchange::on_complete() {
    complete_ = true;
}

void Exchange::fail(Failure failure, std::string_view why) {
    std::size_t server = upstream_->server();
    bool reused = upstream_->uses() > 0;
    bool answered_any = parser_->got_any_byte();
    handler_.counters(server).failures.add();
    drop_upstream();
    if (draining_) {
        end();  // nobody is waiting for an answer
        return;
    }
    if (cut_if_started()) return;
    Pool& pool = handler_.pool();
    std::int64_t now = handler_.context().now_ms();
    const RetryPolicy& policy = handler_.options().retry;
    // A kept-alive connection the server closed as the request arrived is the stale case, no
    // sign of a failing server; everything else counts toward ejection.
    bool stale = (failure == Failure::send || failure == Failure::receive) && reused &&
                 !answered_any && !stale_retry_used_;
    if (!stale) count_failed_request(server);
    bool retry = false;
    // Retries of a request no server can have run (its connect failed, or a kept-alive
    // connection was found closed) add no load anywhere: the budget counts only the others.
    bool unrun = false;
    switch (failure) {
        case Failure::connect:
        case Failure::connect_timeout:
            // Nothing was sent: any request may go elsewhere.
            pool.mark_failed(server, now);
            mark_tried(server);
            retry = true;
            unrun = true;
            break;
        case Failure::send:
        case Failure::receive:
            if (reused && !answered_any && !stale_retry_used_) {
                // The server closed a kept-alive connection as the request arrived: it did not
                // run it. Once, on a fresh connection.
                stale_retry_used_ = true;
                force_fresh_ = true;
                retry = true;
                unrun = true;
            } else if (sent_ == 0 ||
                       (!answered_any && idempotent_ && (policy.on & RetryPolicy::kError))) {
                pool.mark_failed(server, now);
                mark_tried(server);
                retry = true;
            }
            break;
        case Failure::response_timeout:
            // No head yet (cut_if_started ended the exchange otherwise). The slow server is
            // not marked down: slowness is not the connect failure that passive health counts.
            if (idempotent_ && (policy.on & RetryPolicy::kTimeout)) {
                mark_tried(server);
                retry = true;
            }
            break;
        case Failure::bad_response:
            break;
    }
    // A body larger than --client-buffer is not all held any more: nothing can send it again.
    if (!replayable_) retry = false;
    // The stale-connection retry may go back to the same server; the others need one that
    // this request has not tried, and every retry needs room in the budget.
    if (retry && (force_fresh_ || untried_left()) && (unrun || admit_retry())) {
        failed_server_ = static_cast<int>(server);
        attempt();
        return;
    }
    answer_error(failure == Failure::response_timeout ? 504 : 502,
                 fmt::format("{}: {}", handler_.pool().server(server).name, why));
}

void Exchange::mark_tried(std::size_t server) {
    if (server < 64) tried_ |= std::uint64_t{1} << server;
}

bool Exchange::untried_left() const {
    std::size_t size = handler_.pool().size();
    std::uint64_t all = size >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << size) - 1;
    return (tried_ & all) != all;
}

bool Exchange::admit_retry() {
    if (holds_retry_) return true;  // one retry in flight, whichever attempt it is on
    holds_retry_ = handler_.retry_budget().try_acquire(handler_.exchanges());
    return holds_retry_;
}

bool Exchange::retries_status(int status) {
    if (!idempotent_ || !replayable_ || !handler_.options().retry.retries_status(status))
        return false;
    std::size_t server = upstream_->server();
    std::uint64_t before = tried_;
    mark_tried(server);
    // With no server left, or no room in the budget, the client gets this answer: what it
    // would have got without a retry.
    if (untried_left() && admit_retry()) return true;
    tried_ = before;
    return false;
}

void Exchange::retry_after_status(bool reusable) {
    rejected_ = false;
    // An answer, but one the operator counts as a failure (--retry-on 503...): the request
    // goes on from here.
    std::size_t server = upstream_->server();
    ServerCounters& counters = handler_.counters(server);
    counters.responses.add();
    counters.response_5xx.add();
    if (handler_.options().pool.eject_on_5xx) count_failed_request(server);
    failed_server_ = static_cast<int>(server);
    release_server();
    upstream_->cancel_timer();
    // A server that answered before the body was all sent has a request cut short on it.
    if (reusable && parser_->keep_alive() && upload_done()) {
        handler_.keep_idle(std::move(upstream_));
    } else {
        upstream_.reset();
    }
    attempt();
}

void Exchange::count_failed_request(std::size_t server) {
    Pool& pool = handler_.pool();
    // The streak as it stands with this failure (an ejection starts the next one at 0; one
    // held back by --max-ejected may be longer than --eject-after).
    std::uint32_t streak = pool.state(server).failed_requests + 1;
    if (!pool.record_failed_request(server, handler_.context().now_ms())) return;
    ServerCounters& counters = handler_.counters(server);
    counters.ejections.add();
    counters.ejected_until_ms.store(pool.state(server).ejected_until_ms, std::memory_order_relaxed);
    core::log(core::LogLevel::warn,
              "proxy: server {} is ejected for {} ms ({} failed requests in a row; ejection {})",
              pool.server(server).name, pool.ejection_ms(server), streak,
              pool.state(server).ejections);
}

void Exchange::drop_upstream() {
    release_server();
    upstream_.reset();
}

bool Exchange::cut_if_started() {
    if (!head_sent_) return false;
    // The client has part of the response: nothing can be retried or replaced, and a cut
    // connection is the only honest end (a complete-looking body would be a lie).
    if (client_open_) pending_.close();
    end();
    return true;
}

void Exchange::answer_error(int status, std::string_view why) {
    drop_upstream();
    if (draining_) {
        end();
        return;
    }
    if (cut_if_started()) return;
    // The operator's side of the story, as nginx's error log says "upstream prematurely closed
    // connection": which request the proxy answered itself, and why.
    core::log(core::LogLevel::warn, "proxy: answered {} after {} attempt(s): {}", status,
              attempts_, why);
    http::Response response;
    response.set_status(status);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    // Overload, not failure: the client may come back (HAProxy and nginx say 503 too).
    if (status == 503) response.add_header("Retry-After", "1");
    response.set_body(
        fmt::format("c10k proxy: {} {}: {}\n", status, http::reason_phrase(status), why));
    pending_.respond(response);
    end();
}

void Exchange::finish(bool reusable) {
    std::size_t server = upstream_->server();
    handler_.pool().mark_ok(server);
    ServerCounters& counters = handler_.counters(server);
    counters.responses.add();
    if (parser_->status() >= 500) counters.response_5xx.add();
    if (server_error_ && handler_.options().pool.eject_on_5xx) {
        count_failed_request(server);
    } else {
        handler_.pool().record_good_request(server);
    }
    release_server();
    upstream_->cancel_timer();
    if (client_open_) pending_.finish();
    if (reusable && parser_->keep_alive() && upload_done()) {
        handler_.keep_idle(std::move(upstream_));
    } else {
        upstream_.reset();
    }
    end();
}

void Exchange::on_pending_closed() {
    if (queued_) {
        handler_.unqueue(*this);
        queued_ = false;
    }
    // Nobody waits for the answer now: a drain is bounded by bytes and the response timeout.
    total_deadline_ms_ = 0;
    handler_.context().timers().cancel(*this);
    client_open_ = false;
    pending_ = http::Pending();
    if (upstream_ && !upgrade_requested_ && upload_done() &&
        (step_ == Step::waiting || step_ == Step::body)) {
        // The client left with the request sent: the rest of the response is read and dropped,
        // so that the connection can serve another request (as HAProxy does) instead of
        // costing a reconnect. Bounded by bytes (receive()) and by the response timeout; a
        // stopping loop ends it (ProxyHandler::on_loop_stop).
        draining_ = true;
        handler_.start_draining(*this);
        return;
    }
    // The connection to the backend is mid-request and cannot carry another one.
    release_server();
    upstream_.reset();
    end();
}

void Exchange::abandon() {
    drop_upstream();
    end();
}

void Exchange::on_pending_drained() {
    if (!upstream_) return;
    if (step_ == Step::tunnel) {
        // The backend is read again, and what the client sent meanwhile still goes to it.
        tunnel_paused_ = false;
        tunnel_flush();
        return;
    }
    response_paused_ = false;
    update_watch();
    upstream_->arm_timer(handler_.context().now_ms() + handler_.options().response_timeout_ms);
}

}  // namespace c10k::proxy

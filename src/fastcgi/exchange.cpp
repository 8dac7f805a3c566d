#include "fastcgi/exchange.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "cgi/answers.hpp"
#include "core/log.hpp"
#include "fastcgi/fastcgi_handler.hpp"
#include "fastcgi/protocol.hpp"
#include "http/response.hpp"
#include "http/session.hpp"

namespace c10k::fastcgi {

namespace {

std::string_view refusal(ProtocolStatus status) {
    switch (status) {
        case ProtocolStatus::cant_mpx_conn:
            return "cannot multiplex the connection";
        case ProtocolStatus::overloaded:
            return "is overloaded";
        case ProtocolStatus::unknown_role:
            return "does not take the RESPONDER role";
        default:
            return "refused the request";
    }
}

/// A held body is framed into out_ while less than this is waiting to be sent: one record's
/// worth, enough to keep the socket's buffer full without holding the body in memory.
constexpr std::size_t kHeldMark = 64 * 1024;

}  // namespace

Exchange::Exchange(Handler& handler, Pool& pool, std::string script, http::Method method,
                   std::vector<std::string> environment)
    : handler_(handler),
      pool_(pool),
      script_(std::move(script)),
      method_(method),
      environment_(std::move(environment)),
      parser_(kRequestId),
      head_(handler.options().max_head_bytes) {}

Exchange::~Exchange() {
    if (scheduled()) handler_.context().timers().cancel(*this);
}

void Exchange::begin(http::Pending pending, bool body_follows, bool hold_body) {
    pending_ = pending;
    if (body_follows && hold_body) {
        // Nothing goes to the application until the body is whole (body_held); meanwhile the
        // Session's body timeout, not --fastcgi-timeout, bounds a client that stalls.
        held_ = std::make_unique<BodyBuffer>(handler_.options().temp_directory);
        pending_.read_body(*this);  // may hold it all, and go on, from inside
        return;
    }
    out_ = encode_request_head(kRequestId, true, environment_);
    environment_ = {};
    deadline_ms_ = handler_.context().now_ms() + handler_.options().timeout_ms;
    if (body_follows) {
        pending_.read_body(*this);  // what arrived with the head is queued in out_ from inside
    } else {
        body_done_ = true;
        append_records(out_, RecordType::stdin_data, kRequestId, {});
        stdin_ended_ = true;
    }
    acquire(false);
}

void Exchange::body_held() {
    // The length PHP reads php://input and $_POST up to: without it, it reads nothing.
    environment_.push_back("CONTENT_LENGTH=" + std::to_string(held_->size()));
    request_head_ = encode_request_head(kRequestId, true, environment_);
    environment_ = {};
    out_ = request_head_;
    deadline_ms_ = handler_.context().now_ms() + handler_.options().timeout_ms;
    Connection idle;
    if (pool_.mode() == Pool::Mode::single && pool_.take_idle(idle)) {
        use(std::move(idle), true);
        return;
    }
    // The queue was looked at when the request came; the body may have taken long since.
    if (!pool_.may_open() && pool_.waiting() >= handler_.options().max_queue) {
        fail(503, "every FastCGI connection is busy and the queue is full");
        return;
    }
    acquire(true);  // no idle connection: opens one, or waits
}

bool Exchange::refill() {
    // Framed a record at a time as the connection takes them, so that only about kHeldMark of
    // the body is in memory however large its file.
    std::vector<char>& stage = handler_.stage_buffer();
    while (unsent() < kHeldMark && held_sent_ < held_->size()) {
        long long n = held_->read(held_sent_, stage.data(), stage.size());
        if (n <= 0) {
            fail(500, fmt::format("the request body could not be read back from its temporary "
                                  "file in {}: {}",
                                  held_->directory(), std::strerror(n < 0 ? -n : EIO)));
            return false;
        }
        append_records(out_, RecordType::stdin_data, request_id_,
                       std::string_view(stage.data(), static_cast<std::size_t>(n)));
        held_sent_ += static_cast<std::uint64_t>(n);
    }
    if (held_sent_ == held_->size() && !stdin_ended_) {
        append_records(out_, RecordType::stdin_data, request_id_, {});  // the end of STDIN
        stdin_ended_ = true;
    }
    return true;
}

// ---- a connection --------------------------------------------------------------------------

void Exchange::acquire(bool fresh_only) {
    if (pool_.mode() == Pool::Mode::unknown) pool_.probe();  // may answer at once
    if (pool_.mode() == Pool::Mode::probing) {
        wait_in_queue(deadline_ms_);  // the answer comes within Probe::kWaitMs
        return;
    }
    if (pool_.mode() == Pool::Mode::multiplexed) {
        acquire_multiplexed();
        return;
    }
    Connection connection;
    if (!fresh_only && pool_.take_idle(connection)) {
        use(std::move(connection), true);
        return;
    }
    if (pool_.may_open()) {
        open_connection();
        return;
    }
    wait_in_queue(handler_.context().now_ms() + handler_.options().queue_wait_ms);
}

void Exchange::wait_in_queue(std::int64_t until_ms) {
    step_ = Step::queued;
    pool_.wait(*this);
    handler_.context().timers().schedule(*this, std::min(until_ms, deadline_ms_));
}

void Exchange::acquire_multiplexed() {
    MuxConnection* connection = pool_.multiplexed_with_room();
    if (connection == nullptr && pool_.may_open()) {
        connection = pool_.open_multiplexed();
        if (connection == nullptr) {
            fail(502, fmt::format("the FastCGI application at {} is not reachable: {}",
                                  pool_.address().text, std::strerror(errno)));
            return;
        }
    }
    if (connection == nullptr) {
        wait_in_queue(handler_.context().now_ms() + handler_.options().queue_wait_ms);
        return;
    }
    multiplexed_ = connection;
    request_id_ = connection->attach(*this);
    // Framed before the id was known (as request 1): the records take theirs now.
    set_request_id(out_, request_id_);
    if (!request_head_.empty()) set_request_id(request_head_, request_id_);
    replayable_ = false;  // no retry on a shared connection
    step_ = Step::exchanging;
    handler_.context().timers().schedule(*this, deadline_ms_);
    write_out();
}

void Exchange::on_connection_free(Connection connection) {
    if (connection.fd) {
        use(std::move(connection), true);
    } else if (pool_.mode() == Pool::Mode::single) {
        open_connection();
    } else {
        acquire(false);
    }
}

void Exchange::on_pool_ready() {
    if (scheduled()) handler_.context().timers().cancel(*this);
    acquire(false);
}

void Exchange::open_connection() {
    auto fd = connect_to(pool_.address());
    if (!fd) {
        fail(502, fmt::format("the FastCGI application at {} is not reachable: {}",
                              pool_.address().text, std::strerror(fd.error())));
        return;
    }
    pool_.opened();
    connection_.fd = std::move(*fd);
    reused_ = false;
    step_ = Step::connecting;
    handler_.context().timers().schedule(*this, deadline_ms_);
    if (!update_watch()) fail(500, "the loop cannot watch the FastCGI connection");
}

void Exchange::use(Connection connection, bool reused) {
    connection_ = std::move(connection);
    // A connection still watched for its last holder: the first update_watch re-points it here,
    // whatever the events (kForeign never equals the events wanted).
    watched_ = connection_.watched ? kForeign : 0;
    reused_ = reused;
    step_ = Step::exchanging;
    handler_.context().timers().schedule(*this, deadline_ms_);
    write_out();
}

void Exchange::connected() {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(connection_.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
    }
    if (error != 0) {
        fail(502, fmt::format("the FastCGI application at {} is not reachable: {}",
                              pool_.address().text, std::strerror(error)));
        return;
    }
    step_ = Step::exchanging;
    write_out();
}

bool Exchange::update_watch() {
    std::uint32_t events = 0;
    if (step_ == Step::connecting) {
        events = http::DescriptorTask::writable;
    } else if (step_ == Step::exchanging) {
        if (!out_.empty()) events |= http::DescriptorTask::writable;
        if (!output_paused_) events |= http::DescriptorTask::readable;
    }
    if (!connection_.fd || events == watched_) return true;
    http::DescriptorWatcher* watcher = handler_.context().descriptors();
    if (watcher == nullptr) return false;
    if (events == 0 && watched_ == kForeign) {
        watcher->unwatch(connection_.fd.get());  // not yet re-pointed: nobody may hear of it
        watched_ = 0;
        return true;
    }
    if (events == 0) {
        watcher->unwatch(connection_.fd.get());
    } else if (!watcher->watch(connection_.fd.get(), events, *this)) {
        return false;
    }
    watched_ = events;
    return true;
}

void Exchange::on_ready(std::uint32_t events) {
    if (step_ == Step::connecting) {
        connected();
        return;
    }
    if ((events & http::DescriptorTask::writable) != 0 && !out_.empty()) {
        if (!write_out()) return;
    }
    if ((events & http::DescriptorTask::readable) != 0 && !output_paused_) read_in();
}

// ---- the request, to the application -------------------------------------------------------

void Exchange::on_request_body(const char* data, std::size_t size) {
    if (held_) {
        if (int error = held_->append(data, size); error != 0) {
            fail(500, fmt::format("the chunked request body could not be held in a temporary "
                                  "file in {} (--fastcgi-temp-dir): {}",
                                  held_->directory(), std::strerror(error)));
        }
        return;
    }
    if (stdin_ended_) return;
    append_records(out_, RecordType::stdin_data, request_id_, std::string_view(data, size));
    if (!body_paused_ && unsent() >= handler_.options().buffer_bytes) {
        body_paused_ = true;
        pending_.pause_body();
    }
    if (!in_write_) write_out();
}

void Exchange::on_request_body_end() {
    body_done_ = true;
    if (held_) {
        body_held();
        return;
    }
    if (!stdin_ended_) {
        append_records(out_, RecordType::stdin_data, request_id_, {});  // the end of STDIN
        stdin_ended_ = true;
    }
    if (!in_write_) write_out();
}

std::size_t Exchange::unsent() const {
    return out_.size() + (multiplexed_ != nullptr ? multiplexed_->queued(request_id_) : 0);
}

bool Exchange::write_multiplexed() {
    for (;;) {
        if (held_ && !refill()) return false;
        if (!out_.empty()) {
            // Whole records (as out_ always holds): the connection never splits them.
            std::string records = std::move(out_);
            out_.clear();
            multiplexed_->send(request_id_, records);  // a failure is reported later, by it
        }
        if (body_paused_ && unsent() < handler_.options().buffer_bytes / 2) {
            body_paused_ = false;
            in_write_ = true;
            pending_.resume_body();  // may hand over what it held: queued, sent just below
            in_write_ = false;
            if (!out_.empty()) continue;
        }
        // The connection may have taken all of it at once, before want_writable below could
        // ask to hear of it: a held body is framed on here, or it would wait for a call that
        // never comes.
        if (held_ && !stdin_ended_ && unsent() < kHeldMark) continue;
        break;
    }
    // Told when its queue goes down: to frame more of a held body, or to resume the client's.
    multiplexed_->want_writable(request_id_, (held_ && !stdin_ended_) || body_paused_);
    return true;
}

void Exchange::on_multiplexed_writable() {
    write_out();
}

bool Exchange::write_out() {
    if (step_ != Step::exchanging) return true;
    if (multiplexed_ != nullptr) return write_multiplexed();
    in_write_ = true;
    for (;;) {
        if (held_ && !refill()) return false;
        bool blocked = false;
        while (!out_.empty()) {
            ssize_t n = ::send(connection_.fd.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
            if (n > 0) {
                auto sent = static_cast<std::size_t>(n);
                if (reused_ && !answered_ && replayable_ && !held_) {
                    written_.append(out_, 0, sent);
                    if (written_.size() > handler_.options().buffer_bytes) {
                        replayable_ = false;  // too much to keep: no retry for this one
                        written_.clear();
                        written_.shrink_to_fit();
                    }
                }
                out_.erase(0, sent);
                if (held_ && !stdin_ended_ && out_.size() < kHeldMark) break;  // refill first
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                blocked = true;
                break;
            }
            in_write_ = false;
            connection_lost(std::strerror(errno));
            return false;
        }
        if (held_ && !stdin_ended_ && !blocked) continue;
        if (body_paused_ && out_.size() < handler_.options().buffer_bytes / 2) {
            body_paused_ = false;
            pending_.resume_body();  // may hand over what it held: queued, this loop sends it
            if (!out_.empty()) continue;
        }
        break;
    }
    in_write_ = false;
    if (!update_watch()) {
        fail(500, "the loop cannot watch the FastCGI connection");
        return false;
    }
    return true;
}

// ---- the application's records, to the client ----------------------------------------------

void Exchange::read_in() {
    std::vector<char>& buffer = handler_.read_buffer();
    for (;;) {
        ssize_t n = ::recv(connection_.fd.get(), buffer.data(), buffer.size(), 0);
        if (n > 0) {
            take_input(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            return;  // level-triggered: the next wake-up reads on
        }
        if (n == 0) {
            connection_lost("the application closed the connection");
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        connection_lost(std::strerror(errno));
        return;
    }
}

bool Exchange::take_input(std::string_view input) {
    if (!answered_) {
        answered_ = true;  // the request ran: it is not sent again
        written_.clear();
        written_.shrink_to_fit();
    }
    for (;;) {
        Piece piece = parser_.next(input);
        if (piece.kind == Piece::Kind::need_more) return true;
        if (piece.kind == Piece::Kind::error) {
            fail(502, "the application broke the FastCGI protocol: " + parser_.error());
            return false;
        }
        if (piece.kind == Piece::Kind::end_request) {
            request_ended(piece.protocol_status, !input.empty());
            return false;
        }
        if (!take_piece(piece)) return false;
    }
}

bool Exchange::on_multiplexed_piece(const Piece& piece) {
    answered_ = true;
    if (piece.kind == Piece::Kind::end_request) {
        request_ended(piece.protocol_status, false);
        return false;
    }
    return take_piece(piece);
}

bool Exchange::take_piece(const Piece& piece) {
    switch (piece.kind) {
        case Piece::Kind::stdout_data:
            return piece.bytes.empty() || take_stdout(piece.bytes);
        case Piece::Kind::stderr_data:
            take_stderr(piece.bytes);
            return true;
        default:
            return true;  // GET_VALUES_RESULT: asked by the probe only (probe.hpp), ignored
    }
}

bool Exchange::take_stdout(std::string_view bytes) {
    if (!head_done_) {
        std::size_t used = 0;
        cgi::OutputHead::State state = head_.feed(bytes.data(), bytes.size(), used);
        if (state == cgi::OutputHead::State::invalid) {
            fail(502, head_.error());
            return false;
        }
        if (state == cgi::OutputHead::State::more) return true;
        head_done_ = true;
        start_response();
        bytes.remove_prefix(used);
    }
    return bytes.empty() || write_body(bytes);
}

void Exchange::take_stderr(std::string_view bytes) {
    cgi::log_error_lines(stderr_line_, bytes, "fastcgi: " + script_);
}

void Exchange::start_response() {
    client_open_ = cgi::start_answer(head_, method_, pending_, remaining_);
}

bool Exchange::write_body(std::string_view bytes) {
    if (!client_open_) return true;  // read and dropped, so that the application can finish
    if (remaining_ >= 0) {
        if (static_cast<long long>(bytes.size()) > remaining_) {
            core::log(core::LogLevel::warn, "fastcgi: {} wrote more than its Content-Length",
                      script_);
            bytes = bytes.substr(0, static_cast<std::size_t>(remaining_));
        }
        remaining_ -= static_cast<long long>(bytes.size());
    }
    if (!bytes.empty()) pending_.write(bytes);
    std::uint64_t limit = handler_.options().buffer_bytes;
    if (multiplexed_ != nullptr) {
        // The connection is read for every request on it, so this one's output cannot be
        // paused: held up to a bound, then the request is aborted (its id answers the abort
        // with END_REQUEST, read and dropped) and its client cut.
        if (pending_.queued_bytes() <= kMultiplexedHold * limit) return true;
        fail(502, fmt::format("the client takes the response too slowly (over {} bytes held) "
                              "on a multiplexed connection: the request is aborted",
                              kMultiplexedHold * limit));
        return false;
    }
    if (!output_paused_ && pending_.queued_bytes() > limit && pending_.notify_drained(limit / 4)) {
        // The client reads slower than the application writes: the connection is not read,
        // its socket buffer fills, and the application waits in its write.
        output_paused_ = true;
        update_watch();
    }
    return true;
}

void Exchange::on_pending_drained() {
    output_paused_ = false;
    if (!update_watch()) fail(500, "the loop cannot watch the FastCGI connection");
}

void Exchange::request_ended(ProtocolStatus status, bool leftover) {
    ended_by_application_ = true;
    if (!stderr_line_.empty()) take_stderr("\n");
    if (status != ProtocolStatus::request_complete) {
        fail(status == ProtocolStatus::overloaded ? 503 : 502,
             fmt::format("the application {}", refusal(status)));
        return;
    }
    if (!head_done_) {
        fail(502, "the application ended the request without writing a head");
        return;
    }
    if (client_open_) {
        if (remaining_ > 0) {
            core::log(core::LogLevel::warn, "fastcgi: {} wrote less than its Content-Length",
                      script_);
            pending_.close();  // a short body must not pass for a whole one
        } else {
            pending_.finish();
        }
        client_open_ = false;
    }
    // Kept only when the request was all sent: STDIN records sent after the application ended
    // the request would be read as the start of the next one.
    end(stdin_ended_ && out_.empty() && !leftover);
}

void Exchange::connection_lost(std::string_view why) {
    if (reused_ && !answered_ && !retried_ && (replayable_ || held_)) {
        // A kept-alive connection the application had closed: the request did not run.
        core::log(core::LogLevel::info,
                  "fastcgi: {}: a kept-alive connection was closed ({}); "
                  "sending the request again on a new one",
                  script_, why);
        watch_off();
        connection_.fd.reset();
        pool_.closed();
        retried_ = true;
        if (held_) {
            // The whole request is at hand: sent again from its start, however large.
            out_ = request_head_;
            held_sent_ = 0;
            stdin_ended_ = false;
        } else {
            out_.insert(0, written_);
        }
        written_.clear();
        acquire(true);
        return;
    }
    if (!answered_) {
        fail(502, fmt::format("the application at {} closed the connection before answering "
                              "({})",
                              pool_.address().text, why));
    } else {
        fail(502, fmt::format("the connection broke before the response ended ({})", why));
    }
}

// ---- the end -------------------------------------------------------------------------------

void Exchange::on_timer() {
    if (step_ == Step::queued) {
        pool_.cancel(*this);
        fail(503, fmt::format("every connection to the FastCGI application at {} is busy "
                              "(--fastcgi-max-connections {}); try again",
                              pool_.address().text, handler_.options().max_connections));
        return;
    }
    fail(504, fmt::format("the FastCGI application at {} did not answer within "
                          "--fastcgi-timeout ({} ms)",
                          pool_.address().text, handler_.options().timeout_ms));
}

void Exchange::fail(int status, std::string_view why) {
    core::log(core::LogLevel::warn, "fastcgi: {}: {}", script_, why);
    if (head_done_) {
        // Part of the answer is out: a cut connection is the only honest end.
        if (client_open_) pending_.close();
    } else if (client_open_) {
        http::Response response;
        cgi::answer_error(response, "fastcgi", status, why);
        pending_.respond(response);
    }
    client_open_ = false;
    end(false);
}

void Exchange::on_multiplexed_lost(std::string_view why) {
    multiplexed_ = nullptr;  // holds no id any more
    connection_lost(why);
}

void Exchange::on_pending_closed() {
    // The client left (or the server stops). The connection is closed rather than sent an
    // ABORT_REQUEST: php-fpm reads no records while a script runs, so it would not see one
    // before the script ended anyway; the close makes the script's next write fail, and the
    // worker is free again at once. On a multiplexed connection, which others share, the
    // request is aborted instead (end() gives back its id with ABORT_REQUEST).
    client_open_ = false;
    pending_ = http::Pending();
    end(false);
}

void Exchange::watch_off() {
    if (connection_.fd && watched_ != 0 && handler_.context().descriptors() != nullptr) {
        handler_.context().descriptors()->unwatch(connection_.fd.get());
    }
    watched_ = 0;
}

void Exchange::end(bool reusable) {
    if (step_ == Step::queued) pool_.cancel(*this);
    if (client_open_) pending_.close();
    if (multiplexed_ != nullptr) {
        MuxConnection* connection = multiplexed_;
        multiplexed_ = nullptr;
        connection->release(request_id_, ended_by_application_);  // may start a waiter now
        delete this;
        return;
    }
    if (!reusable || !connection_.fd) watch_off();
    if (connection_.fd) {
        if (reusable) {
            // Still watched, and re-pointed at its next holder before this returns (a waiting
            // exchange, or the pool's idle watch): no event can reach this deleted exchange.
            connection_.watched = watched_ != 0;
            watched_ = 0;
            pool_.give_back(std::move(connection_));  // may start a waiting exchange now
        } else {
            connection_.fd.reset();
            pool_.closed();  // may start a waiting exchange now
        }
    }
    delete this;
}

}  // namespace c10k::fastcgi

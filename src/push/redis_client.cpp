#include "push/redis_client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace c10k::push {

namespace {

// Reads per readiness report: the watcher is level-triggered, so what is left is read on the
// next report, and one busy Redis connection cannot hold the loop from its clients.
constexpr int kReadsPerEvent = 8;
constexpr std::size_t kReadBytes = 64 * 1024;

}  // namespace

RedisClient::RedisClient(RedisAddress address, http::LoopContext& context,
                         RedisClientOptions options)
    : address_(std::move(address)),
      context_(context),
      options_(options),
      random_(static_cast<std::uint32_t>(std::random_device{}())) {}

RedisClient::~RedisClient() {
    // The loop may be gone by now: close without unwatching (as GroupMember does).
    if (connection_) connection_->fail("the client is going away");
}

void RedisClient::start() {
    stopped_ = false;
    attempt_ = 0;
    connect();
}

void RedisClient::stop() {
    stopped_ = true;
    if (fd_ && context_.descriptors() != nullptr) context_.descriptors()->unwatch(fd_.get());
    fd_.reset();
    ready_ = false;
    connecting_ = false;
    if (connection_) {
        std::unique_ptr<RedisConnection> old = std::move(connection_);
        old->fail("the client stopped");
    }
}

void RedisClient::on_tick() {
    if (stopped_) return;
    std::int64_t now = context_.now_ms();
    if (!fd_) {
        if (now >= next_attempt_ms_) connect();
        return;
    }
    if (ready_) {
        check_progress(now);
        return;
    }
    if (options_.connect_timeout_ms > 0 &&
        now - attempt_started_ms_ >= static_cast<std::int64_t>(options_.connect_timeout_ms)) {
        lose(fmt::format("Redis at {}:{} did not complete the connection within {} ms",
                         address_.host, address_.port, options_.connect_timeout_ms));
    }
}

void RedisClient::check_progress(std::int64_t now_ms) {
    std::size_t pending = connection_->pending();
    std::uint64_t received = connection_->received();
    // The clock restarts on any reply or push, and when commands begin to wait on a connection
    // that had none waiting (it is sampled here, so it starts up to a tick late, never early).
    if (received != received_seen_ || (pending > 0 && !was_pending_)) {
        received_seen_ = received;
        progress_ms_ = now_ms;
    }
    was_pending_ = pending > 0;
    std::int64_t quiet_ms = now_ms - progress_ms_;
    if (pending > 0) {
        if (options_.reply_timeout_ms > 0 &&
            quiet_ms >= static_cast<std::int64_t>(options_.reply_timeout_ms)) {
            lose(fmt::format("Redis at {}:{} did not answer for {} ms ({} command{} pending)",
                             address_.host, address_.port, options_.reply_timeout_ms, pending,
                             pending == 1 ? "" : "s"));
        }
        return;
    }
    if (options_.keepalive_ms > 0 && quiet_ms >= static_cast<std::int64_t>(options_.keepalive_ms)) {
        send_keepalive(now_ms);
    }
}

void RedisClient::send_keepalive(std::int64_t now_ms) {
    // A subscribed connection is answered ["pong", ""] (RESP2 subscribe mode), any other +PONG.
    // The answer only matters as progress; an error reply is progress too, and is left to the
    // commands that follow to report.
    bool queued = connection_->command({"PING"}, [this](const RedisReply& reply) {
        bool pong = (reply.type == RedisReply::Type::status && reply.text == "PONG") ||
                    (reply.type == RedisReply::Type::array && !reply.elements.empty() &&
                     reply.elements[0].text == "pong");
        if (pong) ++keepalives_answered_;
    });
    if (queued) {
        was_pending_ = true;
        progress_ms_ = now_ms;
    }
    flush();
}

void RedisClient::connect() {
    // The address is resolved here, on the loop: an operator gives an IP address or a name in
    // /etc/hosts for a backplane, and a name that needs DNS stalls this loop only while
    // connecting.
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(address_.port);
    if (int rc = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        lose(std::string("cannot resolve ") + address_.host + ": " + ::gai_strerror(rc));
        return;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    core::unique_fd fd(
        ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd) {
        lose(std::string("cannot open a socket: ") + std::strerror(errno));
        return;
    }
    // Commands are small and pipelined: Nagle would hold each batch for the previous reply.
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
        lose(std::string("cannot connect: ") + std::strerror(errno));
        return;
    }
    fd_ = std::move(fd);
    connection_ = std::make_unique<RedisConnection>(options_.limits);
    attempt_started_ms_ = context_.now_ms();
    connecting_ = true;
    ready_ = false;
    watched_ = 0;
    if (!watch(writable)) lose(watch_failure());
}

bool RedisClient::watch(std::uint32_t events) {
    if (events == watched_) return true;
    if (context_.descriptors() == nullptr ||
        !context_.descriptors()->watch(fd_.get(), events, *this)) {
        return false;
    }
    watched_ = events;
    return true;
}

std::string RedisClient::watch_failure() const {
    // Without a watcher errno is whatever the last call left (EINPROGRESS from connect()).
    if (context_.descriptors() == nullptr) return "this engine cannot watch the socket";
    return std::string("cannot watch the socket: ") + std::strerror(errno);
}

void RedisClient::on_ready(std::uint32_t events) {
    if (!fd_) return;
    if (connecting_) {
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            lose(std::string("cannot connect: ") + std::strerror(error));
            return;
        }
        connecting_ = false;
        handshake();
        return;
    }
    if ((events & readable) != 0) {
        read();
        if (!fd_) return;
    }
    flush();
}

void RedisClient::handshake() {
    // AUTH and SELECT are the first commands: what the owner queues goes behind them.
    auto check = [this](const char* what) {
        return [this, what](const RedisReply& reply) {
            if (reply.is_error() && handshake_error_.empty()) {
                handshake_error_ = std::string(what) + " refused: " + reply.text;
            }
        };
    };
    if (!address_.password.empty()) {
        connection_->command({"AUTH", address_.password}, check("AUTH"));
    }
    std::string database = std::to_string(address_.database);
    if (address_.database != 0) connection_->command({"SELECT", database}, check("SELECT"));
    // PING last: its answer says the handshake is over, whether or not there was any. Only
    // +PONG will do: a server whose answer parses as RESP but is not PONG (a nil, an +OK to
    // everything) is not a Redis to trust with commands.
    connection_->command({"PING"}, [this](const RedisReply& reply) {
        if (!handshake_error_.empty() || reply.type == RedisReply::Type::failed) return;
        if (reply.is_error()) {
            handshake_error_ = "PING refused: " + reply.text;
            return;
        }
        if (reply.type != RedisReply::Type::status || reply.text != "PONG") {
            handshake_error_ = "protocol error: PING was not answered PONG";
            return;
        }
        ready_ = true;
        attempt_ = 0;
        received_seen_ = connection_->received();
        progress_ms_ = context_.now_ms();
        was_pending_ = false;
        core::log(core::LogLevel::info, "redis: connected to {}:{}", address_.host, address_.port);
        if (on_ready_) on_ready_();
    });
    flush();
}

void RedisClient::read() {
    char buffer[kReadBytes];
    for (int i = 0; i < kReadsPerEvent; ++i) {
        ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
            bool fed = connection_->feed(std::string_view(buffer, static_cast<std::size_t>(n)));
            // A handshake refusal is acted on here, after feed() returned, never inside it.
            if (!handshake_error_.empty()) {
                lose(handshake_error_);
                return;
            }
            if (!fed) {
                lose(connection_->failure());
                return;
            }
            if (static_cast<std::size_t>(n) < sizeof buffer) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        lose(n == 0 ? "the server closed the connection" : std::strerror(errno));
        return;
    }
}

void RedisClient::flush() {
    if (!fd_ || connecting_ || !connection_) return;
    if (connection_->failed()) {
        lose(connection_->failure());
        return;
    }
    while (!connection_->output().empty()) {
        std::string_view out = connection_->output();
        ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            connection_->consume_output(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        lose(std::strerror(errno));
        return;
    }
    std::uint32_t events = connection_->output().empty() ? readable : readable | writable;
    if (!watch(events)) lose(watch_failure());
}

void RedisClient::lose(std::string_view why) {
    // Every reason says it is about Redis, once.
    std::string reason(why);
    if (!reason.starts_with("redis: ") && !reason.starts_with("Redis at ")) {
        reason.insert(0, "redis: ");
    }
    if (fd_ && context_.descriptors() != nullptr) context_.descriptors()->unwatch(fd_.get());
    fd_.reset();
    watched_ = 0;
    bool was_ready = ready_;
    ready_ = false;
    connecting_ = false;
    handshake_error_.clear();
    std::uint64_t delay = reconnect_delay_ms(attempt_, options_.reconnect_base_ms,
                                             options_.reconnect_cap_ms, random_());
    ++attempt_;
    next_attempt_ms_ = context_.now_ms() + static_cast<std::int64_t>(delay);
    if (was_ready || log_.allow(context_.now_ms())) {
        if (reason.starts_with("Redis at ")) {
            core::log(core::LogLevel::warn, "{}; connecting again in {} ms", reason, delay);
        } else {
            core::log(core::LogLevel::warn, "{} ({}:{}); connecting again in {} ms", reason,
                      address_.host, address_.port, delay);
        }
    }
    // Pending commands are told last, when this client is already in its lost state, so that
    // their callbacks see ready() false.
    if (connection_) {
        std::unique_ptr<RedisConnection> old = std::move(connection_);
        old->fail(reason);
    }
    if (on_lost_) on_lost_(reason);
}

}  // namespace c10k::push

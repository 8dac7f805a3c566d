#include "proxy/tcp/tcp_loop.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/net.hpp"
#include "core/proxy_protocol.hpp"

namespace c10k::proxy::tcp {

namespace {

/// How long accepting pauses after EMFILE/ENFILE: the listener stays readable while the
/// queue holds clients, so retrying at once would spin. Relays closing meanwhile free
/// descriptors; the queued clients wait (or time out) rather than being accepted and dropped.
constexpr std::int64_t kAcceptPauseMs = 100;
/// Clients accepted per readiness of a listener before the loop turns to its relays.
constexpr int kAcceptBatch = 64;
constexpr int kMaxEvents = 256;

constexpr std::uint32_t kRelayEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

struct TcpLoop::Watch {
    enum class Kind : std::uint8_t { listener, stop, checks, client, server };
    Kind kind;
    int fd = -1;
    Relay* relay = nullptr;
};

/// A timer node that knows its relay.
struct RelayTimer : core::TimerNode {
    void* relay = nullptr;
};

struct TcpLoop::Relay {
    core::unique_fd client;
    core::unique_fd server;
    Watch client_watch{Watch::Kind::client};
    Watch server_watch{Watch::Kind::server};
    std::string key;  ///< source_hash: the client's address
    int index = -1;   ///< the server picked, while connecting or connected
    std::uint64_t tried = 0;
    bool connected = false;
    bool closed = false;
    bool budgeted = false;  ///< holds one of --max-connections
    /// The PROXY header still to be written to the server before any of the client's bytes.
    std::string preamble;
    std::size_t preamble_sent = 0;
    std::int64_t last_active_ms = 0;
    std::uint64_t seen_up = 0;  ///< bytes moved at the last pump (activity for the idle timeout)
    std::uint64_t seen_down = 0;
    Direction up{-1, -1};    ///< client to server
    Direction down{-1, -1};  ///< server to client
    RelayTimer timer;
    std::list<std::unique_ptr<Relay>>::iterator self;
};

TcpLoop::TcpLoop(const TcpProxyOptions& options, std::vector<core::unique_fd> listeners,
                 int stop_fd, std::int64_t grace_ms, engine::Heartbeat* heartbeat,
                 const TcpShared& shared, bool runs_checks)
    : options_(options),
      pool_(options_.pool, shared.health),
      shared_(shared),
      counters_(shared.board->claim()),
      listeners_(std::move(listeners)),
      stop_fd_(stop_fd),
      grace_ms_(grace_ms),
      heartbeat_(heartbeat),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      timers_(core::monotonic_ms()) {
    if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    for (auto& listener : listeners_) {
        listener_watches_.push_back(
            std::make_unique<Watch>(Watch{Watch::Kind::listener, listener.get(), nullptr}));
    }
    if (runs_checks && shared_.health != nullptr &&
        options_.pool.health.kind != HealthCheck::Kind::off) {
        checks_ = std::make_unique<CheckHost>(options_.pool, *shared_.health);
    }
}

TcpLoop::~TcpLoop() {
    checks_.reset();
    shared_.board->release(counters_);
}

void TcpLoop::publish_health() {
    std::uint64_t up = 0;
    for (std::size_t i = 0; i < pool_.size() && i < 64; ++i) {
        if (shared_.health->up(i)) up |= std::uint64_t{1} << i;
    }
    if (up == published_up_) return;
    published_up_ = up;
    shared_.board->set_health(up);
}

void TcpLoop::watch_listeners(bool on) {
    if (on == accepting_) return;
    accepting_ = on;
    for (auto& watch : listener_watches_) {
        if (watch->fd < 0) continue;
        // Level-triggered: a batch limit may leave clients queued, and the next wait returns
        // for them.
        epoll_event event{EPOLLIN, {.ptr = watch.get()}};
        ::epoll_ctl(epoll_.get(), on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, watch->fd, &event);
    }
}

int TcpLoop::run() {
    now_ms_ = core::monotonic_ms();
    Watch stop_watch{Watch::Kind::stop, stop_fd_, nullptr};
    epoll_event stop_event{EPOLLIN, {.ptr = &stop_watch}};
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_fd_, &stop_event);
    Watch checks_watch{Watch::Kind::checks, -1, nullptr};
    if (checks_) {
        // Level-triggered: the host serves a batch of its sockets' events per readiness.
        checks_watch.fd = checks_->fd();
        epoll_event checks_event{EPOLLIN, {.ptr = &checks_watch}};
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, checks_watch.fd, &checks_event);
        publish_health();
    }
    watch_listeners(true);
    epoll_event events[kMaxEvents];
    for (;;) {
        if (stopping_ && (relays_.empty() || now_ms_ >= stop_deadline_ms_)) break;
        if (heartbeat_) heartbeat_->tick(now_ms_);
        std::int64_t timeout = timers_.next_timeout_ms(now_ms_);
        auto sooner = [&](std::int64_t at) {
            std::int64_t wait = std::max<std::int64_t>(at - now_ms_, 0);
            timeout = timeout < 0 ? wait : std::min(timeout, wait);
        };
        if (resume_accepting_ms_ > 0) sooner(resume_accepting_ms_);
        if (stopping_) sooner(stop_deadline_ms_);
        if (heartbeat_ && heartbeat_->beats()) sooner(now_ms_ + heartbeat_->until_next(now_ms_));
        if (checks_) {
            std::int64_t wait = checks_->next_timeout_ms();
            if (wait >= 0) sooner(now_ms_ + wait);
        }
        int count = ::epoll_wait(epoll_.get(), events, kMaxEvents,
                                 static_cast<int>(std::min<std::int64_t>(timeout, 60'000)));
        if (count < 0 && errno != EINTR) {
            core::log(core::LogLevel::error, "tcp relay: epoll_wait: {}", std::strerror(errno));
            return 1;
        }
        now_ms_ = core::monotonic_ms();
        for (int i = 0; i < count; ++i) {
            auto* watch = static_cast<Watch*>(events[i].data.ptr);
            switch (watch->kind) {
                case Watch::Kind::stop:
                    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stop_fd_, nullptr);
                    begin_stop();
                    break;
                case Watch::Kind::checks:
                    checks_->on_ready();
                    break;
                case Watch::Kind::listener:
                    if (accepting_) accept_from(watch->fd);
                    break;
                case Watch::Kind::server:
                    if (!watch->relay->closed && !watch->relay->connected) {
                        connect_finished(*watch->relay);
                        break;
                    }
                    [[fallthrough]];
                case Watch::Kind::client:
                    if (!watch->relay->closed && watch->relay->connected) pump(*watch->relay);
                    break;
            }
        }
        closed_.clear();
        timers_.advance(now_ms_, [this](core::TimerNode& node) { on_timer(node); });
        closed_.clear();
        if (checks_) {
            checks_->run_timers();
            publish_health();
        }
        if (resume_accepting_ms_ > 0 && now_ms_ >= resume_accepting_ms_ && !stopping_) {
            resume_accepting_ms_ = 0;
            watch_listeners(true);
        }
    }
    while (!relays_.empty()) close(*relays_.front());
    closed_.clear();
    return 0;
}

void TcpLoop::begin_stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_deadline_ms_ = now_ms_ + grace_ms_;
    watch_listeners(false);
    resume_accepting_ms_ = 0;
    // New clients are refused at once rather than queued on a loop that will not accept them.
    for (auto& watch : listener_watches_) watch->fd = -1;
    listeners_.clear();
    if (heartbeat_) heartbeat_->stop_seen();
}

void TcpLoop::pause_accepting() {
    if (resume_accepting_ms_ == 0) {
        core::log(core::LogLevel::warn,
                  "tcp relay: out of descriptors ({}); accepting again in {} ms (raise ulimit -n "
                  "or use --processes)",
                  std::strerror(errno), kAcceptPauseMs);
    }
    watch_listeners(false);
    resume_accepting_ms_ = now_ms_ + kAcceptPauseMs;
}

void TcpLoop::accept_from(int listener) {
    for (int i = 0; i < kAcceptBatch; ++i) {
        core::unique_fd client(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!client) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                pause_accepting();
            }
            return;
        }
        // Over the cap the client is closed at once rather than left in the listener's queue:
        // it learns now (and may try another address) instead of after a SYN timeout, and the
        // loop need not stop watching a listener that stays readable.
        if (!shared_.budget->try_acquire()) {
            counters_.pool->over_capacity.add();
            continue;  // `client` closes
        }
        auto owned = std::make_unique<Relay>();
        Relay& relay = *owned;
        relay.budgeted = true;
        relay.client = std::move(client);
        relay.client_watch.fd = relay.client.get();
        relay.client_watch.relay = &relay;
        relay.server_watch.relay = &relay;
        relay.timer.relay = &relay;
        relay.last_active_ms = now_ms_;
        if (options_.pool.balance == Balance::source_hash) {
            relay.key = core::peer_address(relay.client.get());
        }
        relays_.push_front(std::move(owned));
        relay.self = relays_.begin();
        // Watched from the start, edge-triggered: bytes the client sends while the server is
        // being connected wait in its socket and are pumped once the connect completes.
        epoll_event event{kRelayEvents, {.ptr = &relay.client_watch}};
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, relay.client.get(), &event) != 0 ||
            !connect_next(relay)) {
            close(relay);
            if (errno == EMFILE || errno == ENFILE) {
                pause_accepting();
                return;
            }
        }
    }
}

bool TcpLoop::connect_next(Relay& relay) {
    for (;;) {
        int index = pool_.pick(now_ms_, relay.tried, relay.key);
        if (index < 0) {
            // Every server is DOWN by the checks, or failed for this client already.
            counters_.pool->unavailable.add();
            errno = 0;
            return false;
        }
        auto server = static_cast<std::size_t>(index);
        relay.tried |= std::uint64_t{1} << server;
        const core::Endpoint& address = pool_.server(server).address;
        core::unique_fd fd(
            ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd) return false;  // out of descriptors: no server is to blame
        int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.address),
                           address.length);
        if (rc != 0 && errno != EINPROGRESS) {
            pool_.mark_failed(server, now_ms_);
            counters_.servers[server].connect_failures.add();
            continue;
        }
        relay.server = std::move(fd);
        relay.server_watch.fd = relay.server.get();
        relay.index = index;
        // Open relays are least connections' "outstanding".
        ++pool_.state(server).outstanding;
        ++pool_.state(server).connections;
        epoll_event event{kRelayEvents, {.ptr = &relay.server_watch}};
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, relay.server.get(), &event);
        timers_.schedule(relay.timer, now_ms_ + options_.connect_timeout_ms);
        return true;
    }
}

void TcpLoop::connect_finished(Relay& relay) {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(relay.server.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
    }
    if (error == 0) {
        // Writable without an error is connected, but an EPOLLIN or RDHUP edge alone is not:
        // check that the peer's address is there.
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;
        if (::getpeername(relay.server.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length) !=
            0) {
            if (errno == ENOTCONN) return;  // still connecting
            error = errno;
        }
    }
    if (error != 0) {
        connect_failed(relay);
        return;
    }
    auto server = static_cast<std::size_t>(relay.index);
    relay.connected = true;
    pool_.mark_ok(server);
    counters_.servers[server].connects.add();
    std::uint8_t proxy_version = pool_.server(server).proxy_protocol;
    if (proxy_version != 0) {
        // The client's address and the one it connected to, as this relay's sockets see them.
        sockaddr_storage source{};
        sockaddr_storage destination{};
        socklen_t source_length = sizeof source;
        socklen_t destination_length = sizeof destination;
        if (::getpeername(relay.client.get(), reinterpret_cast<sockaddr*>(&source),
                          &source_length) != 0 ||
            ::getsockname(relay.client.get(), reinterpret_cast<sockaddr*>(&destination),
                          &destination_length) != 0) {
            // The client left already; the header then says UNKNOWN (LOCAL in version 2).
            source.ss_family = AF_UNSPEC;
            destination.ss_family = AF_UNSPEC;
        }
        if (proxy_version == 2) {
            core::append_proxy_v2(source, destination, relay.preamble);
        } else {
            core::append_proxy_v1(source, destination, relay.preamble);
        }
    }
    core::set_no_delay(relay.client.get());
    core::set_no_delay(relay.server.get());
    relay.up = Direction(relay.client.get(), relay.server.get(),
                         &counters_.servers[server].bytes_to_server);
    relay.down = Direction(relay.server.get(), relay.client.get(),
                           &counters_.servers[server].bytes_to_client);
    relay.last_active_ms = now_ms_;
    timers_.schedule(relay.timer, now_ms_ + options_.idle_timeout_ms);
    pump(relay);
}

void TcpLoop::connect_failed(Relay& relay) {
    auto server = static_cast<std::size_t>(relay.index);
    pool_.mark_failed(server, now_ms_);
    counters_.servers[server].connect_failures.add();
    --pool_.state(server).outstanding;
    --pool_.state(server).connections;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, relay.server.get(), nullptr);
    relay.server.reset();
    relay.server_watch.fd = -1;
    relay.index = -1;
    timers_.cancel(relay.timer);
    if (!connect_next(relay)) close(relay);
}

bool TcpLoop::send_proxy_header(Relay& relay) {
    while (relay.preamble_sent < relay.preamble.size()) {
        ssize_t n = ::send(relay.server.get(), relay.preamble.data() + relay.preamble_sent,
                           relay.preamble.size() - relay.preamble_sent, MSG_NOSIGNAL);
        if (n > 0) {
            relay.preamble_sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        // A fresh connection's send buffer takes the header (at most 107 bytes in v1, 52 in
        // v2 as written here) at once; should it not, the server's EPOLLOUT edge comes back.
        if (n < 0 && errno == EAGAIN) return false;
        close(relay);
        return false;
    }
    relay.preamble = std::string();
    relay.preamble_sent = 0;
    return true;
}

void TcpLoop::pump(Relay& relay) {
    // Nothing of the client's goes before the whole header.
    if (!relay.preamble.empty() && !send_proxy_header(relay)) return;
    Direction::Outcome up = relay.up.pump(pipes_);
    Direction::Outcome down = relay.down.pump(pipes_);
    if (relay.up.moved() != relay.seen_up || relay.down.moved() != relay.seen_down) {
        relay.seen_up = relay.up.moved();
        relay.seen_down = relay.down.moved();
        relay.last_active_ms = now_ms_;
    }
    if (up == Direction::Outcome::failed || down == Direction::Outcome::failed ||
        (relay.up.done() && relay.down.done())) {
        close(relay);
    }
}

void TcpLoop::on_timer(core::TimerNode& node) {
    Relay& relay = *static_cast<Relay*>(static_cast<RelayTimer&>(node).relay);
    if (relay.closed) return;
    if (!relay.connected) {
        connect_failed(relay);  // timed out: the next server
        return;
    }
    std::int64_t idle_until = relay.last_active_ms + options_.idle_timeout_ms;
    if (now_ms_ < idle_until) {
        timers_.schedule(relay.timer, idle_until);
        return;
    }
    close(relay);
}

void TcpLoop::close(Relay& relay) {
    if (relay.closed) return;
    relay.closed = true;
    timers_.cancel(relay.timer);
    relay.up.release(pipes_);
    relay.down.release(pipes_);
    if (relay.index >= 0) {
        ServerState& state = pool_.state(static_cast<std::size_t>(relay.index));
        --state.outstanding;
        --state.connections;
        if (relay.connected) counters_.servers[static_cast<std::size_t>(relay.index)].closes.add();
    }
    if (relay.budgeted) shared_.budget->release();
    // Closing a descriptor takes it out of the epoll set.
    relay.server.reset();
    relay.client.reset();
    // Events of this batch may still point at it: freed once the batch is done.
    closed_.push_back(std::move(*relay.self));
    relays_.erase(relay.self);
}

}  // namespace c10k::proxy::tcp

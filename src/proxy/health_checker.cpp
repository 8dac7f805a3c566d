#include "proxy/health_checker.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include <fmt/core.h>

#include "core/log.hpp"
#include "core/proxy_protocol.hpp"
#include "core/unique_fd.hpp"
#include "proxy/upstream.hpp"

namespace c10k::proxy {

namespace {

/// An answer's status line is short; more than this without one is not HTTP.
constexpr std::size_t kMaxStatusLine = 1024;

/// The status of "HTTP/1.x NNN ...", 0 while the line is incomplete, -1 when it is not one.
int status_of(const std::string& received) {
    std::size_t end = received.find("\r\n");
    if (end == std::string::npos) return received.size() > kMaxStatusLine ? -1 : 0;
    std::string_view line(received.data(), end);
    if (!line.starts_with("HTTP/1.") || line.size() < 12 || line[8] != ' ') return -1;
    int status = 0;
    auto [stop, error] = std::from_chars(line.data() + 9, line.data() + 12, status);
    if (error != std::errc{} || stop != line.data() + 12 || status < 100) return -1;
    return status;
}

}  // namespace

/// One server's check: a connection while a check is in flight, and one timer that is the
/// check's timeout while it is in flight and the next check's start between checks.
class HealthChecker::Probe final : public http::DescriptorTask, public http::TimerTask {
public:
    Probe(http::LoopContext& context, const ServerSpec& server, std::size_t index,
          const HealthCheck& check, HealthBoard& board, ServerCounters* counters)
        : context_(context),
          server_(server),
          index_(index),
          check_(check),
          board_(board),
          counters_(counters != nullptr ? *counters : own_counters_) {
        counters_.health.store(kCheckedUp, std::memory_order_relaxed);
        if (check_.kind == HealthCheck::Kind::http) {
            if (server_.proxy_protocol != 0) {
                // A server that wants a PROXY header refuses a request without one: a check
                // has no client to name, so it says so (v1 UNKNOWN, v2 LOCAL: the
                // specification's way for a proxy's own connections, HAProxy's
                // check-send-proxy).
                sockaddr_storage none{};
                none.ss_family = AF_UNSPEC;
                if (server_.proxy_protocol == 2) {
                    core::append_proxy_v2(none, none, request_);
                } else {
                    core::append_proxy_v1(none, none, request_);
                }
            }
            request_ += fmt::format(
                "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: c10k-health-check\r\n"
                "Connection: close\r\n\r\n",
                check_.path, server_.name);
        }
    }

    ~Probe() {
        close();
        if (scheduled()) context_.timers().cancel(*this);
        // The slot may pass to a loop that does not check: it must not inherit this view.
        counters_.health.store(kUnchecked, std::memory_order_relaxed);
    }

    void start() {
        started_ms_ = context_.now_ms();
        auto fd = Upstream::connect_to(server_.address);
        if (!fd) {
            done(false, std::strerror(fd.error()));
            return;
        }
        fd_ = std::move(*fd);
        sent_ = 0;
        received_.clear();
        connecting_ = true;
        if (!watch(http::DescriptorTask::writable)) {
            done(false, "the loop cannot watch the connection");
            return;
        }
        context_.timers().schedule(*this, started_ms_ + check_.timeout_ms);
    }

    void on_timer() override {
        if (fd_) {
            done(false, "timed out");
            return;
        }
        start();
    }

    void on_ready(std::uint32_t) override {
        if (connecting_) {
            int error = 0;
            socklen_t length = sizeof error;
            if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
            if (error != 0) {
                done(false, std::strerror(error));
                return;
            }
            connecting_ = false;
            if (check_.kind == HealthCheck::Kind::tcp) {
                done(true, "connected");
                return;
            }
        }
        if (sent_ < request_.size()) {
            send();
            return;
        }
        receive();
    }

private:
    bool watch(std::uint32_t events) {
        http::DescriptorWatcher* watcher = context_.descriptors();
        if (watcher == nullptr || !watcher->watch(fd_.get(), events, *this)) return false;
        watched_ = true;
        return true;
    }

    void close() {
        if (watched_ && context_.descriptors() != nullptr) {
            context_.descriptors()->unwatch(fd_.get());
        }
        watched_ = false;
        fd_.reset();
    }

    void send() {
        ssize_t n =
            ::send(fd_.get(), request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) {
            done(false, std::strerror(errno));
            return;
        }
        sent_ += static_cast<std::size_t>(n);
        if (sent_ == request_.size() && !watch(http::DescriptorTask::readable)) {
            done(false, "the loop cannot watch the connection");
        }
    }

    void receive() {
        char buffer[512];
        ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n < 0) {
            done(false, std::strerror(errno));
            return;
        }
        if (n == 0) {
            done(false, "the server closed the connection before answering");
            return;
        }
        received_.append(buffer, static_cast<std::size_t>(n));
        int status = status_of(received_);
        if (status == 0) return;
        if (status < 0) {
            done(false, "the answer is not HTTP");
            return;
        }
        done(check_.expect.contains(status), fmt::format("status {}", status));
    }

    /// The check is over: the connection goes, the result counts, the next check is timed
    /// from this one's start so that checks keep their interval whatever they took.
    void done(bool passed, std::string_view why) {
        close();
        if (passed) {
            counters_.checks_passed.add();
        } else {
            board_.count_failed_check(index_);
            counters_.checks_failed.add();
        }
        if (streak_.record(passed, check_.rise, check_.fall)) report(why);
        std::int64_t next = started_ms_ + check_.interval_ms;
        context_.timers().schedule(*this, std::max(next, context_.now_ms()));
    }

    void report(std::string_view why) {
        const char* kind = check_.kind == HealthCheck::Kind::http ? "http" : "tcp";
        if (streak_.up) {
            board_.set_up(index_, context_.now_ms());
            counters_.health.store(kCheckedUp, std::memory_order_relaxed);
            counters_.came_up.add();
            core::log(core::LogLevel::info, "proxy: server {} is up ({} check: {} passes in a row)",
                      server_.name, kind, streak_.passes);
        } else {
            board_.set_down(index_);
            counters_.health.store(kCheckedDown, std::memory_order_relaxed);
            counters_.went_down.add();
            core::log(core::LogLevel::warn,
                      "proxy: server {} is down ({} check: {}; {} failures in a row)", server_.name,
                      kind, why, streak_.failures);
        }
    }

    http::LoopContext& context_;
    const ServerSpec& server_;
    std::size_t index_;
    const HealthCheck& check_;
    HealthBoard& board_;
    /// Where a checker without a counters board (the layer-4 relay's, which keeps its own)
    /// counts: written, never read.
    ServerCounters own_counters_;
    ServerCounters& counters_;
    HealthStreak streak_;
    std::string request_;
    std::string received_;
    core::unique_fd fd_;
    std::size_t sent_ = 0;
    std::int64_t started_ms_ = 0;
    bool connecting_ = false;
    bool watched_ = false;
};

HealthChecker::HealthChecker(http::LoopContext& context, const PoolSpec& pool,
                             const HealthCheck& check, HealthBoard& board,
                             ServerCounters* counters) {
    probes_.reserve(pool.servers.size());
    for (std::size_t i = 0; i < pool.servers.size(); ++i) {
        probes_.push_back(
            std::make_unique<Probe>(context, pool.servers[i], i, check, board,
                                    counters != nullptr ? &counters[i] : nullptr));
    }
    for (auto& probe : probes_) probe->start();
}

HealthChecker::~HealthChecker() = default;

}  // namespace c10k::proxy

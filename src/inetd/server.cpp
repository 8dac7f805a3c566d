#include "inetd/server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "inetd/connection_rate.hpp"
#include "inetd/per_source.hpp"

namespace c10k::inetd {

namespace {

using core::LogLevel;

/// At most this many connections are taken per wake-up, so that a flood does not keep the
/// loop from reaping programs and noticing the stop.
constexpr int accepts_per_wake = 64;
/// After EMFILE/ENFILE, accepting rests this long instead of spinning on a listener that
/// stays readable.
constexpr std::int64_t descriptor_rest_ms = 100;

std::string seconds(std::int64_t ms) {
    return fmt::format("{}.{:03}s", ms / 1000, ms % 1000);
}

/// How a wait status reads in the log: "status=0", "signal=9".
std::string describe_status(int status) {
    if (WIFEXITED(status)) return fmt::format("status={}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("signal={}", WTERMSIG(status));
    return fmt::format("wait-status={}", status);
}

struct Running {
    pid_t pid = -1;
    core::unique_fd pidfd;
    std::string source;  ///< the client's address, the per-source key
    std::string from;    ///< "ADDRESS:PORT" for the log
    std::int64_t started_ms = 0;
    std::int64_t deadline_ms = INT64_MAX;  ///< --timeout; INT64_MAX when none
    bool timed_out = false;
};

class Server {
public:
    Server(const Options& options, std::vector<core::unique_fd> listeners, int stop_fd)
        : options_(options),
          listeners_(std::move(listeners)),
          stop_fd_(stop_fd),
          rate_(options.cps, options.cps_wait_ms),
          per_source_(options.per_source) {}

    int run();

private:
    bool watch(int fd, std::uint32_t events);
    void set_accepting(bool accepting);
    void accept_from(int listener, std::int64_t now);
    void admit(core::unique_fd socket, const std::string& from, const std::string& source,
               std::int64_t now);
    void exited(int pidfd, std::int64_t now);
    void on_deadlines(std::int64_t now);
    void begin_stop(std::int64_t now);
    int wait_ms(std::int64_t now) const;

    const Options& options_;
    std::vector<core::unique_fd> listeners_;
    int stop_fd_;
    core::unique_fd epoll_;
    ConnectionRate rate_;
    PerSourceTable per_source_;
    std::unordered_map<int, Running> running_;  // by pidfd
    bool accepting_ = true;
    std::int64_t resume_at_ms_ = INT64_MAX;  // when a pause (cps, EMFILE) ends
    core::RateLimitedLog descriptor_log_;

    bool stopping_ = false;
    std::int64_t term_at_ms_ = INT64_MAX;  // the grace ends: SIGTERM to what still runs
    std::int64_t kill_at_ms_ = INT64_MAX;  // SIGKILL to what SIGTERM did not end
};

bool Server::watch(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
}

void Server::set_accepting(bool accepting) {
    if (accepting == accepting_) return;
    accepting_ = accepting;
    for (const core::unique_fd& listener : listeners_) {
        epoll_event event{};
        event.events = accepting ? EPOLLIN : 0;
        event.data.fd = listener.get();
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener.get(), &event);
    }
}

int Server::run() {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) {
        core::log(LogLevel::error, "inetd: epoll_create1: {}", std::strerror(errno));
        return 1;
    }
    for (const core::unique_fd& listener : listeners_) {
        if (!watch(listener.get(), EPOLLIN)) return 1;
    }
    if (!watch(stop_fd_, EPOLLIN)) return 1;
    epoll_event events[64];
    for (;;) {
        std::int64_t now = core::monotonic_ms();
        on_deadlines(now);
        if (stopping_ && running_.empty()) return 0;
        int ready = ::epoll_wait(epoll_.get(), events, 64, wait_ms(now));
        if (ready < 0 && errno != EINTR) {
            core::log(LogLevel::error, "inetd: epoll_wait: {}", std::strerror(errno));
            return 1;
        }
        now = core::monotonic_ms();
        for (int i = 0; i < ready; ++i) {
            int fd = events[i].data.fd;
            if (fd == stop_fd_) {
                begin_stop(now);
            } else if (running_.count(fd) != 0) {
                exited(fd, now);
            } else if (accepting_ && !stopping_) {
                accept_from(fd, now);
            }
        }
    }
}

void Server::accept_from(int listener, std::int64_t now) {
    for (int taken = 0; taken < accepts_per_wake && accepting_; ++taken) {
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        // Blocking (the program reads and writes it as its standard input and output) and
        // close-on-exec (only the program it is meant for gets it, through dup2).
        core::unique_fd socket(
            ::accept4(listener, reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC));
        if (!socket) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (descriptor_log_.allow(now)) {
                    core::log(LogLevel::warn, "inetd: accept: {}; resting {}ms",
                              std::strerror(errno), descriptor_rest_ms);
                }
                set_accepting(false);
                resume_at_ms_ = now + descriptor_rest_ms;
                return;
            }
            core::log(LogLevel::error, "inetd: accept: {}", std::strerror(errno));
            return;
        }
        std::string source = core::address_text(address);
        core::Endpoint peer;
        peer.address = address;
        peer.length = length;
        admit(std::move(socket), peer.to_string(), source, now);
    }
}

void Server::admit(core::unique_fd socket, const std::string& from, const std::string& source,
                   std::int64_t now) {
    // In xinetd's order: the rate first (every connection counts towards it, refused or not),
    // then the instances, then the client's own share.
    if (!rate_.admit(now)) {
        core::log(LogLevel::warn,
                  "FAIL: from={} more than {} connections in a second (--cps): closed; not "
                  "accepting for {}",
                  from, rate_.per_second(), seconds(rate_.wait_ms()));
        set_accepting(false);
        resume_at_ms_ = rate_.resume_at_ms();
        return;
    }
    if (options_.max_instances != 0 && running_.size() >= options_.max_instances) {
        core::log(LogLevel::warn,
                  "FAIL: from={} instances limit ({} running, --max-instances): "
                  "closed",
                  from, running_.size());
        return;
    }
    if (!per_source_.try_add(source)) {
        core::log(LogLevel::warn,
                  "FAIL: from={} per-source limit ({} running from {}, --per-source): closed", from,
                  per_source_.count(source), source);
        return;
    }
    Peers peers;
    if (!read_peers(socket.get(), peers)) {
        // The client left between the accept and now.
        per_source_.remove(source);
        return;
    }
    core::Result<Started> started =
        start(options_.program, environment(options_.program, peers), socket.get());
    if (!started) {
        per_source_.remove(source);
        core::log(LogLevel::error, "FAIL: from={} cannot start {}: {}: closed", from,
                  options_.program.path, std::strerror(started.error()));
        return;
    }
    Running entry;
    entry.pid = started->pid;
    entry.source = source;
    entry.from = from;
    entry.started_ms = now;
    if (options_.timeout_ms > 0) entry.deadline_ms = now + options_.timeout_ms;
    int pidfd = started->pidfd.get();
    entry.pidfd = std::move(started->pidfd);
    if (!watch(pidfd, EPOLLIN)) {
        // Not watched, it could never be reaped: end it now.
        core::log(LogLevel::error, "inetd: epoll_ctl: {}", std::strerror(errno));
        core::kill_group(entry.pid);
        ::waitpid(entry.pid, nullptr, 0);
        per_source_.remove(source);
        return;
    }
    core::log(LogLevel::info, "START: pid={} from={}", entry.pid, from);
    running_.emplace(pidfd, std::move(entry));
    // The socket closes here, in the server: the program holds the connection alone, so that
    // its exit ends it.
}

void Server::exited(int pidfd, std::int64_t now) {
    auto found = running_.find(pidfd);
    Running& entry = found->second;
    int status = core::reap(entry.pid);
    if (status < 0) return;  // not yet: a pidfd is readable only at the exit, but be safe
    core::log(LogLevel::info, "EXIT: pid={} from={} {}{} duration={}", entry.pid, entry.from,
              describe_status(status), entry.timed_out ? " (--timeout)" : "",
              seconds(now - entry.started_ms));
    per_source_.remove(entry.source);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
    running_.erase(found);
}

void Server::on_deadlines(std::int64_t now) {
    if (!accepting_ && !stopping_ && now >= resume_at_ms_) {
        resume_at_ms_ = INT64_MAX;
        set_accepting(true);
        core::log(LogLevel::info, "inetd: accepting again");
    }
    for (auto& [pidfd, entry] : running_) {
        if (entry.timed_out || now < entry.deadline_ms) continue;
        entry.timed_out = true;
        core::log(LogLevel::warn, "inetd: pid={} from={} ran past --timeout {}: SIGKILL", entry.pid,
                  entry.from, seconds(options_.timeout_ms));
        core::kill_group(entry.pid, SIGKILL);
    }
    if (now >= term_at_ms_) {
        term_at_ms_ = INT64_MAX;
        kill_at_ms_ = now + options_.kill_after_term_ms;
        if (!running_.empty()) {
            core::log(LogLevel::info, "inetd: shutdown grace over: SIGTERM to {} program{}",
                      running_.size(), running_.size() == 1 ? "" : "s");
        }
        for (auto& [pidfd, entry] : running_) core::kill_group(entry.pid, SIGTERM);
    }
    if (now >= kill_at_ms_) {
        kill_at_ms_ = INT64_MAX;
        if (!running_.empty()) {
            core::log(LogLevel::warn, "inetd: SIGKILL to {} program{} that SIGTERM did not end",
                      running_.size(), running_.size() == 1 ? "" : "s");
        }
        for (auto& [pidfd, entry] : running_) core::kill_group(entry.pid, SIGKILL);
    }
}

void Server::begin_stop(std::int64_t now) {
    if (stopping_) return;
    stopping_ = true;
    // The listeners close: new connections are refused, not queued for a server that will not
    // take them. The stop descriptor stays readable for good, so it is no longer watched.
    for (core::unique_fd& listener : listeners_) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener.get(), nullptr);
    }
    listeners_.clear();
    resume_at_ms_ = INT64_MAX;  // nothing to resume
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stop_fd_, nullptr);
    core::log(
        LogLevel::info, "inetd: stopping: not accepting; {} program{} running, given {} to end",
        running_.size(), running_.size() == 1 ? "" : "s", seconds(options_.shutdown_grace_ms));
    term_at_ms_ = now + options_.shutdown_grace_ms;
}

int Server::wait_ms(std::int64_t now) const {
    std::int64_t next = std::min({resume_at_ms_, term_at_ms_, kill_at_ms_});
    for (const auto& [pidfd, entry] : running_) {
        if (!entry.timed_out) next = std::min(next, entry.deadline_ms);
    }
    if (next == INT64_MAX) return -1;
    // Rounded up, so that the loop does not wake a moment early and wait again for nothing.
    return static_cast<int>(std::clamp<std::int64_t>(next - now + 1, 0, 60'000));
}

}  // namespace

int serve(const Options& options, std::vector<core::unique_fd> listeners, int stop_fd) {
    Server server(options, std::move(listeners), stop_fd);
    return server.run();
}

}  // namespace c10k::inetd

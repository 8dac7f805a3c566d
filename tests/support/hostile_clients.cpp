#include "support/hostile_clients.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace c10k::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

std::size_t SocketPool::connect(int port, std::size_t count, int timeout_ms) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<int> pending;
    for (std::size_t i = 0; i < count; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        if (rc != 0 && errno != EINPROGRESS) {
            ::close(fd);
            continue;
        }
        pending.push_back(fd);
    }
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t established = 0;
    while (!pending.empty()) {
        std::vector<pollfd> polls;
        for (int fd : pending) polls.push_back({fd, POLLOUT, 0});
        int ready = ::poll(polls.data(), polls.size(), std::min(remaining_ms(deadline), 200));
        std::vector<int> still;
        for (const auto& p : polls) {
            if (ready > 0 && p.revents != 0) {
                int error = 0;
                socklen_t length = sizeof error;
                ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &length);
                if (error == 0) {
                    fds_.push_back(p.fd);
                    received_.emplace_back();
                    closed_.push_back(false);
                    ++established;
                } else {
                    ::close(p.fd);
                }
            } else {
                still.push_back(p.fd);
            }
        }
        pending.swap(still);
        if (remaining_ms(deadline) == 0) break;
    }
    for (int fd : pending) ::close(fd);
    return established;
}

bool SocketPool::send(std::size_t index, std::string_view bytes) {
    if (closed_[index]) return false;
    ssize_t n = ::send(fds_[index], bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == static_cast<ssize_t>(bytes.size());
}

PeerState SocketPool::probe(std::size_t index) {
    if (closed_[index]) return PeerState::closed;
    bool got = false;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::recv(fds_[index], buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
            received_[index].append(buffer, static_cast<std::size_t>(n));
            got = true;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return got ? PeerState::data : PeerState::open;
        }
        closed_[index] = true;  // EOF, or a reset
        return PeerState::closed;
    }
}

std::size_t SocketPool::wait_all_closed(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        std::size_t open = 0;
        for (std::size_t i = 0; i < fds_.size(); ++i) {
            if (probe(i) != PeerState::closed) ++open;
        }
        if (open == 0 || remaining_ms(deadline) == 0) return open;
        ::usleep(50 * 1000);
    }
}

void SocketPool::close_all() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    received_.clear();
    closed_.clear();
}

std::uint64_t cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces; fields are counted after its ')'.
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) throw std::runtime_error("unreadable /proc/PID/stat");
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number == 14) utime = std::stoull(field);
        if (number == 15) stime = std::stoull(field);
    }
    return utime + stime;
}

long ticks_per_second() { return ::sysconf(_SC_CLK_TCK); }

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    throw std::runtime_error("no VmRSS in /proc/PID/status");
}

std::size_t open_descriptors(pid_t pid) {
    std::size_t count = 0;
    std::error_code error;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
         !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
        ++count;
    }
    return count;
}

ScopedDescriptorLimit::ScopedDescriptorLimit(rlim_t soft_limit) {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) throw std::runtime_error("getrlimit failed");
    rlimit lowered = saved_;
    lowered.rlim_cur = soft_limit;
    if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0) throw std::runtime_error("setrlimit failed");
}

ScopedDescriptorLimit::~ScopedDescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

}  // namespace c10k::test

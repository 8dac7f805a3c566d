#include "support/fake_redis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace c10k::test {

namespace {

// Connections held at once: the server under test reconnects with a backoff, so a few dozen
// cover any test; past it the oldest is closed (it is a failed attempt by then).
constexpr std::size_t kMaxHeld = 64;

}  // namespace

FakeRedis::FakeRedis(std::string reply) : reply_(std::move(reply)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        int error = errno;
        if (listen_fd_ >= 0) ::close(listen_fd_);
        throw std::system_error(error, std::generic_category(), "a listener for the fake Redis");
    }
    port_ = ntohs(address.sin_port);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        int error = errno;
        ::close(listen_fd_);
        throw std::system_error(error, std::generic_category(), "an eventfd for the fake Redis");
    }
    thread_ = std::thread([this] { run(); });
}

FakeRedis::~FakeRedis() {
    std::uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
    ::close(listen_fd_);
}

void FakeRedis::run() {
    std::vector<int> held;
    for (;;) {
        std::vector<pollfd> fds;
        fds.push_back({wake_fd_, POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (int fd : held) fds.push_back({fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
        if ((fds[0].revents & POLLIN) != 0) break;
        held.clear();
        for (std::size_t i = 2; i < fds.size(); ++i) {
            bool gone = (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
            if ((fds[i].revents & POLLIN) != 0) {
                char buffer[4096];
                ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
                if (n > 0) {
                    received_ += n;
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    gone = true;
                }
            }
            if (gone) {
                ::close(fds[i].fd);
            } else {
                held.push_back(fds[i].fd);
            }
        }
        if ((fds[1].revents & POLLIN) == 0) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) continue;
        ++accepted_;
        // The bytes fit any socket buffer: one send takes them all, or the peer is gone.
        if (!reply_.empty()) (void)::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        if (held.size() >= kMaxHeld) {
            ::close(held.front());
            held.erase(held.begin());
        }
        held.push_back(fd);
    }
    for (int fd : held) ::close(fd);
}

}  // namespace c10k::test

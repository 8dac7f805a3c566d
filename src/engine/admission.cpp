#include "engine/admission.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>

#include <string_view>

namespace c10k::engine {

void reject_busy(core::unique_fd fd) {
    static constexpr std::string_view response =
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Server: c10k\r\n"
        "Retry-After: 1\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: 20\r\n"
        "Connection: close\r\n"
        "\r\n"
        "server at capacity.\n";
    // One non-blocking attempt: the response fits any socket buffer, and a client that cannot
    // take 150 bytes is not worth waiting for.
    ssize_t ignored =
        ::send(fd.get(), response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    ::shutdown(fd.get(), SHUT_WR);
}

SpareDescriptor::SpareDescriptor() : spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

bool SpareDescriptor::shed_one(int listener) {
    spare_.reset();
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    bool shed = fd >= 0;
    if (shed) ::close(fd);
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    return shed;
}

int descriptor_ceiling() {
    static const int ceiling = [] {
        rlimit limit{};
        if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
            limit.rlim_cur > static_cast<rlim_t>(INT_MAX)) {
            return INT_MAX;
        }
        auto soft = static_cast<int>(limit.rlim_cur);
        return soft - std::max(16, soft / 16);
    }();
    return ceiling;
}

int accept_nonblocking(int listener) {
    return ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

}  // namespace c10k::engine

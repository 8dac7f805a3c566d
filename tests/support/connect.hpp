#pragma once
// connect(2) for test clients that does not fail on a signal: a blocking connect interrupted by
// one (a server child exiting sends the test SIGCHLD) goes on in the background, so the result
// is waited for and read from SO_ERROR rather than reported as EINTR.

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace c10k::test {

/// 0 when connected, else -1 with errno set.
inline int connect_through_signals(int fd, const sockaddr* address, socklen_t length) {
    if (::connect(fd, address, length) == 0) return 0;
    if (errno != EINTR) return -1;
    pollfd wait{fd, POLLOUT, 0};
    int ready;
    do {
        ready = ::poll(&wait, 1, 5000);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (ready < 0) return -1;
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return -1;
    if (error != 0) {
        errno = error;
        return -1;
    }
    return 0;
}

}  // namespace c10k::test

#include "bench/client_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/net.hpp"

namespace c10k::bench {

int open_client_socket(int family, const core::SocketBuffers& buffers) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (auto set = core::apply_socket_buffers(fd, buffers); !set) {
        ::close(fd);
        errno = set.error();
        return -1;
    }
    core::set_no_delay(fd);
    return fd;
}

}  // namespace c10k::bench

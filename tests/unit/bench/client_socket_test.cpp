// The socket every bench connection starts from: --sndbuf/--rcvbuf set before connect() and
// still in effect on the connected socket, Nagle off, and the kernel's sizes when none is asked.

#include "bench/client_socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/net.hpp"
#include "core/unique_fd.hpp"

namespace c10k::bench {
namespace {

constexpr int kAsked = 8192;

int option_value(int fd, int level, int option) {
    int value = 0;
    socklen_t length = sizeof value;
    EXPECT_EQ(::getsockopt(fd, level, option, &value, &length), 0);
    return value;
}

/// A socket from open_client_socket, connected (non-blocking, as the loops do) to `listener`.
core::unique_fd connected(const core::SocketBuffers& buffers, int listener) {
    auto bound = core::local_endpoint(listener);
    EXPECT_TRUE(static_cast<bool>(bound));
    core::unique_fd fd(open_client_socket(AF_INET, buffers));
    EXPECT_TRUE(fd);
    int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&bound->address), bound->length);
    if (rc != 0) {
        EXPECT_EQ(errno, EINPROGRESS);
        pollfd ready{fd.get(), POLLOUT, 0};
        EXPECT_EQ(::poll(&ready, 1, 5000), 1);
        EXPECT_EQ(option_value(fd.get(), SOL_SOCKET, SO_ERROR), 0);
    }
    return fd;
}

TEST(ClientSocket, TheSizesAskedForHoldOnTheConnectedSocket) {
    core::Endpoint any;
    std::string error;
    ASSERT_TRUE(core::parse_endpoint("127.0.0.1:0", any, error)) << error;
    auto listener = core::listen_on(any, core::ListenOptions{});
    ASSERT_TRUE(static_cast<bool>(listener));
    core::unique_fd small = connected(core::SocketBuffers{kAsked, kAsked}, listener->get());
    core::unique_fd by_default = connected(core::SocketBuffers{}, listener->get());
    ASSERT_TRUE(small && by_default);
    for (int option : {SO_SNDBUF, SO_RCVBUF}) {
        int asked = option_value(small.get(), SOL_SOCKET, option);
        // Linux reports twice what was set; a size set before connect() is not autotuned.
        EXPECT_GE(asked, kAsked) << option;
        EXPECT_LE(asked, 2 * kAsked) << option;
        EXPECT_GT(option_value(by_default.get(), SOL_SOCKET, option), 2 * kAsked) << option;
    }
    EXPECT_NE(option_value(small.get(), IPPROTO_TCP, TCP_NODELAY), 0);
    EXPECT_NE(option_value(by_default.get(), IPPROTO_TCP, TCP_NODELAY), 0);
    int flags = ::fcntl(small.get(), F_GETFL);
    EXPECT_NE(flags & O_NONBLOCK, 0);
}

TEST(ClientSocket, OnlyTheSizeAskedForIsSet) {
    core::unique_fd plain(open_client_socket(AF_INET, core::SocketBuffers{}));
    core::unique_fd receive_only(open_client_socket(AF_INET, core::SocketBuffers{0, kAsked}));
    ASSERT_TRUE(plain && receive_only);
    EXPECT_EQ(option_value(receive_only.get(), SOL_SOCKET, SO_RCVBUF), 2 * kAsked);
    EXPECT_EQ(option_value(receive_only.get(), SOL_SOCKET, SO_SNDBUF),
              option_value(plain.get(), SOL_SOCKET, SO_SNDBUF));
}

}  // namespace
}  // namespace c10k::bench

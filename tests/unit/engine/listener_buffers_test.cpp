// --sndbuf/--rcvbuf on the server side: the sizes set on every socket a ListenerSet opens (the
// first set, a --processes group's and every loop's, and the ones a predecessor passed on),
// and inherited by the connections accepted from them.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "engine/listeners.hpp"
#include "support/connect.hpp"
#include "support/endpoint.hpp"

namespace c10k::engine {
namespace {

constexpr int kAsked = 8192;

int reported(int fd, int option) {
    int value = 0;
    socklen_t length = sizeof value;
    EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, option, &value, &length), 0);
    return value;
}

using test::endpoint;

core::ListenOptions with_buffers(int send, int receive) {
    core::ListenOptions options;
    options.buffers = core::SocketBuffers{send, receive};
    return options;
}

/// The server side of one connection from a blocking client to `listener` (non-blocking, as
/// the set opens it). `client` keeps the other end open.
core::unique_fd accept_one(int listener, core::unique_fd& client) {
    auto bound = core::local_endpoint(listener);
    EXPECT_TRUE(static_cast<bool>(bound));
    client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(test::connect_through_signals(
                  client.get(), reinterpret_cast<const sockaddr*>(&bound->address), bound->length),
              0);
    pollfd ready{listener, POLLIN, 0};
    EXPECT_EQ(::poll(&ready, 1, 5000), 1);
    return core::unique_fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

TEST(ListenerBuffers, AcceptedConnectionsInheritTheSizesAndDefaultsStayLarger) {
    ListenerSet plain({endpoint("127.0.0.1:0")});
    ListenerSet sized({endpoint("127.0.0.1:0")}, with_buffers(kAsked, kAsked));
    core::unique_fd plain_client;
    core::unique_fd sized_client;
    core::unique_fd by_default = accept_one(plain.shared().front(), plain_client);
    core::unique_fd small = accept_one(sized.shared().front(), sized_client);
    ASSERT_TRUE(by_default && small);
    for (int option : {SO_SNDBUF, SO_RCVBUF}) {
        int asked = reported(small.get(), option);
        // Linux reports twice what was set (the other half is its bookkeeping).
        EXPECT_GE(asked, kAsked) << option;
        EXPECT_LE(asked, 2 * kAsked) << option;
        // The kernel's default (and its autotuning on an established connection) is larger.
        EXPECT_GT(reported(by_default.get(), option), 2 * kAsked) << option;
    }
}

TEST(ListenerBuffers, EveryLoopsAndProcesssSocketGetsTheSizes) {
    ListenerSet set({endpoint("127.0.0.1:0"), endpoint("127.0.0.1:0")},
                    with_buffers(kAsked, 2 * kAsked));
    set.prepare(2, 2);  // the sockets of a --processes 2 --threads 2 group, bound now
    for (int loop = 0; loop < 4; ++loop) {
        auto fds = set.for_loop();
        ASSERT_TRUE(static_cast<bool>(fds));
        ASSERT_EQ(fds->size(), 2u);
        for (const auto& fd : *fds) {
            EXPECT_EQ(reported(fd.get(), SO_SNDBUF), 2 * kAsked) << loop;
            EXPECT_EQ(reported(fd.get(), SO_RCVBUF), 4 * kAsked) << loop;
        }
    }
}

TEST(ListenerBuffers, ASuccessorSetsItsSizesOnThePassedOnSockets) {
    ListenerSet old({endpoint("127.0.0.1:0")});
    int default_receive = reported(old.shared().front(), SO_RCVBUF);
    std::vector<core::InheritedSocket> handed;
    core::InheritedSocket socket;
    socket.endpoint = 0;
    socket.fd = core::unique_fd(::dup(old.shared().front()));
    socket.address = *core::local_endpoint(socket.fd.get());
    handed.push_back(std::move(socket));
    std::vector<std::string> messages;
    ListenerSet next(std::move(handed), {endpoint("127.0.0.1:0")}, messages,
                     with_buffers(0, kAsked));
    int listener = next.shared().front();
    EXPECT_EQ(reported(listener, SO_RCVBUF), 2 * kAsked);
    EXPECT_NE(default_receive, 2 * kAsked);
    // A socket listening already still hands its size to the connections accepted after.
    core::unique_fd client;
    core::unique_fd accepted = accept_one(listener, client);
    ASSERT_TRUE(accepted);
    EXPECT_EQ(reported(accepted.get(), SO_RCVBUF), 2 * kAsked);
}

}  // namespace
}  // namespace c10k::engine

// ListenerSet: every loop's and process's sockets opened up front and owned by the set, and a
// successor's set built from the sockets a predecessor passed on (core/handover.hpp): the same
// sockets (the same accept queues) for the same addresses, fresh ones for new addresses, and
// those no endpoint wants closed. Sockets are compared by SO_COOKIE, which a dup shares.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine/listeners.hpp"
#include "support/endpoint.hpp"

namespace c10k::engine {
namespace {

std::uint64_t cookie(int fd) {
    std::uint64_t value = 0;
    socklen_t length = sizeof value;
    EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &value, &length), 0);
    return value;
}

using test::endpoint;

/// What a predecessor with `set` passes on: a dup of every socket its loops accept on, with
/// the endpoint index, as the signal handler's table says it.
std::vector<core::InheritedSocket> pass_on(ListenerSet& set, std::size_t loops) {
    std::vector<core::InheritedSocket> handed;
    for (std::size_t loop = 0; loop < loops; ++loop) {
        auto fds = set.for_loop();
        EXPECT_TRUE(static_cast<bool>(fds));
        for (std::size_t i = 0; i < fds->size(); ++i) {
            core::InheritedSocket socket;
            socket.endpoint = i;
            socket.fd = std::move((*fds)[i]);
            socket.address = *core::local_endpoint(socket.fd.get());
            handed.push_back(std::move(socket));
        }
    }
    return handed;
}

TEST(ListenerSet, PrepareOpensEveryLoopsSocketsUpFrontAndForLoopHandsDupsInOrder) {
    ListenerSet set({endpoint("127.0.0.1:0")});
    set.prepare(1, 3);
    std::set<std::uint64_t> cookies;
    int port = set.endpoints()[0].port();
    for (int loop = 0; loop < 3; ++loop) {
        auto fds = set.for_loop();
        ASSERT_TRUE(static_cast<bool>(fds));
        ASSERT_EQ(fds->size(), 1u);
        cookies.insert(cookie((*fds)[0].get()));
        EXPECT_EQ(core::local_endpoint((*fds)[0].get())->port(), port);
    }
    EXPECT_EQ(cookies.size(), 3u);  // three accept queues, one per loop
}

TEST(ListenerSet, ASuccessorTakesThePassedSocketsForTheSameAddressesInOrder) {
    ListenerSet old({endpoint("127.0.0.1:0"), endpoint("127.0.0.1:0")});
    old.prepare(1, 2);
    auto handed = pass_on(old, 2);
    std::vector<std::uint64_t> passed;
    for (auto& socket : handed) passed.push_back(cookie(socket.fd.get()));
    std::vector<std::string> messages;
    // Port 0 in the successor's configuration: the same host at the same index.
    ListenerSet next(std::move(handed), {endpoint("127.0.0.1:0"), endpoint("127.0.0.1:0")},
                     messages);
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(next.endpoints()[0].port(), old.endpoints()[0].port());
    EXPECT_EQ(next.endpoints()[1].port(), old.endpoints()[1].port());
    next.prepare(1, 2);
    auto loop0 = next.for_loop();
    auto loop1 = next.for_loop();
    ASSERT_TRUE(loop0 && loop1);
    // handed: loop 0's two endpoints, then loop 1's.
    EXPECT_EQ(cookie((*loop0)[0].get()), passed[0]);
    EXPECT_EQ(cookie((*loop0)[1].get()), passed[1]);
    EXPECT_EQ(cookie((*loop1)[0].get()), passed[2]);
    EXPECT_EQ(cookie((*loop1)[1].get()), passed[3]);
}

TEST(ListenerSet, ASuccessorBindsNewAddressesAndClosesThoseNoLongerConfigured) {
    ListenerSet old({endpoint("127.0.0.1:0"), endpoint("127.0.0.1:0")});
    old.prepare(1, 1);
    std::string kept = old.endpoints()[1].to_string();
    auto handed = pass_on(old, 1);
    std::uint64_t kept_cookie = cookie(handed[1].fd.get());
    std::vector<std::string> messages;
    // The first address is gone from the configuration; the second is named by its port now
    // (at another index), and a third one is new.
    ListenerSet next(std::move(handed), {endpoint(kept), endpoint("127.0.0.1:0")}, messages);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_NE(messages[0].find("no longer listening on " + old.endpoints()[0].to_string()),
              std::string::npos)
        << messages[0];
    EXPECT_NE(messages[1].find("now listening on"), std::string::npos) << messages[1];
    next.prepare(1, 1);
    auto fds = next.for_loop();
    ASSERT_TRUE(static_cast<bool>(fds));
    EXPECT_EQ(cookie((*fds)[0].get()), kept_cookie);
    EXPECT_NE(next.endpoints()[1].port(), 0);
}

TEST(ListenerSet, FewerLoopsThanThePredecessorCloseTheSocketsLeftOver) {
    ListenerSet old({endpoint("127.0.0.1:0")});
    old.prepare(1, 3);
    auto handed = pass_on(old, 3);
    std::vector<std::uint64_t> passed;
    for (auto& socket : handed) passed.push_back(cookie(socket.fd.get()));
    std::vector<std::string> messages;
    old.close_all();  // the predecessor is gone: only what the successor holds is left
    ListenerSet next(std::move(handed), {endpoint("127.0.0.1:0")}, messages);
    next.prepare(1, 2);
    auto loop0 = next.for_loop();
    auto loop1 = next.for_loop();
    ASSERT_TRUE(loop0 && loop1);
    EXPECT_EQ(cookie((*loop0)[0].get()), passed[0]);
    EXPECT_EQ(cookie((*loop1)[0].get()), passed[1]);
    // The third loop's socket is closed: no descriptor of this process holds it any more (an
    // open one would take a share of new connections that no loop accepts).
    std::set<std::uint64_t> open;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        int fd = std::stoi(entry.path().filename().string());
        std::uint64_t value = 0;
        socklen_t length = sizeof value;
        if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &value, &length) == 0) open.insert(value);
    }
    EXPECT_EQ(open.count(passed[0]), 1u);
    EXPECT_EQ(open.count(passed[1]), 1u);
    EXPECT_EQ(open.count(passed[2]), 0u);
}

TEST(ListenerSet, ProcessesOfAGroupTakeTheirOwnSetsAndOnlyTheFirstTheFirstOnlyEndpoint) {
    ListenerSet set({endpoint("127.0.0.1:0"), endpoint("127.0.0.1:0")});
    set.last_in_first_process_only(1);
    set.prepare(2, 2);
    // What child 1 of the group sees in its copy: its two loops, without the admin endpoint.
    set.assign_process(1);
    auto a = set.for_loop();
    auto b = set.for_loop();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 1u);
    EXPECT_EQ(b->size(), 1u);
    EXPECT_NE(cookie((*a)[0].get()), cookie((*b)[0].get()));
}

TEST(ListenerSet, CloseAllClosesEverySocketSoThatNewClientsAreRefused) {
    ListenerSet set({endpoint("127.0.0.1:0")});
    set.prepare(1, 2);
    int port = set.endpoints()[0].port();
    set.close_all();
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_NE(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(errno, ECONNREFUSED);
    ::close(client);
}

}  // namespace
}  // namespace c10k::engine

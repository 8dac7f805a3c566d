// The layer-4 relay's bookkeeping without the binary: CheckHost driving the HTTP proxy's health
// checks on an epoll set of its own (a server that refuses goes DOWN, one that accepts stays UP),
// TcpBoard's sums over slots (the open-relays gauge, the checks' state), and Direction counting
// the bytes it moves before it passes the FIN on.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "core/net.hpp"
#include "core/unique_fd.hpp"
#include "proxy/health.hpp"
#include "proxy/tcp/check_host.hpp"
#include "proxy/tcp/relay.hpp"
#include "proxy/tcp/tcp_board.hpp"

namespace c10k::proxy::tcp {
namespace {

/// A socket bound to a free loopback port; listening or not (then connects are refused).
struct LoopbackPort {
    core::unique_fd fd;
    std::string address;
    explicit LoopbackPort(bool listening) {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in bound{};
        bound.sin_family = AF_INET;
        bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof bound;
        EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&bound), length), 0);
        if (listening) EXPECT_EQ(::listen(fd.get(), 64), 0);
        EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length), 0);
        address = "127.0.0.1:" + std::to_string(ntohs(bound.sin_port));
    }
};

ServerSpec server_at(const std::string& address) {
    ServerSpec server;
    std::string error;
    EXPECT_TRUE(core::parse_endpoint(address, server.address, error)) << error;
    server.name = address;
    return server;
}

/// Runs the host as a TcpLoop would until `done` or a generous bound; false on the bound.
template <class Done>
bool drive(CheckHost& host, Done done) {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::int64_t wait = host.next_timeout_ms();
        pollfd ready{host.fd(), POLLIN, 0};
        ::poll(&ready, 1, wait < 0 || wait > 100 ? 100 : static_cast<int>(wait));
        if (ready.revents != 0) host.on_ready();
        host.run_timers();
    }
    return true;
}

TEST(CheckHost, TakesARefusingServerDownAndKeepsAnAcceptingOneUp) {
    LoopbackPort refusing(false), accepting(true);
    PoolSpec pool;
    pool.servers = {server_at(refusing.address), server_at(accepting.address)};
    pool.health.kind = HealthCheck::Kind::tcp;
    pool.health.interval_ms = 50;
    pool.health.timeout_ms = 50;
    pool.health.fall = 2;
    HealthBoard board(pool.servers.size());
    CheckHost host(pool, board);
    ASSERT_TRUE(drive(host, [&] { return !board.up(0); }));
    // Checked as often: the accepting server passed all its checks and is still UP.
    EXPECT_TRUE(board.up(1));
    EXPECT_GE(board.checks_failed(0), 2u);
    EXPECT_EQ(board.checks_failed(1), 0u);
}

TEST(TcpBoard, SumsSlotsIntoTotalsWithTheOpenGaugeAndTheChecksState) {
    TcpBoard board("default", {"a", "b"}, 8);
    TcpBoard::Slot one = board.claim();
    TcpBoard::Slot two = board.claim();
    one.servers[0].connects.add(3);
    one.servers[0].closes.add(1);
    two.servers[0].connects.add(2);
    two.servers[0].closes.add(2);
    two.servers[1].connect_failures.add(4);
    one.servers[1].bytes_to_server.add(10);
    two.servers[1].bytes_to_client.add(20);
    one.pool->over_capacity.add(5);
    two.pool->unavailable.add(6);
    TcpPoolTotals totals = board.totals();
    EXPECT_EQ(totals.name, "default");
    ASSERT_EQ(totals.servers.size(), 2u);
    EXPECT_EQ(totals.servers[0].name, "a");
    EXPECT_EQ(totals.servers[0].connects, 5u);
    EXPECT_EQ(totals.servers[0].connections, 2u);
    EXPECT_EQ(totals.servers[1].connect_failures, 4u);
    EXPECT_EQ(totals.servers[1].bytes_to_server, 10u);
    EXPECT_EQ(totals.servers[1].bytes_to_client, 20u);
    EXPECT_EQ(totals.over_capacity, 5u);
    EXPECT_EQ(totals.unavailable, 6u);
    // Unchecked, every server counts as up; once published, as the checks say.
    EXPECT_FALSE(totals.checked);
    EXPECT_TRUE(totals.servers[0].up && totals.servers[1].up);
    board.set_health(0b10);
    totals = board.totals();
    EXPECT_TRUE(totals.checked);
    EXPECT_FALSE(totals.servers[0].up);
    EXPECT_TRUE(totals.servers[1].up);
    board.release(one);
    board.release(two);
}

TEST(Direction, CountsWhatItMovesBeforePassingTheFinOn) {
    int from[2], to[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, from), 0);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, to), 0);
    core::unique_fd source_peer(from[0]), source(from[1]), destination(to[0]),
        destination_peer(to[1]);
    http::Counter moved;
    PipePool pipes;
    Direction direction(source.get(), destination.get(), &moved);
    ASSERT_EQ(::write(source_peer.get(), "hello", 5), 5);
    ::shutdown(source_peer.get(), SHUT_WR);
    EXPECT_EQ(direction.pump(pipes), Direction::Outcome::done);
    EXPECT_EQ(moved.get(), 5u);
    EXPECT_EQ(direction.moved(), 5u);
}

}  // namespace
}  // namespace c10k::proxy::tcp

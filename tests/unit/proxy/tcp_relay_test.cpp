// proxy::tcp::Direction and PipePool on socket pairs: bytes spliced through unchanged, the FIN
// passed on after them, backpressure from a destination that does not read, no pipe held by an
// idle direction, and a reset destination reported as a failure.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "core/unique_fd.hpp"
#include "proxy/tcp/pipe_pool.hpp"
#include "proxy/tcp/relay.hpp"

namespace c10k::proxy::tcp {
namespace {

/// Two connected stream sockets; the relay's side non-blocking, as the loop makes them.
struct SocketPair {
    core::unique_fd relay_side;
    core::unique_fd peer;
    SocketPair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        relay_side.reset(fds[0]);
        peer.reset(fds[1]);
        ::fcntl(relay_side.get(), F_SETFL, O_NONBLOCK);
        ::fcntl(peer.get(), F_SETFL, O_NONBLOCK);
    }
};

std::string read_available(int fd) {
    std::string text;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<std::size_t>(n));
    return text;
}

TEST(TcpDirection, SplicesTheBytesThenPassesTheFinOnAndGivesThePipeBack) {
    SocketPair source, destination;
    PipePool pipes;
    Direction direction(source.relay_side.get(), destination.relay_side.get());
    ASSERT_EQ(::write(source.peer.get(), "hello, relay", 12), 12);
    ASSERT_EQ(::shutdown(source.peer.get(), SHUT_WR), 0);
    EXPECT_EQ(direction.pump(pipes), Direction::Outcome::done);
    EXPECT_TRUE(direction.done());
    EXPECT_EQ(direction.moved(), 12u);
    EXPECT_EQ(read_available(destination.peer.get()), "hello, relay");
    char byte;
    EXPECT_EQ(::read(destination.peer.get(), &byte, 1), 0);  // the FIN, after the bytes
    EXPECT_EQ(pipes.idle(), 1u);
}

TEST(TcpDirection, AnIdleDirectionHoldsNoPipe) {
    SocketPair source, destination;
    PipePool pipes;
    Direction direction(source.relay_side.get(), destination.relay_side.get());
    EXPECT_EQ(direction.pump(pipes), Direction::Outcome::waiting);
    EXPECT_EQ(pipes.idle(), 1u);  // taken to read, given back when nothing came
    ASSERT_EQ(::write(source.peer.get(), "x", 1), 1);
    EXPECT_EQ(direction.pump(pipes), Direction::Outcome::waiting);
    EXPECT_EQ(pipes.idle(), 1u);
    EXPECT_EQ(read_available(destination.peer.get()), "x");
}

TEST(TcpDirection, ADestinationThatDoesNotReadStopsTheReadingUntilItDoes) {
    SocketPair source, destination;
    PipePool pipes;
    Direction direction(source.relay_side.get(), destination.relay_side.get());
    // The source's peer writes until its own buffer is full too.
    std::string chunk(65536, 'z');
    std::uint64_t written = 0;
    for (int round = 0; round < 64; ++round) {
        for (;;) {
            ssize_t n = ::write(source.peer.get(), chunk.data(), chunk.size());
            if (n <= 0) break;
            written += static_cast<std::uint64_t>(n);
        }
        EXPECT_EQ(direction.pump(pipes), Direction::Outcome::waiting);
    }
    // Blocked on the destination: the pipe holds bytes and stays with the direction.
    EXPECT_EQ(pipes.idle(), 0u);
    std::uint64_t moved_while_blocked = direction.moved();
    EXPECT_LT(moved_while_blocked, written);
    EXPECT_EQ(direction.pump(pipes), Direction::Outcome::waiting);
    EXPECT_EQ(direction.moved(), moved_while_blocked);
    // The destination reads: everything goes through, in as many rounds as it takes.
    std::uint64_t received = 0;
    for (int round = 0; round < 10000 && received < written; ++round) {
        received += read_available(destination.peer.get()).size();
        EXPECT_NE(direction.pump(pipes), Direction::Outcome::failed);
    }
    EXPECT_EQ(received, written);
    EXPECT_EQ(direction.moved(), written);
}

TEST(TcpDirection, ADestinationThatWentAwayIsAFailure) {
    SocketPair source, destination;
    PipePool pipes;
    Direction direction(source.relay_side.get(), destination.relay_side.get());
    destination.peer.reset();
    // As the server does: a peer that went away is an EPIPE, not a death.
    ::signal(SIGPIPE, SIG_IGN);
    ASSERT_EQ(::write(source.peer.get(), "lost", 4), 4);
    EXPECT_EQ(direction.pump(pipes), Direction::Outcome::failed);
    direction.release(pipes);
    EXPECT_EQ(pipes.idle(), 0u);  // a pipe with bytes in it is not reused
}

TEST(TcpPipePool, KeepsAtMostItsLimitOfEmptyPipes) {
    PipePool pipes(2);
    Pipe a = pipes.take(), b = pipes.take(), c = pipes.take();
    ASSERT_TRUE(a && b && c);
    pipes.give_back(std::move(a));
    pipes.give_back(std::move(b));
    pipes.give_back(std::move(c));
    EXPECT_EQ(pipes.idle(), 2u);
    Pipe again = pipes.take();
    EXPECT_TRUE(again);
    EXPECT_EQ(pipes.idle(), 1u);
}

}  // namespace
}  // namespace c10k::proxy::tcp

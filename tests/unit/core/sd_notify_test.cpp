#include "core/sd_notify.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>

namespace c10k::core {
namespace {

/// A real AF_UNIX datagram socket in a fresh temporary directory, named by $NOTIFY_SOCKET for
/// the test's duration: what systemd listens on for a Type=notify service.
class NotifySocket : public ::testing::Test {
protected:
    void SetUp() override {
        char dir_template[] = "/tmp/c10k-notify-XXXXXX";
        ASSERT_NE(::mkdtemp(dir_template), nullptr);
        dir_ = dir_template;
        path_ = dir_ + "/notify";
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(fd_.valid());
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        ASSERT_LT(path_.size(), sizeof address.sun_path);
        path_.copy(address.sun_path, path_.size());
        ASSERT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }

    void TearDown() override {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        fd_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    /// The next datagram, or nothing if none arrives within a generous bound (the sender has
    /// already returned, so one that was sent is queued by now).
    std::optional<std::string> next_datagram() {
        pollfd ready{fd_.get(), POLLIN, 0};
        if (::poll(&ready, 1, 5000) != 1) return std::nullopt;
        char buffer[4096];
        ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n < 0) return std::nullopt;
        return std::string(buffer, static_cast<std::size_t>(n));
    }

    /// True when nothing is queued at all.
    bool nothing_queued() {
        pollfd ready{fd_.get(), POLLIN, 0};
        return ::poll(&ready, 1, 0) == 0;
    }

    std::string dir_;
    std::string path_;
    unique_fd fd_;
};

TEST_F(NotifySocket, ReadyStoppingAndStatusEachSendOneDatagram) {
    ASSERT_TRUE(notify_ready());
    EXPECT_EQ(next_datagram(), "READY=1");
    ASSERT_TRUE(notify_stopping());
    EXPECT_EQ(next_datagram(), "STOPPING=1");
    ASSERT_TRUE(notify_status("serving 3 listeners\n12 connections"));
    EXPECT_EQ(next_datagram(), "STATUS=serving 3 listeners 12 connections");
    ASSERT_TRUE(notify_watchdog());
    EXPECT_EQ(next_datagram(), "WATCHDOG=1");
    ASSERT_TRUE(notify_mainpid(4242));
    EXPECT_EQ(next_datagram(), "MAINPID=4242");
    EXPECT_TRUE(nothing_queued());
}

TEST_F(NotifySocket, ReloadingCarriesTheMonotonicClock) {
    timespec before{};
    clock_gettime(CLOCK_MONOTONIC, &before);
    ASSERT_TRUE(notify_reloading());
    auto datagram = next_datagram();
    ASSERT_TRUE(datagram.has_value());
    const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
    ASSERT_EQ(datagram->substr(0, prefix.size()), prefix) << *datagram;
    std::string digits = datagram->substr(prefix.size());
    ASSERT_FALSE(digits.empty());
    ASSERT_EQ(digits.find_first_not_of("0123456789"), std::string::npos) << digits;
    // The stamp is a reading of CLOCK_MONOTONIC taken during the call, not another clock's.
    std::uint64_t stamp = std::stoull(digits);
    EXPECT_GE(stamp, static_cast<std::uint64_t>(before.tv_sec) * 1'000'000u +
                         static_cast<std::uint64_t>(before.tv_nsec) / 1'000u);
}

TEST_F(NotifySocket, NothingIsSentWithoutNotifySocket) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_TRUE(notify_ready());
    EXPECT_TRUE(notify_stopping());
    EXPECT_TRUE(notify_status("x"));
    EXPECT_TRUE(notify_watchdog());
    EXPECT_TRUE(nothing_queued());
}

TEST_F(NotifySocket, AMissingSocketIsAnError) {
    ::setenv("NOTIFY_SOCKET", (dir_ + "/absent").c_str(), 1);
    auto sent = notify_ready();
    EXPECT_FALSE(sent);
    EXPECT_EQ(sent.error(), ENOENT);
}

TEST(Watchdog, IntervalFromWatchdogUsecForThisProcessOnly) {
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    EXPECT_EQ(watchdog_interval_ms(), 0u);

    ::setenv("WATCHDOG_USEC", "30000000", 1);
    EXPECT_EQ(watchdog_interval_ms(), 30'000u);  // no WATCHDOG_PID: meant for whoever reads it

    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    EXPECT_EQ(watchdog_interval_ms(), 30'000u);
    // The variables stay: the loop that pings asks again after a reload.
    EXPECT_NE(::getenv("WATCHDOG_USEC"), nullptr);

    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    EXPECT_EQ(watchdog_interval_ms(), 0u);  // a watchdog for another process (a parent's)

    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    ::setenv("WATCHDOG_USEC", "not a number", 1);
    EXPECT_EQ(watchdog_interval_ms(), 0u);

    ::setenv("WATCHDOG_USEC", "500", 1);
    EXPECT_EQ(watchdog_interval_ms(), 1u);  // under a millisecond still means "on"

    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
}

/// Runs `body` in a forked child and returns the text it produced: socket activation puts the
/// sockets at descriptor 3 onwards, which the child may overwrite without disturbing this
/// process's descriptors. The child exits with _exit, running no test-framework teardown.
std::string run_in_child(const std::function<std::string()>& body) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return "pipe failed";
    unique_fd read_end(pipe_fds[0]);
    unique_fd write_end(pipe_fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        read_end.reset();
        // Keep the pipe clear of descriptors 3 and 4, which the body takes over.
        int out = ::fcntl(write_end.release(), F_DUPFD_CLOEXEC, 10);
        std::string text = body();
        ssize_t ignored = ::write(out, text.data(), text.size());
        (void)ignored;
        ::_exit(0);
    }
    write_end.reset();
    std::string text;
    char buffer[512];
    for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;) {
        text.append(buffer, static_cast<std::size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) text += " (child failed)";
    return text;
}

/// A TCP listener on 127.0.0.1 and an ephemeral port, moved to descriptor `at`; its port.
int listener_at(int at, bool listening) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return -1;
    if (listening && ::listen(fd, 16) != 0) return -1;
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    if (fd != at) {
        ::dup2(fd, at);
        ::close(fd);
    }
    return ntohs(address.sin_port);
}

/// What listen_fds() found, as text the parent compares.
std::string describe_listen_fds() {
    auto found = listen_fds();
    std::string text;
    if (!found) {
        text = fmt::format("error {}", found.error());
    } else {
        text = fmt::format("count {}", found->size());
        for (auto& listener : *found) {
            text += fmt::format(" fd {} at {} cloexec {}", listener.fd.get(),
                                listener.endpoint.to_string(),
                                (::fcntl(listener.fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
        }
    }
    text += fmt::format(" env {}", ::getenv("LISTEN_FDS") ? "kept" : "removed");
    return text;
}

TEST(ListenFds, TakesTheListenersPassedAtDescriptorThree) {
    std::string got = run_in_child([] {
        int first = listener_at(3, true);
        int second = listener_at(4, true);
        ::setenv("LISTEN_FDS", "2", 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        std::string want = fmt::format(
            "count 2 fd 3 at 127.0.0.1:{} cloexec true fd 4 at 127.0.0.1:{} cloexec true env "
            "removed",
            first, second);
        std::string text = describe_listen_fds();
        return text == want ? std::string("same") : text + " instead of " + want;
    });
    EXPECT_EQ(got, "same");
}

TEST(ListenFds, NoneWithoutTheVariablesOrForAnotherProcess) {
    EXPECT_EQ(run_in_child([] {
                  listener_at(3, true);
                  ::unsetenv("LISTEN_FDS");
                  ::unsetenv("LISTEN_PID");
                  return describe_listen_fds();
              }),
              "count 0 env removed");
    EXPECT_EQ(run_in_child([] {
                  listener_at(3, true);
                  ::setenv("LISTEN_FDS", "1", 1);
                  ::setenv("LISTEN_PID", std::to_string(::getpid() + 1).c_str(), 1);
                  return describe_listen_fds();
              }),
              "count 0 env removed");
}

TEST(ListenFds, RefusesASocketThatDoesNotListen) {
    EXPECT_EQ(run_in_child([] {
                  listener_at(3, false);
                  ::setenv("LISTEN_FDS", "1", 1);
                  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
                  return describe_listen_fds();
              }),
              fmt::format("error {} env removed", ENOTSOCK));
}

}  // namespace
}  // namespace c10k::core

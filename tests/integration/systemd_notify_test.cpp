// `c10k serve` under systemd's notify protocol, with a real AF_UNIX datagram socket standing in
// for systemd's: READY=1 once the listeners answer, WATCHDOG=1 beats from the engine's own
// turning, STOPPING=1 at SIGTERM, all of them from the main process only (NotifyAccess=main
// would refuse a child's).

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// The stand-in for systemd's notification socket; sets NOTIFY_SOCKET (and WATCHDOG_USEC) for
/// the servers started while it lives.
class NotifySocket {
public:
    explicit NotifySocket(const std::string& path, std::uint64_t watchdog_usec) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        EXPECT_GE(fd_, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path.copy(address.sun_path, sizeof address.sun_path - 1);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        int on = 1;  // the sender's pid comes with each datagram
        EXPECT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
        ::setenv("WATCHDOG_USEC", std::to_string(watchdog_usec).c_str(), 1);
    }
    ~NotifySocket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::close(fd_);
    }

    struct Message {
        std::string text;
        pid_t pid = 0;
    };
    /// Waits (bounded) for the next datagram.
    bool next(Message& out, int timeout_ms = 10000) {
        pollfd wait{fd_, POLLIN, 0};
        if (::poll(&wait, 1, timeout_ms) != 1) return false;
        char text[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{text, sizeof text};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fd_, &message, 0);
        if (n < 0) return false;
        out.text.assign(text, static_cast<std::size_t>(n));
        out.pid = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred credentials;
                std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
                out.pid = credentials.pid;
            }
        }
        return true;
    }
    /// Waits (bounded) for a datagram containing `line`; every datagram seen must come from
    /// `pid`. Returns false when it did not come.
    bool wait_for(const std::string& line, pid_t pid) {
        Message m;
        while (next(m)) {
            EXPECT_EQ(m.pid, pid) << "a notification from another process: " << m.text;
            if (("\n" + m.text + "\n").find("\n" + line + "\n") != std::string::npos) return true;
        }
        return false;
    }

private:
    int fd_ = -1;
};

struct Case {
    std::string name;
    std::vector<std::string> flags;
};

class SystemdNotify : public ::testing::TestWithParam<Case> {};

TEST_P(SystemdNotify, ReadyWatchdogAndStoppingFromTheMainProcess) {
    TempDir dir;
    dir.write("site/index.html", "hello");
    // 200 ms: the server beats every 100 ms, so a few beats come within the bounded waits.
    NotifySocket systemd(dir.path() + "/notify", 200'000);
    std::vector<std::string> args{"serve", "--root", dir.path() + "/site", "--listen",
                                  "127.0.0.1:0"};
    args.insert(args.end(), GetParam().flags.begin(), GetParam().flags.end());
    ServerProcess server(args);
    ASSERT_TRUE(systemd.wait_for("READY=1", server.pid())) << server.output();
    EXPECT_EQ(fetch(server.port(), "/index.html").status, 200);
    for (int beat = 0; beat < 3; ++beat) {
        ASSERT_TRUE(systemd.wait_for("WATCHDOG=1", server.pid())) << "beat " << beat;
    }
    ::kill(server.pid(), SIGTERM);
    EXPECT_TRUE(systemd.wait_for("STOPPING=1", server.pid()));
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

INSTANTIATE_TEST_SUITE_P(
    Engines, SystemdNotify,
    ::testing::Values(Case{"epoll", {"--engine", "epoll"}}, Case{"uring", {"--engine", "uring"}},
                      Case{"thread", {"--engine", "thread"}}, Case{"fork", {"--engine", "fork"}},
                      Case{"prefork", {"--engine", "prefork", "--processes", "2"}},
                      Case{"group", {"--engine", "epoll", "--processes", "2"}}),
    [](const auto& info) { return info.param.name; });

TEST(SystemdNotifyReload, TheSuccessorSaysReloadingThenItsPidAndReadyAndTheOldOneNoStop) {
    TempDir dir;
    dir.write("site/index.html", "hello");
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the successor outlives its parent, the old process
    NotifySocket systemd(dir.path() + "/notify", 0);
    ServerProcess server(
        {"serve", "--root", dir.path() + "/site", "--listen", "127.0.0.1:0", "--threads", "2"});
    pid_t old_pid = server.pid();
    ASSERT_TRUE(systemd.wait_for("READY=1", old_pid)) << server.output();
    ::kill(old_pid, SIGHUP);
    // Everything up to the old process's exit: the successor's RELOADING=1, MAINPID and
    // READY=1, and nothing that says the service stops.
    std::vector<NotifySocket::Message> seen;
    pid_t successor = 0;
    bool reloading = false;
    bool main_pid = false;
    bool ready = false;
    NotifySocket::Message m;
    while (!ready && systemd.next(m)) {
        seen.push_back(m);
        EXPECT_EQ(m.text.find("STOPPING=1"), std::string::npos) << "from " << m.pid;
        if (m.pid == old_pid) continue;
        if (successor == 0) successor = m.pid;
        EXPECT_EQ(m.pid, successor);
        if (m.text.find("RELOADING=1") != std::string::npos) reloading = true;
        if (m.text.find("MAINPID=" + std::to_string(successor)) != std::string::npos) {
            EXPECT_TRUE(reloading) << "MAINPID before RELOADING=1";
            main_pid = true;
        }
        if (m.text.find("READY=1") != std::string::npos) {
            EXPECT_TRUE(reloading) << "READY=1 before RELOADING=1";
            ready = true;
        }
    }
    ASSERT_NE(successor, 0) << server.output();
    EXPECT_TRUE(reloading);
    EXPECT_TRUE(main_pid);
    EXPECT_TRUE(ready);
    // The old process drains and exits without a STOPPING=1.
    EXPECT_EQ(server.stop(0, 15000), 0) << server.output();
    while (systemd.next(m, 200)) {
        EXPECT_EQ(m.text.find("STOPPING=1"), std::string::npos) << "from " << m.pid;
    }
    EXPECT_EQ(fetch(server.port(), "/index.html").status, 200);
    // The successor's own stop says STOPPING=1.
    ::kill(successor, SIGTERM);
    EXPECT_TRUE(systemd.wait_for("STOPPING=1", successor));
    int status = 0;
    EXPECT_EQ(::waitpid(successor, &status, 0), successor);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(SystemdNotifyOff, ServesWithoutANotifySocket) {
    TempDir dir;
    dir.write("index.html", "x");
    ASSERT_EQ(::getenv("NOTIFY_SOCKET"), nullptr);
    ServerProcess server({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0"});
    EXPECT_EQ(fetch(server.port(), "/index.html").status, 200);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

}  // namespace
}  // namespace c10k::test

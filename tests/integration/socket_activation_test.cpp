// Socket activation: `c10k serve` started as systemd starts it from c10k.socket, with a
// listening socket at descriptor 3 (LISTEN_FDS=1, LISTEN_PID=its pid). It serves that socket
// instead of --listen, on every engine shape that accepts differently.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// A listening socket on 127.0.0.1, a free port, as a .socket unit would hold it.
class Listener {
public:
    Listener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::listen(fd_, 128), 0);
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~Listener() { ::close(fd_); }
    int fd() const { return fd_; }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

class SocketActivation : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(SocketActivation, ServesThePassedSocketInsteadOfListen) {
    TempDir root;
    root.write("index.html", "activated");
    Listener passed;
    std::vector<std::string> args{"serve", "--root", root.path(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), GetParam().begin(), GetParam().end());
    ServerProcess server(args, passed.fd());
    // The ready line names the passed socket's port, not a port of its own.
    EXPECT_EQ(server.port(), passed.port()) << server.output();
    EXPECT_NE(server.output().find("socket activation"), std::string::npos) << server.output();
    // Enough connections that every loop of a multi-loop engine takes some.
    for (int i = 0; i < 20; ++i) {
        HttpResponse r = fetch(passed.port(), "/index.html");
        ASSERT_EQ(r.status, 200) << server.output();
        ASSERT_EQ(r.body, "activated");
    }
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

INSTANTIATE_TEST_SUITE_P(
    Engines, SocketActivation,
    ::testing::Values(std::vector<std::string>{"--engine", "epoll", "--threads", "2"},
                      std::vector<std::string>{"--engine", "uring", "--threads", "2"},
                      std::vector<std::string>{"--engine", "thread"},
                      std::vector<std::string>{"--engine", "prefork", "--processes", "2"},
                      std::vector<std::string>{"--engine", "epoll", "--processes", "2", "--threads",
                                               "1"}),
    [](const auto& info) { return flag_values_name(info.param); });

TEST(SocketActivationErrors, APassedDescriptorThatIsNotAListenerRefusesToStart) {
    TempDir root;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);  // not a socket at all
    CommandResult r;
    {
        // Started by hand: run_command has no descriptor to pass. The server must exit 1.
        try {
            ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0"},
                                 fds[0]);
            ADD_FAILURE() << "started with a pipe as its listener:\n" << server.output();
        } catch (const std::runtime_error& e) {
            r.output = e.what();
        }
    }
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_NE(r.output.find("socket activation"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test

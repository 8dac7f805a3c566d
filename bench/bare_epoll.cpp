// The floor for "CPU per request": an edge-triggered epoll loop that answers every request
// with one canned response (128-byte body), without parsing anything beyond counting request
// ends ("\r\n\r\n"), so that pipelined requests are answered too. Not a server: a yardstick.
// bench/engines.sh compiles it on the fly: g++ -O2 -std=c++20 bench/bare_epoll.cpp
//
// usage: bare_epoll PORT

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const std::string kResponse =
    "HTTP/1.1 200 OK\r\nServer: bare\r\nContent-Type: text/plain\r\nContent-Length: 128\r\n\r\n" +
    std::string(128, 'x');

struct Connection {
    int fd;
    int matched = 0;  // how much of "\r\n\r\n" the previous read ended with
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: bare_epoll PORT\n");
        return 2;
    }
    ::signal(SIGPIPE, SIG_IGN);
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener, 4096) != 0) {
        std::perror("bind/listen");
        return 1;
    }
    int epoll = ::epoll_create1(0);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    static char buffer[64 * 1024];
    std::string out;
    epoll_event events[512];
    for (;;) {
        int n = ::epoll_wait(epoll, events, 512, -1);
        for (int i = 0; i < n; ++i) {
            auto* conn = static_cast<Connection*>(events[i].data.ptr);
            if (conn == nullptr) {
                for (;;) {
                    int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                    if (fd < 0) break;
                    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    epoll_event added{};
                    added.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
                    added.data.ptr = new Connection{fd};
                    ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &added);
                }
                continue;
            }
            for (;;) {
                ssize_t got = ::read(conn->fd, buffer, sizeof buffer);
                if (got <= 0) {
                    if (got < 0 && errno == EAGAIN) break;
                    ::close(conn->fd);
                    delete conn;
                    break;
                }
                int requests = 0;
                static const char kEnd[] = "\r\n\r\n";
                for (ssize_t k = 0; k < got; ++k) {
                    conn->matched = buffer[k] == kEnd[conn->matched] ? conn->matched + 1
                                    : buffer[k] == '\r'              ? 1
                                                                     : 0;
                    if (conn->matched == 4) {
                        ++requests;
                        conn->matched = 0;
                    }
                }
                out.clear();
                for (int r = 0; r < requests; ++r) out += kResponse;
                if (!out.empty()) ::send(conn->fd, out.data(), out.size(), MSG_NOSIGNAL);
                if (got < static_cast<ssize_t>(sizeof buffer)) break;
            }
        }
    }
}

#pragma once
// Small HTTP servers written for the bench tests: blocking sockets on 127.0.0.1, an ephemeral
// port, one thread per connection, and a handler that decides how to misbehave. Every wait is
// bounded (50 ms polls) so that destroying the server always finishes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace c10k::bench::testing {

class TestServer {
public:
    /// Serves one connection; `fd` is blocking. Set it to -1 after closing it yourself. An
    /// empty handler makes a listener that never accepts.
    using Handler = std::function<void(int& fd, TestServer& server)>;

    explicit TestServer(Handler handler, int backlog = 1024) : handler_(std::move(handler)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::listen(listener_, backlog);
        socklen_t length = sizeof address;
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        // Without a handler nothing is accepted: the backlog fills and later connects time out.
        if (handler_) acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~TestServer() {
        stopping_.store(true);
        if (acceptor_.joinable()) acceptor_.join();
        std::vector<std::thread> threads;
        {
            std::lock_guard lock(mutex_);
            threads.swap(threads_);
        }
        for (auto& thread : threads) thread.join();
        ::close(listener_);
    }

    int port() const { return port_; }
    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    bool stopping() const { return stopping_.load(); }
    int connections() const { return accepted_.load(); }

    /// Reads until one request head ("\r\n\r\n") is in `buffer` and removes it. False on EOF,
    /// error, or when the server stops.
    bool read_request(int fd, std::string& buffer) {
        while (true) {
            auto end = buffer.find("\r\n\r\n");
            if (end != std::string::npos) {
                buffer.erase(0, end + 4);
                return true;
            }
            if (!wait_readable(fd)) return false;
            char chunk[4096];
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// Waits for data in 50 ms steps until the server stops.
    bool wait_readable(int fd) {
        while (!stopping()) {
            pollfd p{fd, POLLIN, 0};
            int rc = ::poll(&p, 1, 50);
            if (rc > 0) return true;
            if (rc < 0 && errno != EINTR) return false;
        }
        return false;
    }

    static bool send_all(int fd, const std::string& text) {
        std::size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

private:
    void accept_loop() {
        while (!stopping()) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            accepted_++;
            std::lock_guard lock(mutex_);
            threads_.emplace_back([this, fd]() mutable {
                handler_(fd, *this);
                if (fd >= 0) ::close(fd);
            });
        }
    }

    Handler handler_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<std::thread> threads_;
};

/// A response with a body and a Content-Length.
inline std::string ok_response(const std::string& body = "hello", int status = 200) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// Answers every request with `response`, keeping the connection open.
inline TestServer::Handler answer_with(std::string response) {
    return [response](int& fd, TestServer& server) {
        std::string buffer;
        while (server.read_request(fd, buffer)) {
            if (!TestServer::send_all(fd, response)) return;
        }
    };
}

}  // namespace c10k::bench::testing

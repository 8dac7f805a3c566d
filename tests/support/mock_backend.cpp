#include "support/mock_backend.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <list>
#include <stdexcept>
#include <system_error>

namespace c10k::test {

std::string ok_response(std::string_view body, int status, std::string_view headers) {
    std::string text = "HTTP/1.1 " + std::to_string(status) +
                       " OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    text.append(headers);
    text.append("\r\n");
    text.append(body);
    return text;
}

struct MockBackend::Connection {
    int fd = -1;
    int number = 0;
    int requests = 0;
    bool stalled = false;
    std::string input;
};

MockBackend::MockBackend(Behave behave) : behave_(std::move(behave)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listen_fd_, 128) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::system_error(errno, std::generic_category(), "mock backend listener");
    }
    port_ = ntohs(address.sin_port);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { run(); });
}

MockBackend::~MockBackend() {
    std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
    ::close(listen_fd_);
}

std::vector<ReceivedRequest> MockBackend::requests() {
    std::lock_guard lock(mutex_);
    return requests_;
}

bool MockBackend::serve(Connection& connection) {
    // Each complete request in the input gets its reply; false when the connection ends.
    for (;;) {
        std::size_t end = connection.input.find("\r\n\r\n");
        if (end == std::string::npos) return true;
        std::string head = connection.input.substr(0, end + 4);
        std::size_t body_length = 0;
        for (const char* name : {"\r\nContent-Length: ", "\r\ncontent-length: "}) {
            std::size_t at = head.find(name);
            if (at != std::string::npos)
                body_length = std::strtoul(head.c_str() + at + std::strlen(name), nullptr, 10);
        }
        if (connection.input.size() < head.size() + body_length) return true;
        ReceivedRequest request;
        request.head = head;
        request.body = connection.input.substr(head.size(), body_length);
        connection.input.erase(0, head.size() + body_length);
        std::size_t space = head.find(' ');
        request.method = head.substr(0, space);
        request.target = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
        request.connection = connection.number;
        request.on_connection = ++connection.requests;
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
        }
        Reply reply = behave_(request);
        std::size_t sent = 0;
        while (sent < reply.bytes.size()) {
            ssize_t n = ::send(connection.fd, reply.bytes.data() + sent, reply.bytes.size() - sent,
                               MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        switch (reply.then) {
            case Reply::Then::keep:
                break;
            case Reply::Then::close:
                return false;
            case Reply::Then::reset: {
                linger hard{1, 0};
                ::setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
                return false;
            }
            case Reply::Then::stall:
                connection.stalled = true;
                return true;
        }
    }
}

void MockBackend::run() {
    std::list<Connection> connections;
    std::vector<pollfd> waits;
    for (;;) {
        waits.clear();
        waits.push_back({wake_fd_, POLLIN, 0});
        waits.push_back({listen_fd_, POLLIN, 0});
        for (auto& connection : connections) waits.push_back({connection.fd, POLLIN, 0});
        if (::poll(waits.data(), waits.size(), 1000) < 0) continue;
        if (waits[0].revents != 0) break;
        if (waits[1].revents & POLLIN) {
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) connections.push_back({fd, ++accepted_, 0, false, {}});
        }
        std::size_t index = 2;
        for (auto it = connections.begin(); it != connections.end(); ++index) {
            Connection& connection = *it;
            bool keep = true;
            if (index < waits.size() && waits[index].revents != 0) {
                char buffer[65536];
                ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, 0);
                if (n <= 0) {
                    keep = false;
                } else if (!connection.stalled) {
                    connection.input.append(buffer, static_cast<std::size_t>(n));
                    keep = serve(connection);
                }
            }
            if (keep) {
                ++it;
            } else {
                ::close(connection.fd);
                it = connections.erase(it);
            }
        }
    }
    for (auto& connection : connections) ::close(connection.fd);
}

}  // namespace c10k::test

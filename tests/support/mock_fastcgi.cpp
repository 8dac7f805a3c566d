#include "support/mock_fastcgi.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace c10k::test {

std::string fastcgi_record(int type, std::string_view content, int request_id) {
    std::size_t padding = (8 - content.size() % 8) % 8;
    std::string out(8, '\0');
    out[0] = 1;
    out[1] = static_cast<char>(type);
    out[2] = static_cast<char>(request_id >> 8);
    out[3] = static_cast<char>(request_id & 0xff);
    out[4] = static_cast<char>(content.size() >> 8);
    out[5] = static_cast<char>(content.size() & 0xff);
    out[6] = static_cast<char>(padding);
    out.append(content);
    out.append(padding, '\0');
    return out;
}

std::string fastcgi_response(std::string_view output) {
    return fastcgi_record(6, output) + fastcgi_record(6, {}) +
           fastcgi_record(3, std::string(8, '\0'));
}

MockFastcgi::MockFastcgi(Behave behave) : behave_(std::move(behave)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("mock FastCGI: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
}

MockFastcgi::~MockFastcgi() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
}

void MockFastcgi::run() {
    while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        serve(fd, ++connections_);
        ::close(fd);
    }
}

void MockFastcgi::serve(int fd, int connection) {
    // One connection at a time, one request at a time: what the server under test does with
    // php-fpm too. Records are read until the empty STDIN record ends a request.
    std::string input;
    while (!stop_) {
        bool stdin_ended = false;
        while (!stdin_ended) {
            while (input.size() >= 8) {
                auto byte = [&](std::size_t i) { return static_cast<unsigned char>(input[i]); };
                std::size_t length = byte(4) << 8 | byte(5);
                std::size_t total = 8 + length + byte(6);
                if (input.size() < total) break;
                if (byte(1) == 5 && length == 0) stdin_ended = true;
                input.erase(0, total);
                if (stdin_ended) break;
            }
            if (stdin_ended) break;
            pollfd p{fd, POLLIN, 0};
            if (stop_) return;
            if (::poll(&p, 1, 50) <= 0) continue;
            char buffer[65536];
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) return;  // the server closed it
            input.append(buffer, static_cast<std::size_t>(n));
        }
        FastcgiReply reply = behave_(connection, ++requests_);
        std::string_view rest = reply.bytes;
        while (!rest.empty()) {
            ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n <= 0) return;
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        if (reply.close) return;
    }
}

}  // namespace c10k::test

#include "core/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

#include <fmt/core.h>

namespace c10k::core {

int Endpoint::port() const {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
    if (family() == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
    return 0;
}

std::string Endpoint::to_string() const {
    char host[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, host,
                  sizeof host);
        return fmt::format("{}:{}", host, port());
    }
    if (family() == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, host,
                  sizeof host);
        return fmt::format("[{}]:{}", host, port());
    }
    return "?";
}

bool parse_endpoint(std::string_view text, Endpoint& out, std::string& error) {
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = fmt::format("'{}' is not HOST:PORT (IPv6 is written [::1]:8080)", text);
            return false;
        }
        host = std::string(text.substr(1, close - 1));
        port = std::string(text.substr(close + 2));
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            error = fmt::format("'{}' is not HOST:PORT (for example 127.0.0.1:8080)", text);
            return false;
        }
        host = std::string(text.substr(0, colon));
        port = std::string(text.substr(colon + 1));
        if (host.find(':') != std::string::npos) {
            error = fmt::format("'{}': write IPv6 addresses in brackets, as [::1]:8080", text);
            return false;
        }
    }
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
        port.size() > 5 || std::stoi(port) > 65535) {
        error = fmt::format("'{}': the port must be a number from 0 to 65535", text);
        return false;
    }
    if (host.empty()) host = "0.0.0.0";
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        error = fmt::format("cannot resolve '{}': {}", host, gai_strerror(rc));
        return false;
    }
    std::memcpy(&out.address, found->ai_addr, found->ai_addrlen);
    out.length = found->ai_addrlen;
    freeaddrinfo(found);
    return true;
}

Result<unique_fd> listen_on(const Endpoint& endpoint, const ListenOptions& options) {
    int flags = SOCK_STREAM | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0);
    unique_fd fd(::socket(endpoint.family(), flags, 0));
    if (!fd) return last_errno();
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return last_errno();
    }
    if (endpoint.family() == AF_INET6) {
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (auto set = apply_socket_buffers(fd.get(), options.buffers); !set) return Errno{set.error()};
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length) !=
        0)
        return last_errno();
    if (::listen(fd.get(), options.backlog) != 0) return last_errno();
    return fd;
}

Result<Endpoint> local_endpoint(int fd) {
    Endpoint endpoint;
    endpoint.length = sizeof endpoint.address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&endpoint.address), &endpoint.length) != 0)
        return last_errno();
    return endpoint;
}

std::string peer_address(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
    return address_text(address);
}

std::string address_text(const sockaddr_storage& address) {
    Endpoint endpoint;
    endpoint.address = address;
    endpoint.length = address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    std::string text = endpoint.to_string();
    return text.substr(0, text.rfind(':'));
}

bool parse_address_text(std::string_view text, sockaddr_storage& out) {
    out = sockaddr_storage{};
    std::string host(text);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
        v6->sin6_family = AF_INET6;
        return ::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1;
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    v4->sin_family = AF_INET;
    return ::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1;
}

void set_no_delay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool set_nonblocking(int fd, bool enabled) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return false;
    flags = enabled ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return ::fcntl(fd, F_SETFL, flags) == 0;
}

}  // namespace c10k::core

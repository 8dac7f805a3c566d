#include "fastcgi/address.hpp"

#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "core/net.hpp"

namespace c10k::fastcgi {

bool parse_address(std::string_view text, Address& out, std::string& error) {
    out = Address{};
    out.text = std::string(text);
    if (text.starts_with("unix:")) {
        std::string_view path = text.substr(5);
        sockaddr_un un{};
        if (path.empty() || path.front() != '/') {
            error = "a Unix socket needs an absolute path, e.g. unix:/run/php/php-fpm.sock";
            return false;
        }
        if (path.size() >= sizeof un.sun_path) {
            error = fmt::format("the socket path is longer than {} bytes", sizeof un.sun_path - 1);
            return false;
        }
        un.sun_family = AF_UNIX;
        std::memcpy(un.sun_path, path.data(), path.size());
        std::memcpy(&out.address, &un, sizeof un);
        out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        return true;
    }
    core::Endpoint endpoint;
    std::string why;
    if (text.find(':') == std::string_view::npos || !core::parse_endpoint(text, endpoint, why)) {
        error = fmt::format("expected unix:PATH or HOST:PORT (e.g. 127.0.0.1:9000){}",
                            why.empty() ? "" : ": " + why);
        return false;
    }
    out.address = endpoint.address;
    out.length = endpoint.length;
    return true;
}

core::Result<core::unique_fd> connect_to(const Address& address) {
    int family = address.address.ss_family;
    core::unique_fd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return core::last_errno();
    // Records go out whole: Nagle would only hold the last segment of a request.
    if (family != AF_UNIX) core::set_no_delay(fd.get());
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.address), address.length) !=
            0 &&
        errno != EINPROGRESS) {
        return core::last_errno();
    }
    return fd;
}

}  // namespace c10k::fastcgi

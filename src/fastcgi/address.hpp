#pragma once
// Where a FastCGI application listens: "unix:/run/php/php8.2-fpm.sock" (a Unix socket, as
// Debian's php-fpm is set up) or "HOST:PORT" (TCP, e.g. 127.0.0.1:9000).

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::fastcgi {

struct Address {
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string text;  ///< as written, for logs and error pages
};

/// Parses `text`. False with `error` saying what is wrong and what is expected.
bool parse_address(std::string_view text, Address& out, std::string& error);

/// A non-blocking connect to `address`: the descriptor, connected or in progress (then it
/// turns writable, and SO_ERROR says how it went). An errno when it failed at once (a Unix
/// socket that does not exist: ENOENT; nobody listening: ECONNREFUSED).
core::Result<core::unique_fd> connect_to(const Address& address);

}  // namespace c10k::fastcgi

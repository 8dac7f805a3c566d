#pragma once
// Socket addresses and listening sockets, shared by the server engines and the load generator.

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/socket_buffers.hpp"
#include "core/unique_fd.hpp"

namespace c10k::core {

/// A resolved socket address plus the text it was written as ("127.0.0.1:8080", "[::1]:80").
struct Endpoint {
    sockaddr_storage address{};
    socklen_t length = 0;

    int family() const { return address.ss_family; }
    int port() const;
    /// "HOST:PORT", with IPv6 hosts in brackets.
    std::string to_string() const;
};

/// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses). Names are resolved with
/// getaddrinfo. On failure returns false and sets `error` to a sentence saying why.
bool parse_endpoint(std::string_view text, Endpoint& out, std::string& error);

struct ListenOptions {
    int backlog = 4096;
    /// SO_REUSEPORT: each loop gets its own listener and the kernel spreads connections.
    bool reuse_port = true;
    bool nonblocking = true;
    /// SO_SNDBUF / SO_RCVBUF, set before listen() so that accepted sockets inherit them; 0
    /// leaves the kernel's default.
    SocketBuffers buffers;
};

/// socket + SO_REUSEADDR (+ SO_REUSEPORT) + buffers + bind + listen. IPv6 listeners are
/// IPV6_V6ONLY.
Result<unique_fd> listen_on(const Endpoint& endpoint, const ListenOptions& options);

/// The address a socket is bound to (for listeners opened on port 0).
Result<Endpoint> local_endpoint(int fd);

/// Turns off Nagle's algorithm: responses are written whole, in one writev, so delaying the last
/// segment would only add latency.
void set_no_delay(int fd);

/// The peer's address of a connected socket without the port ("127.0.0.1", "[::1]"), for access
/// logs; empty when it cannot be read.
std::string peer_address(int fd);
/// The same text for an address already at hand (a PROXY protocol header's source).
std::string address_text(const sockaddr_storage& address);
/// The reverse: "127.0.0.1" or "[::1]" to an address with port 0. False when it is neither.
bool parse_address_text(std::string_view text, sockaddr_storage& out);

/// Makes a descriptor non-blocking.
bool set_nonblocking(int fd, bool enabled = true);

}  // namespace c10k::core

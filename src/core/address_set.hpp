#pragma once
// A set of IP addresses and CIDR networks, read from configuration ("127.0.0.1", "10.0.0.0/8",
// "::1", "fd00::/8"): the peers whose PROXY headers are believed (see proxy_protocol.hpp).

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::core {

class AddressSet {
public:
    /// Adds "ADDRESS" (one host) or "ADDRESS/PREFIX" (a network), IPv4 or IPv6. Returns false
    /// and sets `error` to a sentence naming the entry when it is not one of those, when the
    /// prefix length is out of range, or when the address has bits set past the prefix (a
    /// typo as often as not: "10.0.0.1/8" is refused and 10.0.0.0/8 suggested).
    bool add(std::string_view entry, std::string& error);

    /// Whether the address (AF_INET or AF_INET6; the port is ignored) lies in one of the
    /// entries. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack listener reports
    /// an IPv4 peer) matches the IPv4 entries too. Any other family is never contained.
    bool contains(const sockaddr_storage& address) const;

    bool empty() const { return v4_.empty() && v6_.empty(); }
    std::size_t size() const { return v4_.size() + v6_.size(); }

private:
    struct Network {
        std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
        unsigned prefix = 0;                   // leading bits that must match
    };

    static bool matches(const Network& network, const std::uint8_t* address);

    // A linear scan: trusted lists are a handful of balancers, and the check runs once per
    // connection, not per request.
    std::vector<Network> v4_;
    std::vector<Network> v6_;
};

}  // namespace c10k::core

#include "core/address_set.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <fmt/core.h>

namespace c10k::core {
namespace {

/// Clears the bits of `bytes` after the first `prefix`; says whether any was set.
bool clear_host_bits(std::uint8_t* bytes, std::size_t size, unsigned prefix) {
    bool any = false;
    for (std::size_t i = 0; i < size; ++i) {
        unsigned first_bit = static_cast<unsigned>(i) * 8;
        std::uint8_t keep = 0;
        if (prefix >= first_bit + 8) {
            keep = 0xff;
        } else if (prefix > first_bit) {
            keep = static_cast<std::uint8_t>(0xff << (8 - (prefix - first_bit)));
        }
        if ((bytes[i] & ~keep) != 0) any = true;
        bytes[i] &= keep;
    }
    return any;
}

}  // namespace

bool AddressSet::add(std::string_view entry, std::string& error) {
    std::string_view address = entry;
    std::string_view prefix_text;
    bool has_prefix = false;
    if (auto slash = entry.find('/'); slash != std::string_view::npos) {
        address = entry.substr(0, slash);
        prefix_text = entry.substr(slash + 1);
        has_prefix = true;
    }
    if (entry.empty()) {
        error = "an empty entry where an address or network was expected";
        return false;
    }
    if (!address.empty() && address.front() == '[') {
        error = fmt::format("'{}': write IPv6 addresses without brackets (::1, fd00::/8)", entry);
        return false;
    }
    Network network;
    int family = 0;
    char buffer[INET6_ADDRSTRLEN] = {};
    // A NUL would end the text early for inet_pton: "10.0.0.1\0junk" must not pass.
    if (address.size() < sizeof buffer && address.find('\0') == std::string_view::npos) {
        std::memcpy(buffer, address.data(), address.size());
        if (inet_pton(AF_INET, buffer, network.bytes.data()) == 1) {
            family = AF_INET;
        } else if (inet_pton(AF_INET6, buffer, network.bytes.data()) == 1) {
            family = AF_INET6;
        }
    }
    if (family == 0) {
        error = fmt::format(
            "'{}' is not an IPv4 or IPv6 address or network (for example 10.0.0.1, 10.0.0.0/8, "
            "::1 or fd00::/8)",
            entry);
        return false;
    }
    unsigned bits = family == AF_INET ? 32 : 128;
    network.prefix = bits;
    if (has_prefix) {
        // Decimal without a sign or leading zero, as every CIDR list writes it.
        bool valid = !prefix_text.empty() && prefix_text.size() <= 3 &&
                     (prefix_text.size() == 1 || prefix_text[0] != '0');
        unsigned value = 0;
        for (char c : prefix_text) {
            if (c < '0' || c > '9') valid = false;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (!valid || value > bits) {
            error = fmt::format("'{}': the prefix length must be 0..{}", entry, bits);
            return false;
        }
        network.prefix = value;
    }
    std::size_t size = family == AF_INET ? 4 : 16;
    if (clear_host_bits(network.bytes.data(), size, network.prefix)) {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(family, network.bytes.data(), text, sizeof text);
        error =
            fmt::format("'{}': the address has bits set past the first {} (the network is {}/{})",
                        entry, network.prefix, text, network.prefix);
        return false;
    }
    (family == AF_INET ? v4_ : v6_).push_back(network);
    return true;
}

bool AddressSet::matches(const Network& network, const std::uint8_t* address) {
    unsigned whole = network.prefix / 8;
    if (std::memcmp(network.bytes.data(), address, whole) != 0) return false;
    unsigned rest = network.prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (address[whole] & mask) == network.bytes[whole];
}

bool AddressSet::contains(const sockaddr_storage& address) const {
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(&v4.sin_addr);
        for (const Network& network : v4_) {
            if (matches(network, bytes)) return true;
        }
        return false;
    }
    if (address.ss_family != AF_INET6) return false;
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&v6.sin6_addr);
    for (const Network& network : v6_) {
        if (matches(network, bytes)) return true;
    }
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
        for (const Network& network : v4_) {
            if (matches(network, bytes + 12)) return true;
        }
    }
    return false;
}

}  // namespace c10k::core

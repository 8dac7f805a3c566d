#include "core/address_set.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>

namespace c10k::core {
namespace {

using namespace std::string_literals;

sockaddr_storage ip(const char* text) {
    sockaddr_storage out{};
    if (std::strchr(text, ':') == nullptr) {
        auto& v4 = reinterpret_cast<sockaddr_in&>(out);
        v4.sin_family = AF_INET;
        v4.sin_port = htons(8080);
        EXPECT_EQ(inet_pton(AF_INET, text, &v4.sin_addr), 1) << text;
    } else {
        auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(8080);
        EXPECT_EQ(inet_pton(AF_INET6, text, &v6.sin6_addr), 1) << text;
    }
    return out;
}

AddressSet make(std::initializer_list<const char*> entries) {
    AddressSet set;
    for (const char* entry : entries) {
        std::string error;
        EXPECT_TRUE(set.add(entry, error)) << entry << ": " << error;
    }
    return set;
}

/// The error for one entry, or "accepted".
std::string error_for(const char* entry) {
    AddressSet set;
    std::string error;
    if (set.add(entry, error)) return "accepted";
    EXPECT_TRUE(set.empty()) << entry;
    return error;
}

TEST(AddressSet, HostsAndNetworks) {
    AddressSet set = make({"127.0.0.1", "10.0.0.0/8", "192.168.0.0/23", "::1", "fc00::/7"});
    EXPECT_EQ(set.size(), 5u);
    EXPECT_TRUE(set.contains(ip("127.0.0.1")));
    EXPECT_FALSE(set.contains(ip("127.0.0.2")));
    EXPECT_TRUE(set.contains(ip("10.0.0.0")));
    EXPECT_TRUE(set.contains(ip("10.255.1.2")));
    EXPECT_FALSE(set.contains(ip("11.0.0.1")));
    EXPECT_FALSE(set.contains(ip("9.255.255.255")));
    // A prefix that ends inside a byte.
    EXPECT_TRUE(set.contains(ip("192.168.1.255")));
    EXPECT_FALSE(set.contains(ip("192.168.2.0")));
    EXPECT_TRUE(set.contains(ip("::1")));
    EXPECT_FALSE(set.contains(ip("::2")));
    EXPECT_TRUE(set.contains(ip("fc00::1")));
    EXPECT_TRUE(set.contains(ip("fdff:ffff::1")));
    EXPECT_FALSE(set.contains(ip("fe80::1")));
    EXPECT_FALSE(set.contains(ip("fb00::1")));
}

TEST(AddressSet, MappedIpv4PeersMatchIpv4Entries) {
    AddressSet set = make({"10.0.0.0/8", "fd00::/8"});
    EXPECT_TRUE(set.contains(ip("::ffff:10.1.2.3")));
    EXPECT_FALSE(set.contains(ip("::ffff:11.1.2.3")));
    // Only mapped addresses: 10.1.2.3 in the last 32 bits of another prefix is not IPv4.
    EXPECT_FALSE(set.contains(ip("::10.1.2.3")));
    EXPECT_FALSE(set.contains(ip("64:ff9b::10.1.2.3")));
    // An IPv4 peer is not in an IPv6 network.
    EXPECT_FALSE(make({"::/0"}).contains(ip("10.1.2.3")));
}

TEST(AddressSet, ZeroPrefixMatchesItsWholeFamily) {
    AddressSet v4 = make({"0.0.0.0/0"});
    EXPECT_TRUE(v4.contains(ip("1.2.3.4")));
    EXPECT_TRUE(v4.contains(ip("255.255.255.255")));
    EXPECT_TRUE(v4.contains(ip("::ffff:1.2.3.4")));
    EXPECT_FALSE(v4.contains(ip("::1")));
    AddressSet v6 = make({"::/0"});
    EXPECT_TRUE(v6.contains(ip("2001:db8::1")));
    EXPECT_TRUE(v6.contains(ip("::ffff:1.2.3.4")));
    // Full-length prefixes are single hosts.
    AddressSet hosts = make({"10.0.0.1/32", "2001:db8::1/128"});
    EXPECT_TRUE(hosts.contains(ip("10.0.0.1")));
    EXPECT_FALSE(hosts.contains(ip("10.0.0.0")));
    EXPECT_TRUE(hosts.contains(ip("2001:db8::1")));
    EXPECT_FALSE(hosts.contains(ip("2001:db8::")));
}

TEST(AddressSet, NothingElseIsContained) {
    AddressSet empty;
    EXPECT_TRUE(empty.empty());
    EXPECT_FALSE(empty.contains(ip("127.0.0.1")));
    AddressSet everything = make({"0.0.0.0/0", "::/0"});
    sockaddr_storage local{};
    auto& un = reinterpret_cast<sockaddr_un&>(local);
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, "/run/c10k.sock");
    EXPECT_FALSE(everything.contains(local));
    sockaddr_storage unspecified{};
    EXPECT_FALSE(everything.contains(unspecified));
}

TEST(AddressSet, ErrorsNameTheEntryAndSayWhy) {
    EXPECT_EQ(error_for("10.0.0.0/33"), "'10.0.0.0/33': the prefix length must be 0..32");
    EXPECT_EQ(error_for("fd00::/129"), "'fd00::/129': the prefix length must be 0..128");
    EXPECT_EQ(error_for("10.0.0.0/"), "'10.0.0.0/': the prefix length must be 0..32");
    EXPECT_EQ(error_for("10.0.0.0/x"), "'10.0.0.0/x': the prefix length must be 0..32");
    EXPECT_EQ(error_for("10.0.0.0/-1"), "'10.0.0.0/-1': the prefix length must be 0..32");
    EXPECT_EQ(error_for("10.0.0.0/08"), "'10.0.0.0/08': the prefix length must be 0..32");
    EXPECT_EQ(error_for("10.0.0.0/8/8"), "'10.0.0.0/8/8': the prefix length must be 0..32");
    EXPECT_EQ(error_for("10.0.0.1/8"),
              "'10.0.0.1/8': the address has bits set past the first 8 (the network is "
              "10.0.0.0/8)");
    EXPECT_EQ(error_for("fd00::1/8"),
              "'fd00::1/8': the address has bits set past the first 8 (the network is "
              "fd00::/8)");
    EXPECT_EQ(error_for("[::1]"), "'[::1]': write IPv6 addresses without brackets (::1, fd00::/8)");
    EXPECT_EQ(error_for(""), "an empty entry where an address or network was expected");
    AddressSet set;
    std::string error;
    EXPECT_FALSE(set.add("10.0.0.1\0junk"s, error));
    EXPECT_FALSE(set.add("10.0.0.0\0/8"s, error));
    for (const char* entry : {"localhost", "10.0.0", "10.0.0.01", " 10.0.0.1", "10.0.0.1 ", "/8",
                              "fe80::1%eth0", "1.2.3.4.5"}) {
        EXPECT_NE(error_for(entry).find("is not an IPv4 or IPv6 address"), std::string::npos)
            << entry << ": " << error_for(entry);
    }
}

TEST(AddressSet, AFailedEntryLeavesTheSetAsItWas) {
    AddressSet set = make({"127.0.0.1"});
    std::string error;
    EXPECT_FALSE(set.add("10.0.0.0/33", error));
    EXPECT_EQ(set.size(), 1u);
    EXPECT_FALSE(set.contains(ip("10.0.0.1")));
}

}  // namespace
}  // namespace c10k::core

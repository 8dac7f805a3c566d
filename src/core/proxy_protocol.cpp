#include "core/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace c10k::core {
namespace {

constexpr std::string_view v1_signature = "PROXY ";
constexpr char v2_signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                   '\n', 'Q',  'U',  'I',  'T',  '\n'};

// Version 2's 13th byte: the version in the high nibble, the command in the low one.
constexpr std::uint8_t v2_version = 0x2;
constexpr std::uint8_t command_local = 0x0;
constexpr std::uint8_t command_proxy = 0x1;
// The 14th byte: the address family in the high nibble, the transport in the low one.
constexpr std::uint8_t family_unspecified = 0x0;
constexpr std::uint8_t family_inet = 0x1;
constexpr std::uint8_t family_inet6 = 0x2;
constexpr std::uint8_t family_unix = 0x3;
constexpr std::uint8_t transport_stream = 0x1;
constexpr std::uint8_t transport_datagram = 0x2;
// Address block sizes: two addresses and two ports, or two 108-byte Unix paths.
constexpr std::size_t inet_block_size = 4 + 4 + 2 + 2;
constexpr std::size_t inet6_block_size = 16 + 16 + 2 + 2;
constexpr std::size_t unix_block_size = 108 + 108;
// A TLV: a type byte and a 16-bit big-endian length before the value.
constexpr std::size_t tlv_header_size = 3;

bool is_ip(const sockaddr_storage& address) {
    return address.ss_family == AF_INET || address.ss_family == AF_INET6;
}

const sockaddr_in& as_v4(const sockaddr_storage& address) {
    return reinterpret_cast<const sockaddr_in&>(address);
}

const sockaddr_in6& as_v6(const sockaddr_storage& address) {
    return reinterpret_cast<const sockaddr_in6&>(address);
}

/// The address as IPv6; an IPv4 one becomes ::ffff:a.b.c.d, so that a mixed pair (which one
/// header line cannot carry) is sent in one family.
sockaddr_in6 to_v6(const sockaddr_storage& address) {
    if (address.ss_family == AF_INET6) return as_v6(address);
    sockaddr_in6 out{};
    out.sin6_family = AF_INET6;
    out.sin6_port = as_v4(address).sin_port;
    out.sin6_addr.s6_addr[10] = 0xff;
    out.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&out.sin6_addr.s6_addr[12], &as_v4(address).sin_addr, 4);
    return out;
}

void append_bytes(std::string& out, const void* data, std::size_t size) {
    out.append(static_cast<const char*>(data), size);
}

/// A port (in network order) in decimal. By hand rather than with fmt::format_to: fmt 9's
/// library, built by gcc, lacks the symbol that format_to needs when clang compiles the caller
/// (the fuzz build), and two digits' worth of code is no reason to allocate with fmt::format.
void append_port(std::string& out, in_port_t port) {
    char digits[5];
    std::size_t count = 0;
    unsigned value = ntohs(port);
    do {
        digits[count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0) out += digits[--count];
}

std::uint16_t read_u16(const char* data) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(data[0]) << 8) |
                                      static_cast<unsigned char>(data[1]));
}

/// A port as version 1 writes it: decimal, 0 to 65535, no sign and no leading zero (a second
/// spelling of the same number is a second way to get through a filter).
bool parse_port(std::string_view text, in_port_t& out) {
    if (text.empty() || text.size() > 5) return false;
    if (text.size() > 1 && text[0] == '0') return false;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return false;
    out = htons(static_cast<std::uint16_t>(value));
    return true;
}

/// One address of a version 1 line, in the family its protocol names. inet_pton is strict for
/// both (IPv4: four decimal parts without leading zeros; IPv6: no zone, no brackets).
bool parse_address(std::string_view text, int family, in_port_t port, sockaddr_storage& out) {
    char buffer[INET6_ADDRSTRLEN] = {};
    // A NUL would end the text early for inet_pton: "192.0.2.1\0junk" must not pass.
    if (text.size() >= sizeof buffer || text.find('\0') != std::string_view::npos) return false;
    std::memcpy(buffer, text.data(), text.size());
    out = {};
    if (family == AF_INET) {
        auto& v4 = reinterpret_cast<sockaddr_in&>(out);
        v4.sin_family = AF_INET;
        v4.sin_port = port;
        return inet_pton(AF_INET, buffer, &v4.sin_addr) == 1;
    }
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = port;
    return inet_pton(AF_INET6, buffer, &v6.sin6_addr) == 1;
}

}  // namespace

void append_proxy_v1(const sockaddr_storage& source, const sockaddr_storage& destination,
                     std::string& out) {
    if (!is_ip(source) || !is_ip(destination)) {
        out += "PROXY UNKNOWN\r\n";
        return;
    }
    char source_text[INET6_ADDRSTRLEN] = {};
    char destination_text[INET6_ADDRSTRLEN] = {};
    in_port_t source_port = 0;
    in_port_t destination_port = 0;
    if (source.ss_family == AF_INET && destination.ss_family == AF_INET) {
        out += "PROXY TCP4 ";
        inet_ntop(AF_INET, &as_v4(source).sin_addr, source_text, sizeof source_text);
        inet_ntop(AF_INET, &as_v4(destination).sin_addr, destination_text, sizeof destination_text);
        source_port = as_v4(source).sin_port;
        destination_port = as_v4(destination).sin_port;
    } else {
        out += "PROXY TCP6 ";
        sockaddr_in6 from = to_v6(source);
        sockaddr_in6 to = to_v6(destination);
        inet_ntop(AF_INET6, &from.sin6_addr, source_text, sizeof source_text);
        inet_ntop(AF_INET6, &to.sin6_addr, destination_text, sizeof destination_text);
        source_port = from.sin6_port;
        destination_port = to.sin6_port;
    }
    out += source_text;
    out += ' ';
    out += destination_text;
    out += ' ';
    append_port(out, source_port);
    out += ' ';
    append_port(out, destination_port);
    out += "\r\n";
}

void append_proxy_v2(const sockaddr_storage& source, const sockaddr_storage& destination,
                     std::string& out) {
    append_bytes(out, v2_signature, sizeof v2_signature);
    if (!is_ip(source) || !is_ip(destination)) {
        // LOCAL with an unspecified family and no address block: the receiver keeps the
        // connection's own addresses.
        const char rest[4] = {static_cast<char>(v2_version << 4 | command_local),
                              static_cast<char>(family_unspecified << 4), 0, 0};
        append_bytes(out, rest, sizeof rest);
        return;
    }
    const char command = static_cast<char>(v2_version << 4 | command_proxy);
    if (source.ss_family == AF_INET && destination.ss_family == AF_INET) {
        const char rest[4] = {command, static_cast<char>(family_inet << 4 | transport_stream), 0,
                              static_cast<char>(inet_block_size)};
        append_bytes(out, rest, sizeof rest);
        // Addresses and ports are kept in network order already, as the header wants them.
        append_bytes(out, &as_v4(source).sin_addr, 4);
        append_bytes(out, &as_v4(destination).sin_addr, 4);
        append_bytes(out, &as_v4(source).sin_port, 2);
        append_bytes(out, &as_v4(destination).sin_port, 2);
        return;
    }
    const char rest[4] = {command, static_cast<char>(family_inet6 << 4 | transport_stream), 0,
                          static_cast<char>(inet6_block_size)};
    append_bytes(out, rest, sizeof rest);
    sockaddr_in6 from = to_v6(source);
    sockaddr_in6 to = to_v6(destination);
    append_bytes(out, &from.sin6_addr, 16);
    append_bytes(out, &to.sin6_addr, 16);
    append_bytes(out, &from.sin6_port, 2);
    append_bytes(out, &to.sin6_port, 2);
}

ProxyDetection detect_proxy_header(const char* data, std::size_t size) {
    if (size == 0) return ProxyDetection::need_more;
    std::size_t v1_length = std::min(size, v1_signature.size());
    std::size_t v2_length = std::min(size, sizeof v2_signature);
    bool maybe_v1 = std::memcmp(data, v1_signature.data(), v1_length) == 0;
    bool maybe_v2 = std::memcmp(data, v2_signature, v2_length) == 0;
    if (maybe_v1 && v1_length == v1_signature.size()) return ProxyDetection::v1;
    if (maybe_v2 && v2_length == sizeof v2_signature) return ProxyDetection::v2;
    if (maybe_v1 || maybe_v2) return ProxyDetection::need_more;
    return ProxyDetection::not_proxy;
}

ProxyHeaderParser::Status ProxyHeaderParser::feed(const char* data, std::size_t size) {
    if (status_ != Status::need_more) return status_;
    if (size == 0) {
        consumed_ = 0;
        return status_;
    }
    if (pending_.empty()) {
        // The usual case: the header is whole in the first read, and is parsed where it lies.
        Status status = parse(data, size);
        if (status == Status::invalid) return status;
        if (status == Status::done) {
            consumed_ = header_.size;
            return status_ = Status::done;
        }
        // parse() asks for more only while the input is shorter than max_header_size.
        pending_.assign(data, size);
        consumed_ = size;
        return Status::need_more;
    }
    std::size_t before = pending_.size();
    std::size_t take = std::min(size, max_header_size - before);
    pending_.append(data, take);
    Status status = parse(pending_.data(), pending_.size());
    if (status == Status::invalid) return status;
    if (status == Status::done) {
        // The header ends inside the bytes just taken: it did not end before them, or the
        // previous feed would have been done.
        consumed_ = header_.size - before;
        return status_ = Status::done;
    }
    consumed_ = take;
    return Status::need_more;
}

void ProxyHeaderParser::reset() {
    status_ = Status::need_more;
    consumed_ = 0;
    header_ = ProxyHeader{};
    error_ = "";
    pending_.clear();
}

ProxyHeaderParser::Status ProxyHeaderParser::fail(const char* reason) {
    error_ = reason;
    consumed_ = 0;
    return status_ = Status::invalid;
}

ProxyHeaderParser::Status ProxyHeaderParser::parse(const char* data, std::size_t size) {
    switch (detect_proxy_header(data, size)) {
        case ProxyDetection::need_more:
            return Status::need_more;
        case ProxyDetection::v1:
            return parse_v1(data, size);
        case ProxyDetection::v2:
            return parse_v2(data, size);
        case ProxyDetection::not_proxy:
            break;
    }
    return fail("not a PROXY protocol header");
}

ProxyHeaderParser::Status ProxyHeaderParser::parse_v1(const char* data, std::size_t size) {
    std::size_t searched = std::min(size, max_v1_size);
    const char* line_feed = static_cast<const char*>(std::memchr(data, '\n', searched));
    if (line_feed == nullptr) {
        if (size >= max_v1_size) return fail("a version 1 header longer than 107 bytes");
        return Status::need_more;
    }
    std::size_t line_end = static_cast<std::size_t>(line_feed - data);
    if (data[line_end - 1] != '\r') return fail("a version 1 header ending in LF without CR");
    // Between "PROXY " and CRLF.
    std::string_view line(data + v1_signature.size(), line_end - 1 - v1_signature.size());
    if (line.find('\r') != std::string_view::npos) return fail("a bare CR in a version 1 header");

    header_ = ProxyHeader{};
    header_.version = 1;
    header_.size = line_end + 1;
    std::string_view protocol = line.substr(0, line.find(' '));
    std::string_view rest = line.substr(protocol.size());
    if (protocol == "UNKNOWN") {
        // The specification has the receiver ignore whatever follows UNKNOWN on the line.
        header_.local = true;
        return Status::done;
    }
    int family = 0;
    if (protocol == "TCP4") {
        family = AF_INET;
    } else if (protocol == "TCP6") {
        family = AF_INET6;
    } else {
        return fail("a version 1 protocol other than TCP4, TCP6 or UNKNOWN");
    }
    // Exactly " SRC DST SPORT DPORT": four fields, each after one space, none empty.
    std::string_view fields[4];
    for (std::string_view& field : fields) {
        if (rest.empty() || rest[0] != ' ') return fail("a version 1 header with missing fields");
        rest.remove_prefix(1);
        field = rest.substr(0, rest.find(' '));
        if (field.empty()) return fail("a version 1 header with two spaces in a row");
        rest.remove_prefix(field.size());
    }
    if (!rest.empty()) return fail("a version 1 header with more than four fields");
    in_port_t source_port = 0;
    in_port_t destination_port = 0;
    if (!parse_port(fields[2], source_port) || !parse_port(fields[3], destination_port)) {
        return fail("a version 1 port that is not a number from 0 to 65535");
    }
    if (!parse_address(fields[0], family, source_port, header_.source) ||
        !parse_address(fields[1], family, destination_port, header_.destination)) {
        return fail(family == AF_INET ? "a TCP4 address that is not IPv4"
                                      : "a TCP6 address that is not IPv6");
    }
    header_.has_addresses = true;
    return Status::done;
}

ProxyHeaderParser::Status ProxyHeaderParser::parse_v2(const char* data, std::size_t size) {
    if (size < v2_fixed_size) return Status::need_more;
    auto version_command = static_cast<std::uint8_t>(data[12]);
    auto family_transport = static_cast<std::uint8_t>(data[13]);
    std::size_t length = read_u16(data + 14);
    if (version_command >> 4 != v2_version) {
        return fail("a binary header of a version other than 2");
    }
    std::uint8_t command = version_command & 0x0f;
    if (command != command_local && command != command_proxy) {
        return fail("a version 2 command other than LOCAL or PROXY");
    }
    // Checked before waiting for the rest, so that a peer cannot make the parser wait for
    // (and keep) more than the limit.
    if (length > max_v2_payload) {
        return fail("a version 2 header declaring more than 1,024 bytes after its fixed part");
    }
    if (size < v2_fixed_size + length) return Status::need_more;

    header_ = ProxyHeader{};
    header_.version = 2;
    header_.size = v2_fixed_size + length;
    if (command == command_local) {
        // The specification has the receiver discard LOCAL's block, family included: it is
        // the balancer's own connection (a health check), not a client's.
        header_.local = true;
        return Status::done;
    }
    std::uint8_t family = family_transport >> 4;
    std::uint8_t transport = family_transport & 0x0f;
    if (family > family_unix || transport > transport_datagram) {
        return fail("a version 2 address family or transport that does not exist");
    }
    std::size_t block = 0;
    if (family == family_inet) block = inet_block_size;
    if (family == family_inet6) block = inet6_block_size;
    if (family == family_unix) block = unix_block_size;
    if (length < block) return fail("a version 2 header too short for its addresses");

    // The TLVs after the addresses are not used, but must fill the rest exactly: a length
    // that runs past the header means the sender and this parser disagree on where it ends.
    const char* tlv = data + v2_fixed_size + block;
    std::size_t left = length - block;
    while (left > 0) {
        if (left < tlv_header_size) return fail("a truncated version 2 TLV");
        std::size_t value_length = read_u16(tlv + 1);
        if (value_length > left - tlv_header_size) return fail("a truncated version 2 TLV");
        tlv += tlv_header_size + value_length;
        left -= tlv_header_size + value_length;
    }

    // Unspecified, Unix and datagram addresses are accepted but not used: this server speaks
    // TCP, so the connection's own addresses are the better answer than any of those.
    if (transport != transport_stream || (family != family_inet && family != family_inet6)) {
        return Status::done;
    }
    const char* addresses = data + v2_fixed_size;
    if (family == family_inet) {
        auto& from = reinterpret_cast<sockaddr_in&>(header_.source);
        auto& to = reinterpret_cast<sockaddr_in&>(header_.destination);
        from.sin_family = to.sin_family = AF_INET;
        std::memcpy(&from.sin_addr, addresses, 4);
        std::memcpy(&to.sin_addr, addresses + 4, 4);
        std::memcpy(&from.sin_port, addresses + 8, 2);
        std::memcpy(&to.sin_port, addresses + 10, 2);
    } else {
        auto& from = reinterpret_cast<sockaddr_in6&>(header_.source);
        auto& to = reinterpret_cast<sockaddr_in6&>(header_.destination);
        from.sin6_family = to.sin6_family = AF_INET6;
        std::memcpy(&from.sin6_addr, addresses, 16);
        std::memcpy(&to.sin6_addr, addresses + 16, 16);
        std::memcpy(&from.sin6_port, addresses + 32, 2);
        std::memcpy(&to.sin6_port, addresses + 34, 2);
    }
    header_.has_addresses = true;
    return Status::done;
}

}  // namespace c10k::core

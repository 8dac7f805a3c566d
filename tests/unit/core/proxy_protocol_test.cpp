#include "core/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace c10k::core {
namespace {

using Status = ProxyHeaderParser::Status;
using namespace std::string_literals;

sockaddr_storage ip(const char* text, int port) {
    sockaddr_storage out{};
    if (std::strchr(text, ':') == nullptr) {
        auto& v4 = reinterpret_cast<sockaddr_in&>(out);
        v4.sin_family = AF_INET;
        v4.sin_port = htons(static_cast<std::uint16_t>(port));
        EXPECT_EQ(inet_pton(AF_INET, text, &v4.sin_addr), 1) << text;
    } else {
        auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(static_cast<std::uint16_t>(port));
        EXPECT_EQ(inet_pton(AF_INET6, text, &v6.sin6_addr), 1) << text;
    }
    return out;
}

sockaddr_storage unix_socket() {
    sockaddr_storage out{};
    auto& un = reinterpret_cast<sockaddr_un&>(out);
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, "/run/c10k.sock");
    return out;
}

/// "1.2.3.4:80" or "[::1]:80", so that a mismatch reads well in a failure.
std::string describe(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(v4.sin_port));
    }
    if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6.sin6_port));
    }
    return "family " + std::to_string(address.ss_family);
}

std::string v2_signature() {
    return std::string("\r\n\r\n\0\r\nQUIT\n", 12);
}

/// A version 2 header: the signature, the two given bytes, and `block` with its length.
std::string v2(unsigned char version_command, unsigned char family_transport,
               const std::string& block) {
    std::string out = v2_signature();
    out += static_cast<char>(version_command);
    out += static_cast<char>(family_transport);
    out += static_cast<char>(block.size() >> 8);
    out += static_cast<char>(block.size() & 0xff);
    return out + block;
}

/// A TCP/IPv4 address block: 192.0.2.1:1234 to 198.51.100.2:443.
std::string inet_block() {
    return std::string("\xc0\x00\x02\x01\xc6\x33\x64\x02\x04\xd2\x01\xbb", 12);
}

std::string tlv(unsigned char type, const std::string& value) {
    std::string out;
    out += static_cast<char>(type);
    out += static_cast<char>(value.size() >> 8);
    out += static_cast<char>(value.size() & 0xff);
    return out + value;
}

/// Feeds `input` whole and returns the parser's verdict.
Status parse_whole(ProxyHeaderParser& parser, const std::string& input) {
    parser.reset();
    return parser.feed(input.data(), input.size());
}

// --- Writing -------------------------------------------------------------------------------

TEST(ProxyProtocolWrite, Version1Text) {
    std::string out = "x";
    append_proxy_v1(ip("192.0.2.1", 56324), ip("198.51.100.2", 443), out);
    EXPECT_EQ(out, "xPROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");

    out.clear();
    append_proxy_v1(ip("2001:db8::1", 0), ip("2001:db8::2", 65535), out);
    EXPECT_EQ(out, "PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n");

    // One line carries one family: an IPv4 client of an IPv6 address is written as IPv6.
    out.clear();
    append_proxy_v1(ip("192.0.2.1", 1), ip("2001:db8::2", 2), out);
    EXPECT_EQ(out, "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1 2\r\n");

    out.clear();
    append_proxy_v1(unix_socket(), ip("192.0.2.1", 80), out);
    EXPECT_EQ(out, "PROXY UNKNOWN\r\n");
}

TEST(ProxyProtocolWrite, Version2Binary) {
    std::string out;
    append_proxy_v2(ip("192.0.2.1", 1234), ip("198.51.100.2", 443), out);
    EXPECT_EQ(out, v2(0x21, 0x11, inet_block()));

    out.clear();
    append_proxy_v2(ip("2001:db8::1", 1), ip("::ffff:192.0.2.1", 2), out);
    ASSERT_EQ(out.size(), 16u + 36u);
    EXPECT_EQ(out.substr(0, 16), v2(0x21, 0x21, std::string(36, 'x')).substr(0, 16));
    EXPECT_EQ(out.substr(16, 2), "\x20\x01");
    EXPECT_EQ(out.substr(48), std::string("\x00\x01\x00\x02", 4));

    // Not TCP/IP: LOCAL, no addresses; the receiver keeps the connection's own.
    out.clear();
    append_proxy_v2(ip("192.0.2.1", 1), unix_socket(), out);
    EXPECT_EQ(out, v2(0x20, 0x00, ""));
}

// --- Round trips, split at every byte --------------------------------------------------------

struct RoundTrip {
    sockaddr_storage source;
    sockaddr_storage destination;
    bool version2;
};

std::vector<RoundTrip> round_trips() {
    return {
        {ip("192.0.2.1", 56324), ip("198.51.100.2", 443), false},
        {ip("192.0.2.1", 56324), ip("198.51.100.2", 443), true},
        {ip("2001:db8::1", 0), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), false},
        {ip("2001:db8::1", 0), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), true},
    };
}

TEST(ProxyProtocolRead, RoundTripsInOnePiece) {
    for (const RoundTrip& trip : round_trips()) {
        std::string header;
        (trip.version2 ? append_proxy_v2 : append_proxy_v1)(trip.source, trip.destination, header);
        std::string input = header + "GET / HTTP/1.1\r\n\r\n";
        ProxyHeaderParser parser;
        ASSERT_EQ(parser.feed(input.data(), input.size()), Status::done) << parser.error();
        EXPECT_EQ(parser.consumed(), header.size());
        EXPECT_EQ(parser.header().size, header.size());
        EXPECT_EQ(parser.header().version, trip.version2 ? 2 : 1);
        EXPECT_TRUE(parser.header().has_addresses);
        EXPECT_FALSE(parser.header().local);
        EXPECT_EQ(describe(parser.header().source), describe(trip.source));
        EXPECT_EQ(describe(parser.header().destination), describe(trip.destination));
        EXPECT_EQ(parser.error(), std::string());
    }
}

TEST(ProxyProtocolRead, EverySplitPointGivesTheSameHeader) {
    // A long tail of application bytes: the second piece is larger than the parser keeps.
    const std::string tail = "GET / HTTP/1.1\r\n" + std::string(3000, 'a');
    std::vector<std::string> headers;
    for (const RoundTrip& trip : round_trips()) {
        std::string header;
        (trip.version2 ? append_proxy_v2 : append_proxy_v1)(trip.source, trip.destination, header);
        headers.push_back(header);
    }
    headers.push_back("PROXY UNKNOWN\r\n");
    headers.push_back(v2(0x20, 0x00, ""));
    headers.push_back(v2(0x21, 0x11, inet_block() + tlv(0x01, "h2") + tlv(0x04, "")));

    ProxyHeaderParser parser;
    for (const std::string& header : headers) {
        ProxyHeaderParser whole;
        std::string input = header + tail;
        ASSERT_EQ(whole.feed(input.data(), input.size()), Status::done) << whole.error();
        for (std::size_t split = 0; split <= header.size(); ++split) {
            SCOPED_TRACE("split at " + std::to_string(split) + " of " + header);
            parser.reset();
            Status first = parser.feed(input.data(), split);
            std::size_t used = parser.consumed();
            if (split < header.size()) {
                ASSERT_EQ(first, Status::need_more) << parser.error();
                ASSERT_EQ(used, split);
                ASSERT_EQ(parser.feed(input.data() + split, input.size() - split), Status::done)
                    << parser.error();
                used += parser.consumed();
            } else {
                ASSERT_EQ(first, Status::done) << parser.error();
            }
            EXPECT_EQ(used, header.size());
            EXPECT_EQ(parser.header().size, header.size());
            EXPECT_EQ(parser.header().has_addresses, whole.header().has_addresses);
            EXPECT_EQ(parser.header().local, whole.header().local);
            EXPECT_EQ(describe(parser.header().source), describe(whole.header().source));
            EXPECT_EQ(describe(parser.header().destination), describe(whole.header().destination));
        }
        // One byte at a time: every byte is taken until the last one of the header.
        parser.reset();
        for (std::size_t i = 0; i < header.size(); ++i) {
            Status status = parser.feed(input.data() + i, 1);
            ASSERT_EQ(parser.consumed(), 1u);
            ASSERT_EQ(status, i + 1 < header.size() ? Status::need_more : Status::done)
                << "byte " << i << " of " << header << ": " << parser.error();
        }
        EXPECT_EQ(describe(parser.header().source), describe(whole.header().source));
    }
}

TEST(ProxyProtocolRead, DoneAndInvalidAreFinal) {
    ProxyHeaderParser parser;
    std::string input = "PROXY UNKNOWN\r\nGET";
    ASSERT_EQ(parser.feed(input.data(), input.size()), Status::done);
    EXPECT_EQ(parser.feed("PROXY TCP4 ", 11), Status::done);
    EXPECT_TRUE(parser.header().local);
    EXPECT_EQ(parser.header().size, 15u);

    parser.reset();
    ASSERT_EQ(parser.feed("GET", 3), Status::invalid);
    EXPECT_EQ(parser.feed("PROXY UNKNOWN\r\n", 15), Status::invalid);
    EXPECT_EQ(parser.status(), Status::invalid);

    // reset() forgets a half-read header.
    parser.reset();
    ASSERT_EQ(parser.feed("PROXY TCP4 1.2", 14), Status::need_more);
    parser.reset();
    input = "PROXY UNKNOWN\r\n";
    ASSERT_EQ(parser.feed(input.data(), input.size()), Status::done) << parser.error();
    EXPECT_EQ(parser.consumed(), input.size());

    // An empty read changes nothing.
    parser.reset();
    EXPECT_EQ(parser.feed(input.data(), 0), Status::need_more);
    EXPECT_EQ(parser.consumed(), 0u);
}

// --- Detection -------------------------------------------------------------------------------

TEST(ProxyProtocolDetect, FromTheFirstBytes) {
    EXPECT_EQ(detect_proxy_header("", 0), ProxyDetection::need_more);
    EXPECT_EQ(detect_proxy_header("P", 1), ProxyDetection::need_more);
    EXPECT_EQ(detect_proxy_header("\r", 1), ProxyDetection::need_more);
    EXPECT_EQ(detect_proxy_header("PROXY", 5), ProxyDetection::need_more);
    EXPECT_EQ(detect_proxy_header("PROXY ", 6), ProxyDetection::v1);
    EXPECT_EQ(detect_proxy_header("\r\n\r\n\0\r\nQUIT", 11), ProxyDetection::need_more);
    std::string signature = v2_signature();
    EXPECT_EQ(detect_proxy_header(signature.data(), signature.size()), ProxyDetection::v2);

    EXPECT_EQ(detect_proxy_header("G", 1), ProxyDetection::not_proxy);
    EXPECT_EQ(detect_proxy_header("\x16\x03\x01", 3), ProxyDetection::not_proxy);  // TLS
    EXPECT_EQ(detect_proxy_header("PROXZ", 5), ProxyDetection::not_proxy);
    EXPECT_EQ(detect_proxy_header("proxy ", 6), ProxyDetection::not_proxy);
    EXPECT_EQ(detect_proxy_header("\r\nGET", 5), ProxyDetection::not_proxy);
}

TEST(ProxyProtocolRead, RefusesWhatIsNotAHeaderAtItsFirstByte) {
    ProxyHeaderParser parser;
    EXPECT_EQ(parser.feed("G", 1), Status::invalid);
    EXPECT_EQ(std::string(parser.error()), "not a PROXY protocol header");
}

// --- Version 1 -------------------------------------------------------------------------------

TEST(ProxyProtocolV1, Unknown) {
    ProxyHeaderParser parser;
    ASSERT_EQ(parse_whole(parser, "PROXY UNKNOWN\r\n"), Status::done) << parser.error();
    EXPECT_TRUE(parser.header().local);
    EXPECT_FALSE(parser.header().has_addresses);
    EXPECT_EQ(parser.header().version, 1);

    // The specification has the receiver ignore the rest of an UNKNOWN line, up to the limit.
    std::string longest =
        "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    ASSERT_EQ(longest.size(), ProxyHeaderParser::max_v1_size);
    ASSERT_EQ(parse_whole(parser, longest + "GET"), Status::done) << parser.error();
    EXPECT_EQ(parser.consumed(), longest.size());
    EXPECT_TRUE(parser.header().local);

    EXPECT_EQ(parse_whole(parser, "PROXY UNKNOWNX\r\n"), Status::invalid);
}

TEST(ProxyProtocolV1, RefusesMalformedLines) {
    const char* lines[] = {
        "PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n",     // two spaces after PROXY
        "PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n",     // two spaces before an address
        "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",     //
        "PROXY TCP4 192.0.2.1 198.51.100.2 1  2\r\n",     // two spaces between the ports
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n",     // a trailing space
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n",    // a fifth field
        "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n",        // a missing port
        "PROXY TCP4\r\n",                                 // no fields at all
        "PROXY \r\n",                                     // no protocol
        "PROXY TCP4 192.0.2.256 198.51.100.2 1 2\r\n",    // not an address
        "PROXY TCP4 192.0.2 198.51.100.2 1 2\r\n",        //
        "PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n",     // a leading zero in an address
        "PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",    // IPv6 under TCP4
        "PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n",       // IPv4 under TCP6
        "PROXY TCP6 fe80::1%eth0 2001:db8::2 1 2\r\n",    // a zone
        "PROXY TCP6 [2001:db8::1] 2001:db8::2 1 2\r\n",   // brackets
        "PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n",  // a port out of range
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 99999\r\n",  //
        "PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n",     // a leading zero in a port
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 00\r\n",     //
        "PROXY TCP4 192.0.2.1 198.51.100.2 +1 2\r\n",     // a sign
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 0x2\r\n",    // not decimal
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",        // LF without CR
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\r\n",    // a bare CR
        "PROXY TCP4 192.0.2.1\r198.51.100.2 1 2\r\n",     //
        "PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n",      // no such protocol
        "PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n",      // lower case
        "PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",      //
        "proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n",      // lower case: not a header at all
        "PROXYTCP4 192.0.2.1 198.51.100.2 1 2\r\n",       // no space after PROXY
        "PROXY UNKNOWN a\rb\r\n",                         // a bare CR, even where ignored
    };
    ProxyHeaderParser parser;
    for (const char* line : lines) {
        EXPECT_EQ(parse_whole(parser, line), Status::invalid) << line;
        EXPECT_NE(std::string(parser.error()), "") << line;
        // However it arrives: the verdict does not depend on the split.
        parser.reset();
        Status status = Status::need_more;
        for (const char* p = line; *p != '\0' && status == Status::need_more; ++p) {
            status = parser.feed(p, 1);
        }
        EXPECT_EQ(status, Status::invalid) << line << " byte by byte";
    }
}

TEST(ProxyProtocolV1, RefusesANulInsideAnAddress) {
    // inet_pton would stop at the NUL and accept the address before it.
    std::string line = "PROXY TCP4 192.0.2.1\0x 198.51.100.2 1 2\r\n"s;
    ProxyHeaderParser parser;
    EXPECT_EQ(parse_whole(parser, line), Status::invalid);
    line = "PROXY TCP6 2001:db8::1 2001:db8::2\0 1 2\r\n"s;
    EXPECT_EQ(parse_whole(parser, line), Status::invalid);
}

TEST(ProxyProtocolV1, PortsAtTheirLimits) {
    ProxyHeaderParser parser;
    ASSERT_EQ(parse_whole(parser, "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"), Status::done)
        << parser.error();
    EXPECT_EQ(describe(parser.header().source), "0.0.0.0:0");
    EXPECT_EQ(describe(parser.header().destination), "255.255.255.255:65535");
}

TEST(ProxyProtocolV1, TooLongWithoutCrlf) {
    // 106 bytes without an end: wait; the 107th without one is too many.
    std::string line = "PROXY UNKNOWN " + std::string(92, 'a');
    ASSERT_EQ(line.size(), 106u);
    ProxyHeaderParser parser;
    EXPECT_EQ(parse_whole(parser, line), Status::need_more);
    EXPECT_EQ(parser.feed("a", 1), Status::invalid);
    EXPECT_NE(std::string(parser.error()).find("107"), std::string::npos) << parser.error();
    // The 108th byte is one too many even when the line would end there.
    EXPECT_EQ(parse_whole(parser, line + "a\r\n"), Status::invalid);
    EXPECT_EQ(parse_whole(parser, line + "\r\n"), Status::invalid);
    EXPECT_EQ(parse_whole(parser, line.substr(0, 105) + "\r\n"), Status::done) << parser.error();
}

// --- Version 2 -------------------------------------------------------------------------------

TEST(ProxyProtocolV2, AddressesAndTlvs) {
    ProxyHeaderParser parser;
    std::string header = v2(0x21, 0x11, inet_block() + tlv(0x01, "h2") + tlv(0x04, ""));
    ASSERT_EQ(parse_whole(parser, header + "GET"), Status::done) << parser.error();
    EXPECT_EQ(parser.consumed(), header.size());
    EXPECT_TRUE(parser.header().has_addresses);
    EXPECT_EQ(parser.header().version, 2);
    EXPECT_EQ(describe(parser.header().source), "192.0.2.1:1234");
    EXPECT_EQ(describe(parser.header().destination), "198.51.100.2:443");

    // The largest payload accepted, TLVs filling it.
    std::string padded = inet_block() + tlv(0x04, std::string(1024 - 12 - 3, '\0'));
    ASSERT_EQ(padded.size(), ProxyHeaderParser::max_v2_payload);
    ASSERT_EQ(parse_whole(parser, v2(0x21, 0x11, padded)), Status::done) << parser.error();
    EXPECT_EQ(parser.header().size, ProxyHeaderParser::max_header_size);
}

TEST(ProxyProtocolV2, Local) {
    ProxyHeaderParser parser;
    ASSERT_EQ(parse_whole(parser, v2(0x20, 0x00, "")), Status::done) << parser.error();
    EXPECT_TRUE(parser.header().local);
    EXPECT_FALSE(parser.header().has_addresses);
    EXPECT_EQ(parser.header().size, 16u);

    // LOCAL's block is discarded unread, whatever family it claims.
    ASSERT_EQ(parse_whole(parser, v2(0x20, 0x11, "abc")), Status::done) << parser.error();
    EXPECT_TRUE(parser.header().local);
    EXPECT_FALSE(parser.header().has_addresses);
    EXPECT_EQ(parser.header().size, 19u);
}

TEST(ProxyProtocolV2, FamiliesWithoutUsableAddresses) {
    ProxyHeaderParser parser;
    struct Case {
        unsigned char family_transport;
        std::size_t block;
    };
    // Unspecified, TCP/IPv4 and IPv6 with an unspecified transport, UDP, Unix stream and
    // datagram: accepted, but the connection's own addresses stand.
    for (Case c : {Case{0x00, 0}, Case{0x10, 12}, Case{0x12, 12}, Case{0x22, 36}, Case{0x31, 216},
                   Case{0x32, 216}}) {
        SCOPED_TRACE(static_cast<int>(c.family_transport));
        ASSERT_EQ(parse_whole(parser, v2(0x21, c.family_transport, std::string(c.block, '\x7f'))),
                  Status::done)
            << parser.error();
        EXPECT_FALSE(parser.header().has_addresses);
        EXPECT_FALSE(parser.header().local);
        EXPECT_EQ(parser.header().size, 16 + c.block);
    }
}

TEST(ProxyProtocolV2, RefusesMalformedHeaders) {
    std::string bad_signature = v2(0x21, 0x11, inet_block());
    bad_signature[8] = 'u';
    std::string v2_long = v2(0x21, 0x11, inet_block());
    std::vector<std::string> headers = {
        bad_signature,
        v2(0x11, 0x11, inet_block()),                                   // version 1 in binary
        v2(0x31, 0x11, inet_block()),                                   // version 3
        v2(0x22, 0x11, inet_block()),                                   // command 2
        v2(0x2f, 0x11, inet_block()),                                   //
        v2(0x21, 0x41, inet_block()),                                   // family 4
        v2(0x21, 0x13, inet_block()),                                   // transport 3
        v2(0x21, 0x11, inet_block().substr(0, 11)),                     // short addresses
        v2(0x21, 0x21, std::string(35, '\0')),                          //
        v2(0x21, 0x31, std::string(215, '\0')),                         //
        v2(0x21, 0x11, inet_block() + "\x01\x00"s),                     // half a TLV header
        v2(0x21, 0x11, inet_block() + tlv(0x01, "h2").substr(0, 4)),    // a truncated value
        v2(0x21, 0x11, inet_block() + tlv(0x01, "h2") + "\x04"),        // a TLV after a TLV
        v2(0x21, 0x11, inet_block() + std::string("\x01\xff\xff", 3)),  // a 65535-byte TLV
    };
    ProxyHeaderParser parser;
    for (const std::string& header : headers) {
        SCOPED_TRACE(testing::PrintToString(header));
        EXPECT_EQ(parse_whole(parser, header + "GET / HTTP/1.1\r\n\r\n"), Status::invalid);
        EXPECT_NE(std::string(parser.error()), "");
        parser.reset();
        Status status = Status::need_more;
        for (std::size_t i = 0; i < header.size() && status == Status::need_more; ++i) {
            status = parser.feed(header.data() + i, 1);
        }
        EXPECT_EQ(status, Status::invalid) << "byte by byte";
    }
}

TEST(ProxyProtocolV2, RefusesAnOversizedLengthBeforeWaitingForIt) {
    std::string header = v2_signature() + std::string("\x21\x11\x04\x01", 4);  // 1025 bytes
    ProxyHeaderParser parser;
    EXPECT_EQ(parser.feed(header.data(), header.size()), Status::invalid);
    EXPECT_NE(std::string(parser.error()).find("1,024"), std::string::npos) << parser.error();
    header = v2_signature() + std::string("\x21\x11\xff\xff", 4);
    EXPECT_EQ(parse_whole(parser, header), Status::invalid);
    // 1024 is allowed: its 16 bytes ask for the rest.
    header = v2_signature() + std::string("\x21\x11\x04\x00", 4);
    EXPECT_EQ(parse_whole(parser, header), Status::need_more);
}

}  // namespace
}  // namespace c10k::core

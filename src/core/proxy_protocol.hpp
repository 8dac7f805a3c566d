#pragma once
// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2), without I/O: a header
// that a load balancer sends first on a connection to say whose connection it really is.
// c10k proxy writes one towards backends that want it; c10k serve and c10k proxy read one from
// peers they trust (see AddressSet) and then take the addresses it carries as the client's.
//
// The header is read strictly: it decides which address is logged, rate-limited and written
// into X-Forwarded-For, so anything not exactly as the specification writes it is refused
// rather than guessed at. Which peers may send one is the caller's decision; a header from an
// untrusted peer must never be parsed, or any client could claim any address.

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace c10k::core {

/// Appends a version 1 (text) header: "PROXY TCP4 ..." or "PROXY TCP6 ..." when both addresses
/// are IPv4 or IPv6 (a mixed pair is sent as TCP6, the IPv4 one mapped to ::ffff:a.b.c.d), and
/// "PROXY UNKNOWN\r\n" otherwise (a Unix-socket client, say).
void append_proxy_v1(const sockaddr_storage& source, const sockaddr_storage& destination,
                     std::string& out);

/// Appends a version 2 (binary) header: the PROXY command over TCP/IPv4 or TCP/IPv6 (a mixed
/// pair as IPv6, like version 1), and the LOCAL command without addresses when they are not
/// both IP. No TLVs are written.
void append_proxy_v2(const sockaddr_storage& source, const sockaddr_storage& destination,
                     std::string& out);

/// What the first bytes of a connection say about a PROXY header, from as few as one byte: a
/// server that requires the header refuses a connection as soon as this is not_proxy.
enum class ProxyDetection : std::uint8_t {
    need_more,  ///< the bytes so far begin both or either signature; wait for more
    v1,         ///< "PROXY " (version 1)
    v2,         ///< the 12-byte binary signature (version 2)
    not_proxy,  ///< neither signature: not a PROXY header
};
ProxyDetection detect_proxy_header(const char* data, std::size_t size);

/// A PROXY header once read.
struct ProxyHeader {
    /// 1 or 2.
    std::uint8_t version = 0;
    /// Whether `source` and `destination` hold the client's TCP addresses. False for version
    /// 1's UNKNOWN, version 2's LOCAL (a balancer's own health check) and version 2 families
    /// other than TCP over IPv4 or IPv6 (unspecified, Unix sockets, datagrams): the connection's
    /// own addresses stand then.
    bool has_addresses = false;
    /// Version 2's LOCAL command or version 1's UNKNOWN: the sender speaks for itself.
    bool local = false;
    /// The client's address and the address it connected to (AF_INET or AF_INET6, ports set).
    sockaddr_storage source{};
    sockaddr_storage destination{};
    /// Bytes the header took on the connection; the application's bytes follow.
    std::size_t size = 0;
};

/// Reads the PROXY header at the start of a connection, version 1 or 2 (told apart by its first
/// bytes), from bytes fed as they arrive. When the whole header is in one read (the usual case)
/// it is parsed where it lies, without a copy; a header split across reads is kept here (at most
/// max_header_size bytes) until it is complete.
class ProxyHeaderParser {
public:
    enum class Status : std::uint8_t {
        need_more,  ///< every byte given is part of an unfinished header
        done,       ///< header() is complete; the input continues at consumed()
        invalid,    ///< not a valid PROXY header (error() says why): close the connection
    };

    /// Version 1's limit (section 2.1): "PROXY UNKNOWN" and two full IPv6 addresses, CRLF
    /// included.
    static constexpr std::size_t max_v1_size = 107;
    /// The most address and TLV bytes accepted after version 2's 16-byte fixed part. The
    /// largest address block (two Unix paths) is 216 bytes; the rest leaves room for the TLVs
    /// balancers add (ALPN, authority, a unique id, TLS details) while bounding what a peer
    /// can make this parser keep.
    static constexpr std::size_t max_v2_payload = 1024;
    static constexpr std::size_t v2_fixed_size = 16;
    static constexpr std::size_t max_header_size = v2_fixed_size + max_v2_payload;

    /// Feeds the next bytes of the connection (only the new ones). After need_more, all of them
    /// were taken; after done, the first consumed() of them were the header's end and the rest
    /// belong to the application. Once done or invalid, further calls change nothing and return
    /// the same status.
    Status feed(const char* data, std::size_t size);

    Status status() const { return status_; }
    /// Bytes of the last feed() that belonged to the header (all of them, unless done).
    std::size_t consumed() const { return consumed_; }
    /// Valid once feed() returned done.
    const ProxyHeader& header() const { return header_; }
    /// Why the header was refused, a short English phrase for logs; empty unless invalid.
    const char* error() const { return error_; }

    /// Starts over for another connection (keeps the storage for split headers).
    void reset();

private:
    /// Parses a header that starts at `data`, given as much of it as has arrived; sets
    /// header_ and returns done, or need_more, or fails.
    Status parse(const char* data, std::size_t size);
    Status parse_v1(const char* data, std::size_t size);
    Status parse_v2(const char* data, std::size_t size);
    Status fail(const char* reason);

    Status status_ = Status::need_more;
    std::size_t consumed_ = 0;
    ProxyHeader header_;
    const char* error_ = "";
    // The start of a header that did not arrive in one piece.
    std::string pending_;
};

}  // namespace c10k::core

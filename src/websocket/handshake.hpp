#pragma once
// The server side of the WebSocket opening handshake (RFC 6455 4.2), sans-I/O and independent of
// the http layer's types: the caller files the request's headers into a HandshakeRequest and gets
// back either the 101 answer's headers and the agreed parameters, or the status, reason and
// headers of a refusal. Plus the two pieces a client (the bench) needs: a key, and the check of
// the server's Sec-WebSocket-Accept.
//
// Which status for which fault (checked in this order):
//   method not GET                                  405, Allow: GET
//   HTTP/1.0 (RFC 6455 4.1 asks for 1.1 or later)  400
//   no "websocket" in Upgrade (or no Upgrade)       426, Upgrade: websocket, Connection: Upgrade.
//       A plain request to a location that only speaks WebSocket is told how to reach it
//       (RFC 9110 15.5.22), rather than just refused.
//   no "upgrade" in Connection                      400 (an Upgrade without it is malformed)
//   Host missing, empty or repeated                 400
//   Sec-WebSocket-Version not exactly 13 (or none)  426, Sec-WebSocket-Version: 13 (RFC 6455 4.4)
//   Sec-WebSocket-Key missing, repeated, or not the base64 of exactly 16 bytes   400
//   Origin present and not allowed, or repeated     403 (a client without Origin is not a
//       browser, and could send any Origin it liked; see HandshakePolicy)
//   Sec-WebSocket-Protocol not a list of tokens     400
// A subprotocol offer that matches none of the server's is not refused: the answer has no
// Sec-WebSocket-Protocol and the client decides (RFC 6455 4.2.2). Extensions the server cannot
// accept are declined, never refused.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/deflate.hpp"

namespace c10k::websocket {

/// What the request said. Header fields hold one element per header line, as received; token
/// lists are split here, not by the caller. Views must outlive the call to accept_handshake().
struct HandshakeRequest {
    std::string_view method;
    int version_major = 1;
    int version_minor = 1;
    std::vector<std::string_view> host;
    std::vector<std::string_view> upgrade;
    std::vector<std::string_view> connection;
    std::vector<std::string_view> websocket_key;
    std::vector<std::string_view> websocket_version;
    std::vector<std::string_view> websocket_protocol;
    std::vector<std::string_view> websocket_extensions;
    std::vector<std::string_view> origin;

    /// Files one header line under its field by name (case-insensitive); other names are
    /// ignored. So an adapter from any request type is one loop over its headers.
    void add_header(std::string_view name, std::string_view value);
};

/// What the server accepts.
struct HandshakePolicy {
    /// Origins allowed, compared case-insensitively with the Origin header
    /// ("https://example.com"); empty allows any. Origin is what a browser sends to say which
    /// page opened the socket; without a list, any web page can open one with the user's
    /// cookies.
    std::vector<std::string> allowed_origins;
    /// Whether a request without Origin passes a non-empty allow-list: true by default, since
    /// only browsers send Origin, and other clients can send whatever Origin they like anyway.
    bool allow_missing_origin = true;
    /// Subprotocols the server speaks, most preferred first; compared exactly.
    std::vector<std::string> subprotocols;
    DeflatePolicy deflate;
};

/// One header of the answer.
struct HandshakeHeader {
    std::string name;
    std::string value;
};

/// The answer: 101 and the headers to switch protocols with, or a refusal.
struct HandshakeResult {
    /// 101 when accepted; 400, 403, 405 or 426 otherwise.
    int status = 101;
    /// Why it was refused, in a sentence fit for a log line or a short response body.
    std::string reason;
    /// Accepted: Upgrade, Connection, Sec-WebSocket-Accept, and Sec-WebSocket-Protocol and
    /// Sec-WebSocket-Extensions when agreed. Refused: Allow, Upgrade and Connection, or
    /// Sec-WebSocket-Version, as the status needs. The response writer adds the rest.
    std::vector<HandshakeHeader> headers;
    /// Sec-WebSocket-Accept's value.
    std::string accept;
    /// The chosen subprotocol; empty for none.
    std::string subprotocol;
    /// Sec-WebSocket-Extensions' value; empty for none.
    std::string extensions;
    /// The permessage-deflate parameters; empty when messages go uncompressed.
    std::optional<DeflateParams> deflate;

    bool accepted() const { return status == 101; }
};

/// Checks an opening handshake against the policy (see the file comment for every refusal).
HandshakeResult accept_handshake(const HandshakeRequest& request, const HandshakePolicy& policy);

/// Whether a Sec-WebSocket-Key value is the base64 of exactly 16 bytes: 24 characters with "=="
/// padding, canonical (the 4 unused bits of the last character zero, as every encoder writes
/// them), surrounding spaces allowed.
bool valid_key(std::string_view key);

/// Sec-WebSocket-Accept for a key: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")),
/// with surrounding spaces of the key ignored.
std::string accept_for_key(std::string_view key);

/// Client side: a fresh Sec-WebSocket-Key, 16 random bytes in base64 (from getrandom).
std::string make_client_key();

/// Client side: whether the server's Sec-WebSocket-Accept proves it read our key.
bool check_accept(std::string_view key, std::string_view accept);

}  // namespace c10k::websocket

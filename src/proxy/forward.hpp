#pragma once
// The request head c10k proxy sends to a backend: the client's request line and end-to-end
// headers, without the hop-by-hop ones (RFC 9110 section 7.6.1), with the proxy's own body
// framing and the X-Forwarded-For, X-Forwarded-Proto and Forwarded (RFC 7239) headers added.
//
// What is sent, in order:
//   METHOD TARGET HTTP/1.1          always 1.1: the backend connection is the proxy's own
//   the client's other headers      in the client's order, repeated names kept
//   Host                            only when the client sent none (see ForwardInfo::backend_host)
//   Content-Length or               the proxy's framing (ForwardInfo::content_length, chunked)
//     Transfer-Encoding: chunked
//   X-Forwarded-For                 the client's list, then the client's address
//   X-Forwarded-Proto               this hop's scheme; a client's value is replaced
//   Forwarded                       the client's elements, then this hop's
//   Connection + Upgrade            only for an Upgrade pass-through
//
// Nothing says "Connection: keep-alive" or "close": HTTP/1.1 keeps the backend connection open
// by default, which is what the proxy's connection pools want.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace c10k::proxy {

/// What the proxy knows about the client's connection and what it sends the backend, beyond
/// the request itself.
struct ForwardInfo {
    /// The client's address as core::peer_address writes it: "192.0.2.1" or "[2001:db8::1]".
    /// Empty when it is not known: then "unknown" is sent (RFC 7239 section 6.3).
    std::string_view client_address;
    /// Whether the client's connection is TLS: X-Forwarded-Proto and proto= say "https" then.
    bool client_tls = false;
    /// The host the client asked for, for Forwarded host=. Empty: the request's Host header.
    std::string_view host;
    /// The address the client connected to ("192.0.2.1:8080", "[::1]:8080"), for Forwarded
    /// by=. Empty: no by= (it tells the backend little and costs bytes on every request).
    std::string_view listener_address;
    /// The Host sent when the client sent none (an HTTP/1.0 client): the backend's address, as
    /// nginx sends by default. HTTP/1.1 requires a Host in every request (RFC 9112 section 3.2),
    /// and the proxy speaks HTTP/1.1 to backends; an empty value sends an empty Host, which is
    /// what that section asks for when there is no authority to name.
    std::string_view backend_host;
    /// The body the proxy sends after the head: its length, or none (no Content-Length; for a
    /// request without a body). The client's own Content-Length and Transfer-Encoding are never
    /// passed on: the proxy has decoded the client's framing and sends its own.
    std::optional<std::uint64_t> content_length;
    /// Without a content_length: the body goes out in chunks, as a streamed body of unknown
    /// length (the client's was chunked) must.
    bool chunked = false;
    /// An Upgrade (WebSocket) pass-through: sends "Connection: Upgrade" and the client's Upgrade
    /// headers. Otherwise Upgrade is dropped with the other hop-by-hop headers.
    bool upgrade = false;
    /// A cookie taken out of the Cookie headers (the proxy's sticky cookie, which is for the
    /// proxy alone); the other cookies go on byte for byte, and a header left empty is dropped.
    /// Empty: none.
    std::string_view drop_cookie;
};

/// Appends the request head for the backend, up to and including the blank line, to `out`.
/// Allocates nothing but `out`'s growth (once: the size is counted first).
void append_request_head(const http::Request& request, const ForwardInfo& info, std::string& out);

/// Whether a request with this method may be sent again after it may have reached a server:
/// the idempotent methods of RFC 9110 section 9.2.2. Extension methods (Method::other) are
/// not, since nothing says what they do.
bool is_idempotent(http::Method method);

/// Whether `name` is a hop-by-hop header that a proxy never forwards as the client sent it,
/// whatever Connection says: those RFC 9110 section 7.6.1 and RFC 2616 section 13.5.1 name,
/// plus the headers this proxy replaces with its own (Content-Length, X-Forwarded-For,
/// X-Forwarded-Proto, Forwarded) and those it answers itself (Expect, Proxy-Authorization).
bool is_replaced_or_hop_by_hop(std::string_view name);

/// Whether the request's Connection headers name `name` (a comma-separated, case-insensitive
/// list, RFC 9110 section 7.6.1).
bool connection_names(const http::Request& request, std::string_view name);

}  // namespace c10k::proxy

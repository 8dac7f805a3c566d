#pragma once
// A parsed HTTP/1.x request head, as handlers see it. All views point into the Session's
// per-request storage and stay valid until the handler returns.

#include <cstdint>
#include <span>
#include <string_view>

namespace c10k::http {

enum class Method : std::uint8_t {
    get,
    head,
    post,
    put,
    delete_,
    options,
    patch,
    trace,
    connect,
    other
};

struct Header {
    std::string_view name;
    std::string_view value;
};

/// ASCII case-insensitive comparison, as header names require.
bool iequals(std::string_view a, std::string_view b);

/// The name part of a Host header value: "Example.com:8080" -> "Example.com", "[::1]:80" ->
/// "[::1]", "example.com." -> "example.com" (a fully qualified name is the same host).
std::string_view host_name(std::string_view value);

struct Request {
    Method method = Method::other;
    std::string_view method_text;
    /// The request-target exactly as sent ("/a%20b/?x=1"); not decoded.
    std::string_view target;
    int version_major = 1;
    int version_minor = 1;
    std::span<const Header> headers;
    /// What the connection does after this response, from the version and Connection header.
    bool keep_alive = true;
    /// Which listener the connection came in on: the index of its --listen address (0 for
    /// engines that do not tell). Lets one handler serve a public and a private address.
    std::uint8_t listener = 0;
    /// The body, when the handler asked to keep it (Handler::body_limit); empty otherwise.
    std::string_view body;
    /// The body follows the call to Handler::handle(): it is read through Pending::read_body
    /// (Handler::streams_body). `body` is empty then.
    bool body_streamed = false;
    /// With body_streamed: the body's length as Content-Length gave it, or kChunkedBody when
    /// it comes in chunks (its length unknown until the end).
    std::uint64_t body_length = 0;
    static constexpr std::uint64_t kChunkedBody = UINT64_MAX;
    /// The client's address without the port ("127.0.0.1", "[::1]"), when the handler asked
    /// for it (Handler::wants_peer) or an access log is written; empty otherwise.
    std::string_view peer;
    /// How many internal redirects led here (Pending::redispatch): 0 for a client's request.
    std::uint8_t redirects = 0;

    /// The first header of that name (case-insensitive), or an empty view.
    std::string_view header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    /// The target up to '?' (still percent-encoded).
    std::string_view path() const;
    /// The target after '?', or empty.
    std::string_view query() const;
};

}  // namespace c10k::http

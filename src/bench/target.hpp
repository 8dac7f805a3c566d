#pragma once
// What the load generator aims at: a URL resolved to a socket address, and the request bytes it
// sends there. Every request on a connection is the same, so the bytes are built once.

#include <string>
#include <string_view>
#include <vector>

#include "core/net.hpp"

namespace c10k::bench {

/// A parsed "http://host[:port][/path]" URL.
struct Url {
    std::string host;       ///< as written, without brackets for IPv6
    int port = 80;
    std::string authority;  ///< host[:port] as written, for the Host header
    std::string path = "/"; ///< path and query
};

/// Parses an http:// URL. On failure returns false and sets `error` to a sentence saying why
/// (https, a missing host, a bad port...). Does not resolve the host.
bool parse_url(std::string_view text, Url& out, std::string& error);

/// The request every connection to one URL sends.
struct RequestSpec {
    std::string method = "GET";
    std::vector<std::string> headers;  ///< "Name: value", as given on the command line
    std::string body;
    bool close_after = false;          ///< adds "Connection: close" (one request per connection)
};

/// One resolved destination and its ready-made request bytes.
struct Target {
    std::string url;  ///< as given, for reports
    core::Endpoint endpoint;
    std::string request;
    bool head = false;  ///< responses to HEAD carry no body whatever their headers say
};

/// Builds the bytes of one HTTP/1.1 request for `url`.
std::string build_request(const Url& url, const RequestSpec& spec);

/// Parses and resolves a URL into a Target. False with a sentence in `error` on failure.
bool make_target(std::string_view text, const RequestSpec& spec, Target& out, std::string& error);

}  // namespace c10k::bench

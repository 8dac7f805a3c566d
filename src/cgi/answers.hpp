#pragma once
// What the CGI and FastCGI handlers answer alike: their plain-text errors, the location a path
// falls under, the hand-over to the files' handler, and SERVER_PORT from the Host header.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace c10k::http {
class Handler;
class Request;
class Response;
}  // namespace c10k::http

namespace c10k::cgi {

/// A plain-text error naming the layer ("cgi", "fastcgi"): "c10k cgi: 503 Service Unavailable:
/// why". A 503 says Retry-After: 1, as every busy answer of the server does.
void answer_error(http::Response& response, std::string_view layer, int status,
                  std::string_view why);

/// The first of `locations` whose prefix begins `path` (normalised); none when no prefix does.
template <class Location>
std::optional<std::size_t> match_location(std::string_view path,
                                          const std::vector<Location>& locations) {
    for (std::size_t i = 0; i < locations.size(); ++i) {
        if (path.starts_with(locations[i].prefix)) return i;
    }
    return std::nullopt;
}

/// What is not the layer's to run goes to the handler behind it (static files), or gets 404.
void pass_on(http::Handler* fallback, const http::Request& request, http::Response& response,
             std::string_view layer);

/// The port of the Host header ("example.org:8080" -> "8080", "[::1]:81" -> "81"), or 80.
std::string_view port_of(std::string_view host);

}  // namespace c10k::cgi

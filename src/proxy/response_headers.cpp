// Which of a backend's header fields reach the client (RFC 9110 section 7.6.1). A field is
// dropped when it is hop-by-hop (about the backend's connection, not the client's), when
// Connection names it (hop-by-hop by the sender's say-so), or when http::Session writes its own
// (Date, Server, Content-Length: the proxy's framing toward the client is not the backend's).

#include <string_view>

#include "core/text.hpp"
#include "http/response.hpp"
#include "proxy/response_parser.hpp"

namespace c10k::proxy {

namespace {

constexpr std::string_view kNeverForwarded[] = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "date",       "server",     "content-length",
};

/// Whether the comma-separated list `value` holds `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        auto comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        while (!item.empty() && core::is_ows(item.front())) item.remove_prefix(1);
        while (!item.empty() && core::is_ows(item.back())) item.remove_suffix(1);
        if (http::iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool ResponseParser::forwarded(std::string_view name) const {
    // A 101's Connection: upgrade and Upgrade tell the client which protocol follows; the
    // proxy tunnels it, so they are the client's business too.
    if (status_ == 101 && (http::iequals(name, "connection") || http::iequals(name, "upgrade"))) {
        return true;
    }
    for (std::string_view dropped : kNeverForwarded) {
        if (http::iequals(name, dropped)) return false;
    }
    for (std::string_view value : connection_values_) {
        if (lists_token(value, name)) return false;
    }
    return true;
}

void ResponseParser::append_forwarded_headers(std::string& out) const {
    for (const http::Header& h : views_) {
        if (!forwarded(h.name)) continue;
        out.append(h.name);
        out.append(": ");
        out.append(h.value);
        out.append("\r\n");
    }
}

void ResponseParser::append_forwarded_headers(http::Response& response) const {
    for (const http::Header& h : views_) {
        if (forwarded(h.name)) response.add_header(h.name, h.value);
    }
}

}  // namespace c10k::proxy

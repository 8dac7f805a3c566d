#include "proxy/forward.hpp"
#include "core/text.hpp"
#include "proxy/sticky.hpp"

#include <array>
#include <charconv>

namespace c10k::proxy {

namespace {

using http::iequals;

/// Never forwarded as the client sent them. First the hop-by-hop headers: Connection, the ones
/// RFC 9110 section 7.6.1 names (Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade)
/// and the rest of RFC 2616 section 13.5.1's list (Trailer, Proxy-Authenticate: a response
/// header, dropped from a client that sends it anyway). Then the ones replaced: Content-Length
/// by the proxy's framing, the X-Forwarded-* and Forwarded headers by the client's values plus
/// this hop's, written after the loop. Expect: the Session answers "100-continue" to the
/// client itself once the proxy reads the body, so a backend's 100 would only be one more
/// response to skip. Proxy-Authorization: c10k proxy demands no proxy credentials, so a
/// client's are meant for no one behind it (RFC 9110 section 11.7.2: they are for the first
/// proxy that asked); an origin server must not see them.
constexpr std::array<std::string_view, 14> kDropped = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "content-length",
    "expect",
    "x-forwarded-for",
    "x-forwarded-proto",
    "forwarded",
};

/// Calls `visit` with each non-empty element of a comma-separated list, trimmed (RFC 9110
/// section 5.6.1: empty elements are allowed and ignored).
template <typename Visit>
void for_each_element(std::string_view list, Visit visit) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view element = core::trim_ows(list.substr(0, comma));
        if (!element.empty()) visit(element);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

/// A Forwarded value: a token as it is, anything else (an IPv6 node, a host with a port) as a
/// quoted-string (RFC 7239 section 4), with '"' and '\' escaped.
void append_token_or_quoted(std::string& out, std::string_view value) {
    if (core::is_token(value)) {
        out.append(value);
        return;
    }
    out.push_back('"');
    for (char c : value) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

/// An IPv6 address without its brackets, for X-Forwarded-For (which nginx and HAProxy write
/// bare: "2001:db8::1").
std::string_view without_brackets(std::string_view address) {
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
        return address.substr(1, address.size() - 2);
    }
    return address;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

/// Whether the Connection headers name anything beyond the options every client sends
/// ("keep-alive", "close", "upgrade"), whose headers are dropped anyway. Almost never: then the
/// per-header search of the Connection lists is skipped.
bool connection_names_other_headers(const http::Request& request) {
    bool found = false;
    for (const http::Header& header : request.headers) {
        if (!iequals(header.name, "connection")) continue;
        for_each_element(header.value, [&](std::string_view option) {
            if (!iequals(option, "keep-alive") && !iequals(option, "close") &&
                !iequals(option, "upgrade")) {
                found = true;
            }
        });
    }
    return found;
}

/// An upper bound of what append_request_head writes, so that `out` grows once.
std::size_t head_size_bound(const http::Request& request, const ForwardInfo& info) {
    std::size_t size = request.method_text.size() + request.target.size() + 16;
    for (const http::Header& header : request.headers) {
        // Every header once as it is, and once more: X-Forwarded-For's elements come back
        // separated by ", " where the client may have written ",", and Host comes back in
        // Forwarded host=, perhaps quoted.
        size += header.name.size() + header.value.size() + 4 + header.value.size();
    }
    // The added headers: names, separators and the client's, listener's and host's text, each
    // at most doubled by quoting.
    size += 160 + info.backend_host.size() + 2 * info.host.size() +
            2 * info.listener_address.size() + 3 * info.client_address.size();
    return size;
}

}  // namespace

bool is_replaced_or_hop_by_hop(std::string_view name) {
    for (std::string_view dropped : kDropped) {
        if (iequals(name, dropped)) return true;
    }
    return false;
}

bool connection_names(const http::Request& request, std::string_view name) {
    bool found = false;
    for (const http::Header& header : request.headers) {
        if (!iequals(header.name, "connection")) continue;
        for_each_element(header.value, [&](std::string_view option) {
            if (iequals(option, name)) found = true;
        });
    }
    return found;
}

bool is_idempotent(http::Method method) {
    switch (method) {
        case http::Method::get:
        case http::Method::head:
        case http::Method::options:
        case http::Method::trace:
        case http::Method::put:
        case http::Method::delete_:
            return true;
        case http::Method::post:
        case http::Method::patch:
        case http::Method::connect:
        case http::Method::other:
            return false;
    }
    return false;
}

void append_request_head(const http::Request& request, const ForwardInfo& info, std::string& out) {
    out.reserve(out.size() + head_size_bound(request, info));

    out.append(request.method_text);
    out.push_back(' ');
    out.append(request.target);
    out.append(" HTTP/1.1\r\n");

    const bool check_connection = connection_names_other_headers(request);
    bool has_host = false;
    std::string_view client_host;
    for (const http::Header& header : request.headers) {
        if (is_replaced_or_hop_by_hop(header.name)) continue;
        const bool is_host = iequals(header.name, "host");
        // A Connection option naming Host is not obeyed: every HTTP/1.1 request needs one, and
        // the proxy has already chosen the route by it; the backend must see the same one.
        if (check_connection && !is_host && connection_names(request, header.name)) continue;
        if (is_host && !has_host) {
            has_host = true;
            client_host = header.value;
        }
        if (!info.drop_cookie.empty() && iequals(header.name, "cookie") &&
            has_cookie(header.value, info.drop_cookie)) {
            std::string kept = without_cookie(header.value, info.drop_cookie);
            if (!kept.empty()) append_header(out, header.name, kept);
            continue;
        }
        append_header(out, header.name, header.value);
    }
    if (!has_host) append_header(out, "Host", info.backend_host);

    if (info.content_length) {
        char digits[24];
        auto end = std::to_chars(digits, digits + sizeof digits, *info.content_length).ptr;
        append_header(out, "Content-Length", std::string_view(digits, end - digits));
    } else if (info.chunked) {
        append_header(out, "Transfer-Encoding", "chunked");
    }

    // The headers below are added after the hop-by-hop ones were dropped, so that a client
    // cannot remove them by naming them in Connection (it removes only its own values).
    const std::string_view client =
        info.client_address.empty() ? std::string_view("unknown") : info.client_address;

    // X-Forwarded-For: the client's list (all its headers, in order, as one), then this
    // client, as nginx's $proxy_add_x_forwarded_for.
    out.append("X-Forwarded-For: ");
    for (const http::Header& header : request.headers) {
        if (!iequals(header.name, "x-forwarded-for")) continue;
        if (check_connection && connection_names(request, header.name)) continue;
        for_each_element(header.value, [&](std::string_view element) {
            out.append(element);
            out.append(", ");
        });
    }
    out.append(without_brackets(client));
    out.append("\r\n");

    const std::string_view proto = info.client_tls ? "https" : "http";
    append_header(out, "X-Forwarded-Proto", proto);

    // Forwarded (RFC 7239): the client's values, then this hop's element. Each value is kept
    // whole rather than split at commas, which may sit inside its quoted-strings. An IPv6 node
    // is quoted with its brackets (section 6); a bare IPv6 address, if a caller passes one,
    // gets them.
    out.append("Forwarded: ");
    for (const http::Header& header : request.headers) {
        if (!iequals(header.name, "forwarded")) continue;
        if (check_connection && connection_names(request, header.name)) continue;
        std::string_view value = core::trim_ows(header.value);
        if (value.empty()) continue;
        out.append(value);
        out.append(", ");
    }
    out.append("for=");
    if (client.find(':') != std::string_view::npos && client.front() != '[') {
        out.append("\"[");
        out.append(client);
        out.append("]\"");
    } else {
        append_token_or_quoted(out, client);
    }
    if (!info.listener_address.empty()) {
        out.append(";by=");
        append_token_or_quoted(out, info.listener_address);
    }
    out.append(";proto=");
    out.append(proto);
    const std::string_view host = info.host.empty() ? client_host : info.host;
    if (!host.empty()) {
        out.append(";host=");
        append_token_or_quoted(out, host);
    }
    out.append("\r\n");

    if (info.upgrade) {
        // The tunnel needs both: Connection names Upgrade, and Upgrade says to what.
        out.append("Connection: Upgrade\r\n");
        for (const http::Header& header : request.headers) {
            if (iequals(header.name, "upgrade")) append_header(out, header.name, header.value);
        }
    }
    out.append("\r\n");
}

}  // namespace c10k::proxy

#include "bench/ws_client.hpp"

#include <strings.h>

#include <cstring>
#include <iterator>

#include <fmt/core.h>

#include "websocket/handshake.hpp"

namespace c10k::bench {
namespace {

bool has_header(const std::vector<std::string>& headers, const char* name) {
    std::size_t length = std::strlen(name);
    for (const auto& header : headers) {
        if (header.size() > length && header[length] == ':' &&
            ::strncasecmp(header.c_str(), name, length) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

const websocket::DeflateParams& ws_deflate_offer() {
    static const websocket::DeflateParams offer{};
    return offer;
}

WsRequest make_ws_request(const Url& url, const RequestSpec& spec, bool deflate) {
    WsRequest out;
    out.path = url.path;
    if (!has_header(spec.headers, "host")) {
        out.headers += fmt::format("Host: {}\r\n", url.authority);
    }
    for (const auto& header : spec.headers) out.headers += header + "\r\n";
    out.headers += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    if (deflate) {
        out.headers += fmt::format("Sec-WebSocket-Extensions: {}\r\n",
                                   websocket::make_deflate_offer(ws_deflate_offer()));
    }
    return out;
}

void append_ws_request(std::string& out, const WsRequest& request, std::string_view key,
                       std::optional<std::uint64_t> last_event_id) {
    out += "GET ";
    out += request.path;
    if (last_event_id) {
        char separator = request.path.find('?') == std::string::npos ? '?' : '&';
        out += fmt::format("{}last_event_id={}", separator, *last_event_id);
    }
    out += " HTTP/1.1\r\n";
    out += request.headers;
    out += "Sec-WebSocket-Key: ";
    out += key;
    out += "\r\n\r\n";
}

WsHandshakeCheck check_ws_handshake(const PushResponseParser::Head& head, std::string_view key,
                                    bool deflate_offered) {
    WsHandshakeCheck check;
    if (head.status != 101) return check;
    check.outcome = WsHandshakeCheck::Outcome::bad_handshake;
    if (!websocket::check_accept(key, head.ws_accept)) return check;
    if (!deflate_offered) {
        // An extension answer to no offer breaks RFC 6455 9.1.
        if (!head.ws_extensions.empty()) return check;
    } else {
        websocket::DeflateAnswer answer =
            websocket::check_deflate_answer(head.ws_extensions, ws_deflate_offer());
        if (!answer.valid) return check;
        check.deflate = answer.agreed;
    }
    check.outcome = WsHandshakeCheck::Outcome::accepted;
    return check;
}

websocket::Options ws_client_options() {
    websocket::Options options;
    options.role = websocket::Role::client;
    options.ping_interval_ms = 0;
    return options;
}

}  // namespace c10k::bench

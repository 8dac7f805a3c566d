#pragma once
// What WebSocket subscribers and echo connections of the bench share: the handshake request
// (built once per URL, with a fresh key and an optional ?last_event_id= per connection), the
// check of the server's 101, and WsLink, which joins a websocket::Connection in the client role
// (it masks what it sends, answers pings) to the loop that owns the socket. The protocol itself
// is src/websocket's; nothing here frames or parses WebSocket.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bench/push_http.hpp"
#include "bench/target.hpp"
#include "websocket/connection.hpp"

namespace c10k::bench {

/// The parts of one URL's handshake request that every connection shares.
struct WsRequest {
    std::string path;     ///< path and query as in the URL
    std::string headers;  ///< "Host: ...\r\n", -H headers, Upgrade, version, the deflate offer
};

/// The request parts for `url`; `deflate` adds the permessage-deflate offer of ws_deflate_offer().
WsRequest make_ws_request(const Url& url, const RequestSpec& spec, bool deflate);

/// What the bench offers with --ws-deflate: RFC 7692's defaults (window 15 both ways, context
/// takeover allowed), as a browser offers.
const websocket::DeflateParams& ws_deflate_offer();

/// Appends one handshake request: GET path[?|&last_event_id=ID], the shared headers, the key.
void append_ws_request(std::string& out, const WsRequest& request, std::string_view key,
                       std::optional<std::uint64_t> last_event_id);

/// What the answer to a handshake means.
struct WsHandshakeCheck {
    enum class Outcome : std::uint8_t {
        accepted,       ///< 101 with the right Sec-WebSocket-Accept and a valid extension answer
        refused,        ///< any status but 101 (the server said no)
        bad_handshake,  ///< 101, but a wrong Accept or an extension answer RFC 7692 forbids
    };
    Outcome outcome = Outcome::refused;
    std::optional<websocket::DeflateParams> deflate;  ///< agreed compression, if any
};

/// Checks a response head against the key sent and whether deflate was offered.
WsHandshakeCheck check_ws_handshake(const PushResponseParser::Head& head, std::string_view key,
                                    bool deflate_offered);

/// What a WsLink tells its owner; `context` is the owner's connection record.
struct WsLinkCallbacks {
    void (*on_message)(void* context, websocket::MessageType type, std::string_view payload);
    void (*on_close)(void* context, std::uint16_t code);
    /// Frames for the socket (pongs, a close reply, messages sent), in order.
    void (*on_output)(void* context, std::string frames);
};

/// A client-role Connection and the adapters it reports through. Made when a 101 arrives and
/// freed when the socket closes, so a closed connection holds nothing.
class WsLink final : private websocket::ConnectionHandler, private websocket::ConnectionOutput {
public:
    WsLink(const websocket::Options& options, const WsLinkCallbacks& callbacks, void* context,
           std::int64_t now_ms, std::optional<websocket::DeflateParams> deflate)
        : callbacks_(callbacks),
          context_(context),
          connection_(options, *this, *this, now_ms, deflate) {}

    websocket::Connection& connection() { return connection_; }

private:
    void on_message(websocket::MessageType type, std::string_view payload) override {
        callbacks_.on_message(context_, type, payload);
    }
    void on_close(std::uint16_t code, std::string_view) override {
        callbacks_.on_close(context_, code);
    }
    void write(std::string frames) override { callbacks_.on_output(context_, std::move(frames)); }

    const WsLinkCallbacks& callbacks_;
    void* context_;
    websocket::Connection connection_;
};

/// The Connection policy of bench clients: no keep-alive ping of their own (the server's pings
/// are answered), so an idle subscriber needs no timer at all.
websocket::Options ws_client_options();

}  // namespace c10k::bench

#pragma once
// Close frames (RFC 6455 sections 5.5.1 and 7.4): the status codes, which of them may travel in
// a close frame, and reading and writing a close frame's payload.

#include <cstdint>
#include <string>
#include <string_view>

namespace c10k::websocket {

/// Status codes of RFC 6455 section 7.4.1 and the IANA "WebSocket Close Code Number" registry.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
/// Never sent: reported locally when a close frame carried no code.
inline constexpr std::uint16_t no_status = 1005;
/// Never sent: reported locally when the connection ended without a close handshake.
inline constexpr std::uint16_t abnormal = 1006;
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t mandatory_extension = 1010;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;
inline constexpr std::uint16_t try_again_later = 1013;
inline constexpr std::uint16_t bad_gateway = 1014;
/// Never sent: reported locally when a TLS handshake failed.
inline constexpr std::uint16_t tls_handshake = 1015;
}  // namespace close_code

/// True when `code` may appear in a close frame, so that one received with it is accepted:
///  - 1000-1003 and 1007-1011, defined by RFC 6455;
///  - 1012-1014 (service restart, try again later, bad gateway), registered with IANA after
///    the RFC and sent by real servers (nginx-based proxies, Node's ws); Autobahn's current
///    suite no longer lists them as invalid;
///  - 3000-3999 (registered for libraries and frameworks) and 4000-4999 (private use).
/// Refused: below 1000 (unused), 1004 (reserved), 1005, 1006 and 1015 (for local reporting
/// only, RFC 6455 section 7.4.1), 1016-2999 (reserved for future revisions and extensions,
/// none registered), and 5000 and above (undefined).
bool is_valid_close_code(std::uint16_t code);

/// A close frame's content.
struct CloseFrame {
    std::uint16_t code = close_code::no_status;  ///< no_status when the payload was empty
    std::string_view reason;                     ///< points into the parsed payload
};

/// Reads a received close frame's payload. Returns 0 when it is valid and fills `out`;
/// otherwise the code to fail the connection with: protocol_error for a 1-byte payload or a
/// code that may not be sent, invalid_payload for a reason that is not UTF-8.
std::uint16_t parse_close_payload(std::string_view payload, CloseFrame& out);

/// The longest reason a close frame can carry: 125 bytes of control payload less the code.
inline constexpr std::size_t kMaxCloseReason = 123;

/// Appends a close frame's payload: the code in network order and the reason, cut to
/// kMaxCloseReason bytes at a character boundary so that it stays valid UTF-8.
void append_close_payload(std::string& out, std::uint16_t code, std::string_view reason);

}  // namespace c10k::websocket

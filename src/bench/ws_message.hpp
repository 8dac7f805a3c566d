#pragma once
// The text formats of WebSocket measurement, kept apart from any socket so that they can be
// tested directly: the JSON envelope `c10k serve --push` wraps every message in (read back for
// its channel, id, event and data), and the payload of an echo message, which carries its own
// intended and actual send times so that the round trip is measured from the echo alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c10k::bench {

/// One message of the server's push envelope (src/push/ws_format.hpp), e.g.
/// {"channel":"c","id":"17","data":"t=... seq=..."} or
/// {"channel":"c","event":"subscribed","last_id":"16"}. Views point into the message, or into
/// the scratch string given to parse_ws_envelope() when a value had escapes to decode.
struct WsEnvelope {
    std::string_view channel;
    std::string_view id;
    std::string_view event;
    std::string_view last_id;
    std::string_view data;  ///< a string member, decoded; empty when data is an object
    bool has_channel = false;
    bool has_id = false;
    bool has_event = false;
    bool has_last_id = false;
    bool has_data = false;
    bool data_is_object = false;  ///< e.g. history-lost's {"last_event_id":..,"first_available":..}
    bool has_error = false;       ///< {"error":"..."}: the server refused a command
};

/// Parses one envelope: a JSON object whose members are strings, numbers, literals or nested
/// objects and arrays (skipped unless named above). Unknown members are ignored. `scratch`
/// holds decoded strings that had escapes; it is reserved once to the message's size, so views
/// into it stay valid. False when the text is not one well-formed JSON object.
bool parse_ws_envelope(std::string_view text, WsEnvelope& out, std::string& scratch);

/// What an echo message says about itself.
struct EchoStamp {
    std::uint64_t sequence = 0;    ///< per connection, from 0, in sending order
    std::int64_t intended_ns = 0;  ///< when the schedule wanted it sent (CLOCK_MONOTONIC)
    std::int64_t sent_ns = 0;      ///< when it was handed to the socket (CLOCK_MONOTONIC)
};

/// Appends an echo payload of `size` bytes (more when the stamp alone is longer) to `out`:
/// "c10k-echo <sequence> <intended_ns> <sent_ns> " then 'x' padding. ASCII, so the same bytes
/// serve as a text or a binary message.
void append_echo_payload(std::string& out, const EchoStamp& stamp, std::size_t size);

/// The stamp at the start of an echoed payload; nothing when it is not one.
std::optional<EchoStamp> parse_echo_payload(std::string_view payload);

}  // namespace c10k::bench

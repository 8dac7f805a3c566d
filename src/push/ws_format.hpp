#pragma once
// Live push over WebSocket: the messages a subscriber receives and the commands it may send.
// One connection may carry several channels, so every message names its channel. All are
// JSON text messages (the format nchan's and Centrifugo's clients taught users to expect: an
// envelope with the channel, the id and the data), built so that one message framed for a
// channel is the same bytes for every subscriber of a loop.
//
// Server to client:
//   {"channel":"scores","id":"17","event":"goal","data":"..."}   a message ("event" only when
//       the publisher named one; ids are strings, as in SSE's history-lost, since they exceed
//       2^53 where JavaScript numbers lose digits)
//   {"channel":"scores","event":"history-lost","data":{"last_event_id":"9","first_available":"12"}}
//   {"channel":"scores","event":"subscribed","last_id":"17"}      answer to a subscribe: a
//       position to resume from before the first message arrives; without "last_id" when the
//       channel has no message yet (as an EventSource has no id before its first event: ids
//       start at the channel's creation time, so no id names "before the first message" in a
//       way that survives a restart)
//   {"channel":"scores","event":"unsubscribed"}                    answer to an unsubscribe, or
//       the channel was deleted by the publisher
//   {"error":"..."}                                                a command was refused
// Client to server:
//   {"subscribe":"scores"}  or  {"subscribe":"scores","last_event_id":"12"}
//   {"unsubscribe":"scores"}
// Data that is not valid UTF-8 (a WebSocket text message must be) arrives with each invalid
// byte replaced by U+FFFD, as a browser's EventSource shows it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "push/message.hpp"

namespace c10k::push {

void append_ws_event(std::string& out, std::string_view channel, const Message& message);
void append_ws_history_lost(std::string& out, std::string_view channel, std::uint64_t requested,
                            std::uint64_t first_held);
void append_ws_subscribed(std::string& out, std::string_view channel, std::uint64_t last_id);
void append_ws_unsubscribed(std::string& out, std::string_view channel);
void append_ws_error(std::string& out, std::string_view error);

/// A command a subscriber sent.
struct WsCommand {
    enum class Kind : std::uint8_t { subscribe, unsubscribe };
    Kind kind = Kind::subscribe;
    std::string channel;
    std::optional<std::uint64_t> last_event_id;  ///< malformed ids count as none, as for SSE
};

/// Parses one client message; false with `error` saying what is wrong.
bool parse_ws_command(std::string_view text, WsCommand& command, std::string& error);

}  // namespace c10k::push

#pragma once
// Server-Sent Events framing (WHATWG HTML, "Server-sent events", the text/event-stream format).
// Each function appends to a caller's buffer, so that a loop frames a message once into one
// shared buffer for all its SSE subscribers.

#include <cstdint>
#include <string>
#include <string_view>

#include "push/message.hpp"

namespace c10k::push {

/// Event names become an `event:` line, so they must not contain CR or LF (which would let a
/// publisher inject fields into every subscriber's stream). 1..64 of [A-Za-z0-9._:-].
bool valid_event_name(std::string_view name);

/// One event: `id: <id>`, `event: <name>` when the name is not empty, one `data: ` line per line
/// of m.data (split on CRLF, LF or CR), then a blank line. What a browser's EventSource hands to
/// onmessage is then exactly m.data with its line breaks normalised to LF: the parser joins data
/// lines with LF, so an empty data or a trailing line break becomes an empty last data line,
/// which round-trips. An event name that fails valid_event_name() is left out (the publisher is
/// expected to have refused it already) rather than allowed to break the framing.
void append_sse_event(std::string& out, const Message& m);

/// The event that tells a resuming client that messages after `requested` are gone (its page
/// should reload): `event: history-lost` with data
/// `{"last_event_id":"<requested>","first_available":"<first_held>"}`, where first_held 0 means
/// nothing is held and gives "". It has no id line, so it does not move the client's
/// Last-Event-ID.
void append_sse_history_lost(std::string& out, std::uint64_t requested, std::uint64_t first_held);

/// `retry: <ms>` then a blank line: the client's reconnection delay. A negative value is sent as 0
/// (the format has no sign).
void append_sse_retry(std::string& out, std::int64_t ms);

/// A comment line and a blank line, sent when the stream is idle so that proxies and NATs keep it
/// open; EventSource ignores it.
std::string_view sse_heartbeat();

/// The first bytes of a stream: a comment, so that the client (and any buffering intermediary)
/// sees the response start at once.
std::string_view sse_stream_open();

}  // namespace c10k::push

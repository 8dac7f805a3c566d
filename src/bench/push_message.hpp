#pragma once
// The few text formats push measurement depends on, kept apart from any socket so that they can
// be tested directly: the body a publisher sends (`t=<ns> seq=<n> ` then padding), reading the
// send time back out of a delivered message, event ids, ETags, the publish acknowledgement, and
// the channel a URL names.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c10k::bench {

/// Appends a message body of `size` bytes (more when the prefix alone is longer) to `out`:
/// "t=<unix time in ns> seq=<sequence> " then 'x' padding. One line, no CR or LF, so SSE carries
/// it in a single `data:` field.
void append_publish_body(std::string& out, std::int64_t unix_ns, std::uint64_t sequence,
                         std::size_t size);

/// The send time at the start of a delivered message ("t=<digits>"), nanoseconds since the epoch.
std::optional<std::int64_t> parse_send_time(std::string_view data);

/// The publisher's sequence number in a delivered message ("t=<digits> seq=<digits> ..."), for
/// gap counting where the publisher's acknowledged ids are not at hand (push_loop_events.cpp).
std::optional<std::uint64_t> parse_sequence(std::string_view data);

/// A decimal event id of 1 to 20 digits that fits 64 bits; surrounding spaces allowed.
std::optional<std::uint64_t> parse_decimal_id(std::string_view text);

/// An id from an ETag header: `"123"`, `W/"123"`, or bare `123`.
std::optional<std::uint64_t> parse_etag_id(std::string_view etag);

/// The `"id"` member of a publish acknowledgement (`{"id":"123","subscribers":4}`); a number
/// without quotes is accepted too.
std::optional<std::uint64_t> parse_ack_id(std::string_view json);

/// The channel a subscribe or publish URL names: the last segment of its path, without the query
/// ("http://h/live/score?x=1" -> "score"). A subscriber is expected to see the publisher's
/// messages when both URLs name the same channel.
std::string channel_of(std::string_view url);

/// Wall-clock nanoseconds since the epoch (CLOCK_REALTIME).
std::int64_t realtime_ns();

}  // namespace c10k::bench

#pragma once
// Validation and parsing of what a push request names: a channel (from the URL path), an event id
// (from Last-Event-ID, a query parameter or an ETag-style If-None-Match) and a query parameter.
// None of these decode anything: a name that would need percent-decoding is simply invalid.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace c10k::push {

/// Channel names appear raw in URL paths and in logs, so they are limited to characters that need
/// no escaping in either: 1..128 of [A-Za-z0-9._~:@-]. "." and ".." are refused because a path
/// normaliser (ours, a proxy's, a browser's) would resolve them to another path.
bool valid_channel_name(std::string_view name);

/// An event id as a client sends it back: 1..20 decimal digits that fit in 64 bits, with optional
/// surrounding spaces or tabs, bare or in the ETag forms `"123"` and `W/"123"` (long-poll clients
/// that use If-None-Match send those). Anything else (empty, a sign, junk, overflow) is nullopt,
/// which callers treat as "no id" rather than as an error: a resuming client with a bad id then
/// gets the channel's newest messages instead of a failure.
std::optional<std::uint64_t> parse_event_id(std::string_view text);

/// The raw (not percent-decoded) value of the first `name=` parameter in a query string of the
/// form `a=1&b=2` (a leading '?' is tolerated); empty when absent or when the value is empty,
/// which push treats the same way.
std::string_view query_param(std::string_view query, std::string_view name);

/// Transparent hashing for tables keyed by channel name, so that a lookup by std::string_view
/// allocates no std::string (use with std::equal_to<>).
struct ChannelNameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
        return std::hash<std::string_view>{}(name);
    }
};

}  // namespace c10k::push

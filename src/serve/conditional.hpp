#pragma once
// Conditional requests (RFC 9110 section 13) for a static representation: If-None-Match,
// If-Modified-Since and If-Range. Pure functions of header values and the file's validators, so
// the rules can be tested without files or a handler.

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace c10k::serve {

/// The validators of one version of a file.
struct Validators {
    /// A strong entity-tag with its quotes, e.g. "\"65a1b2c3-1f4\"".
    std::string_view etag;
    /// Modification time in whole seconds, as Last-Modified shows it.
    std::time_t last_modified = 0;
};

/// The conditional headers of a request; nullopt where the header is absent.
struct Conditions {
    std::optional<std::string_view> if_none_match;
    std::optional<std::string_view> if_modified_since;
};

/// An ETag in the nginx form: "<hex mtime seconds>-<hex size>", quotes included. It changes
/// whenever Last-Modified or the length changes, which is what caches and browsers rely on.
std::string make_etag(std::time_t mtime_seconds, std::uint64_t size);

/// True when `field` (an If-None-Match value: "*" or a comma-separated list of entity-tags)
/// matches `etag` by weak comparison, i.e. ignoring a "W/" prefix on either side. A malformed
/// list matches nothing.
bool etag_list_matches(std::string_view field, std::string_view etag);

/// True when a GET or HEAD should be answered with 304 Not Modified. If-None-Match decides when
/// present; only without it is If-Modified-Since consulted (304 when the file is not newer than
/// the given date; an unparsable date is ignored).
bool is_not_modified(const Conditions& conditions, const Validators& validators);

/// True when a Range request may be honoured under `if_range` (an If-Range value): an
/// entity-tag must equal the current one by strong comparison (a weak tag never matches), a date
/// must equal Last-Modified exactly. When false, the whole file is sent with 200.
bool if_range_allows_partial(std::string_view if_range, const Validators& validators);

}  // namespace c10k::serve

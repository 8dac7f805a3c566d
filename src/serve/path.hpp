#pragma once
// Request paths, turned into something safe to open beneath a document root.
//
// The request-target arrives percent-encoded. It is decoded exactly once and then normalised,
// in that order, so that an encoded dot or slash ("%2e%2e", "%2f") is judged as what it means
// and never slips past the check for "..". Everything after this point works on the normalised
// form only; nothing decodes again (so "%252e" stays the literal name "%2e").

#include <optional>
#include <string>
#include <string_view>

namespace c10k::serve {

/// Percent-decodes `encoded` (a request path without its query) and normalises it: empty and
/// "." segments vanish, ".." removes the segment before it, and a trailing slash is kept (also
/// when the path ends in "." or ".."). The result always starts with '/'.
///
/// Returns nullopt (the caller answers 400) for: a path that does not start with '/', a
/// malformed escape ("%zz", "%4"), a NUL byte raw or encoded, and a ".." that would climb above
/// the root. Backslashes and other bytes are ordinary name bytes: Linux gives them no meaning.
std::optional<std::string> normalize_path(std::string_view encoded);

/// The path relative to the root for openat2: "/a/b" -> "a/b", "/" -> ".". A trailing slash is
/// dropped ("/d/" -> "d"); the caller decides what a directory means.
std::string relative_path(std::string_view normalized);

/// True when a segment of the normalised path starts with '.' (".git", ".env"); such names are
/// hidden unless the operator asks to serve them.
bool has_dot_segment(std::string_view normalized);

/// Percent-encodes a decoded path for use in a Location header: bytes outside RFC 3986's
/// unreserved, sub-delims, ':' '@' and '/' become %XX. This keeps a decoded CR/LF or space from
/// ever reaching a header line.
std::string percent_encode_path(std::string_view decoded);

/// True when `encoded` is already what normalize_path would return and has no dot segment:
/// absolute, without '%' escapes, "/." or "//". Such a path can be looked up as it is.
bool is_plain_path(std::string_view encoded);

}  // namespace c10k::serve

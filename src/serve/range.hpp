#pragma once
// The Range request header (RFC 9110 section 14), reduced to what a static file server needs:
// one byte range. Like nginx, anything this cannot serve (other units, several ranges, bad
// syntax) is not an error: the Range header is ignored and the whole file goes out with 200.

#include <cstdint>
#include <string_view>

namespace c10k::serve {

/// What to do with a Range header, given the length of the file.
struct RangeDecision {
    enum class Kind : std::uint8_t {
        ignore,         ///< send the whole file with 200 (absent, invalid, or multiple ranges)
        partial,        ///< send [offset, offset + length) with 206
        unsatisfiable,  ///< send 416 with "Content-Range: bytes */<file length>"
    };
    Kind kind = Kind::ignore;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

/// Parses `field` (the Range header value, possibly empty) against a file of `file_length`
/// bytes. Accepted forms: "bytes=a-b", "bytes=a-", "bytes=-n", with optional whitespace around
/// the range and a case-insensitive unit. Numbers too large for 64 bits saturate, which gives
/// the meaning RFC 9110 intends: a huge last-byte-pos means "to the end", a huge first-byte-pos
/// is unsatisfiable, a huge suffix means the whole file. "a-b" with b < a is invalid (ignored).
/// A zero-length file has no byte to point at: a suffix range on it is ignored (plain 200).
RangeDecision decide_range(std::string_view field, std::uint64_t file_length);

}  // namespace c10k::serve

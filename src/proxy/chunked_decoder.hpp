#pragma once
// The chunked transfer coding (RFC 9112 section 7.1) of a backend's response body, decoded
// strictly and without I/O: the chunk data comes out in place (no copy), and anything that is
// not exactly CRLF-delimited chunk framing is an error, never a guess. The proxy re-frames the
// body for its client, so a lenient decoder here would be how a smuggled response got through.
//
// Chunk extensions are checked for line discipline and dropped; trailer fields are checked the
// same way and dropped too (RFC 9110 section 6.5.1 lets a recipient discard them).

#include <cstddef>
#include <cstdint>

namespace c10k::proxy {

class ChunkedDecoder {
public:
    enum class Status : std::uint8_t {
        need_more,          ///< every byte given was consumed; the body is not over
        piece,              ///< a piece of chunk data is ready (Step::piece, piece_length)
        done,               ///< the last chunk and the trailer section ended
        invalid,            ///< the bytes are not chunked framing
        trailers_too_large  ///< the trailer section exceeds its limit
    };

    struct Step {
        std::size_t consumed = 0;  ///< bytes used from the input, the piece included
        Status status = Status::need_more;
        const char* piece = nullptr;
        std::size_t piece_length = 0;
    };

    /// A chunk line (size and extensions) longer than this is refused: no real server needs
    /// more, and a line that never ends must not be read for ever.
    static constexpr std::size_t kMaxChunkLineBytes = 4096;

    /// Starts a new body. `max_trailer_bytes` bounds the trailer section.
    void reset(std::size_t max_trailer_bytes);

    /// Consumes framing bytes from `data` up to and including at most one piece of chunk data;
    /// stops at the end of the input, at a piece, at the end of the body or at an error. Call
    /// again with the rest of the input after a piece. After done or an error, consumes nothing.
    Step next(const char* data, std::size_t length);

    /// Why the last `invalid` happened, for logs.
    const char* error_detail() const { return detail_; }

private:
    // The order matters: next() tells chunk-line states from trailer states by comparison.
    enum class State : std::uint8_t {
        size_first,     // the first hex digit of a chunk size
        size,           // further hex digits
        size_space,     // whitespace after the size, before ';' or CR
        extension,      // ";name=value..." up to CR
        size_lf,        // the LF that ends the chunk line
        data,           // chunk data
        data_cr,        // the CR after chunk data
        data_lf,        // the LF after chunk data
        trailer_start,  // the first byte of a trailer line, or the CR of the final blank line
        trailer,        // the rest of a trailer line
        trailer_lf,     // the LF that ends a trailer line
        final_lf,       // the LF of the final blank line
        done,
        failed,
    };

    Step fail(Step step, Status status, const char* detail);

    State state_ = State::size_first;
    std::uint64_t remaining_ = 0;  // chunk data still to come, or the size being read
    std::size_t line_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t max_trailer_bytes_ = 0;
    const char* detail_ = "";
};

}  // namespace c10k::proxy

#include "proxy/chunked_decoder.hpp"

#include <algorithm>

#include "core/hex.hpp"

namespace c10k::proxy {

namespace {

using core::hex_value;

/// Bytes allowed inside a chunk extension or a trailer line: visible characters, space, tab
/// and obs-text. Every other control character (CR and LF above all) is refused, so that a line
/// ends where every reader of it agrees it ends.
bool line_byte(char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

void ChunkedDecoder::reset(std::size_t max_trailer_bytes) {
    state_ = State::size_first;
    remaining_ = 0;
    line_bytes_ = 0;
    trailer_bytes_ = 0;
    max_trailer_bytes_ = max_trailer_bytes;
    detail_ = "";
}

ChunkedDecoder::Step ChunkedDecoder::fail(Step step, Status status, const char* detail) {
    state_ = State::failed;
    detail_ = detail;
    step.status = status;
    return step;
}

ChunkedDecoder::Step ChunkedDecoder::next(const char* data, std::size_t length) {
    Step step;
    if (state_ == State::done) {
        step.status = Status::done;
        return step;
    }
    if (state_ == State::failed) return fail(step, Status::invalid, detail_);
    std::size_t& i = step.consumed;
    while (i < length) {
        if (state_ == State::data) {
            // The hot path: hand the data over in place, as much as this input holds.
            std::size_t take = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(length - i)));
            step.piece = data + i;
            step.piece_length = take;
            step.status = Status::piece;
            i += take;
            remaining_ -= take;
            if (remaining_ == 0) state_ = State::data_cr;
            return step;
        }
        char c = data[i];
        State before = state_;
        switch (state_) {
            case State::size_first: {
                int digit = hex_value(c);
                if (digit < 0)
                    return fail(step, Status::invalid, "a chunk size must be hex digits");
                remaining_ = static_cast<std::uint64_t>(digit);
                line_bytes_ = 0;
                state_ = State::size;
                break;
            }
            case State::size: {
                int digit = hex_value(c);
                if (digit >= 0) {
                    // 15 hex digits (2^60 bytes) is more than any body; beyond, the value
                    // would wrap and two readers could disagree on where the chunk ends.
                    if (remaining_ >> 56 != 0) {
                        return fail(step, Status::invalid, "chunk size too large");
                    }
                    remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
                } else if (c == ' ' || c == '\t') {
                    state_ = State::size_space;
                } else if (c == ';') {
                    state_ = State::extension;
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else {
                    return fail(step, Status::invalid, "invalid character in a chunk size");
                }
                break;
            }
            case State::size_space:
                // RFC 9112 allows whitespace (BWS) only before an extension's ';'.
                if (c == ';') {
                    state_ = State::extension;
                } else if (c != ' ' && c != '\t') {
                    return fail(step, Status::invalid, "whitespace after a chunk size");
                }
                break;
            case State::extension:
                if (c == '\r') {
                    state_ = State::size_lf;
                } else if (!line_byte(c)) {
                    return fail(step, Status::invalid, "invalid character in a chunk extension");
                }
                break;
            case State::size_lf:
                if (c != '\n') return fail(step, Status::invalid, "bare CR in a chunk line");
                state_ = remaining_ == 0 ? State::trailer_start : State::data;
                break;
            case State::data_cr:
                if (c != '\r')
                    return fail(step, Status::invalid, "chunk data longer than its size");
                state_ = State::data_lf;
                break;
            case State::data_lf:
                if (c != '\n') return fail(step, Status::invalid, "bare CR after chunk data");
                state_ = State::size_first;
                break;
            case State::trailer_start:
                if (c == '\r') {
                    state_ = State::final_lf;
                } else if (c == ' ' || c == '\t' || !line_byte(c)) {
                    // A line that starts with whitespace would be an obs-fold.
                    return fail(step, Status::invalid, "malformed trailer line");
                } else {
                    state_ = State::trailer;
                }
                break;
            case State::trailer:
                if (c == '\r') {
                    state_ = State::trailer_lf;
                } else if (!line_byte(c)) {
                    return fail(step, Status::invalid, "invalid character in a trailer line");
                }
                break;
            case State::trailer_lf:
                if (c != '\n') return fail(step, Status::invalid, "bare CR in a trailer line");
                state_ = State::trailer_start;
                break;
            case State::final_lf:
                if (c != '\n') return fail(step, Status::invalid, "bare CR after the trailers");
                state_ = State::done;
                ++i;
                step.status = Status::done;
                return step;
            case State::data:
            case State::done:
            case State::failed:
                break;  // handled above
        }
        ++i;
        if (before <= State::size_lf) {
            if (++line_bytes_ > kMaxChunkLineBytes) {
                return fail(step, Status::invalid, "chunk line too long");
            }
        } else if (before >= State::trailer_start) {
            if (++trailer_bytes_ > max_trailer_bytes_) {
                state_ = State::failed;
                detail_ = "trailer section too large";
                step.status = Status::trailers_too_large;
                return step;
            }
        }
    }
    step.status = Status::need_more;
    return step;
}

}  // namespace c10k::proxy

#pragma once
// UTF-8 validation for text messages and close reasons (RFC 6455 section 8.1, RFC 3629),
// incremental so that a message's frames (and a frame's pieces) are checked as they arrive.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace c10k::websocket {

/// A deterministic automaton over byte classes: one table lookup per non-ASCII byte, and runs of
/// ASCII skipped 8 bytes at a time. It refuses overlong forms, UTF-16 surrogates
/// (U+D800..U+DFFF) and code points above U+10FFFF at the first byte that rules them out, which
/// lets a connection fail a text message mid-frame ("fail fast", as Autobahn's 6.x cases ask).
class Utf8Validator {
public:
    /// Checks the next bytes. Returns false as soon as a byte cannot continue valid UTF-8; the
    /// validator then stays failed until reset().
    bool feed(const char* data, std::size_t size);
    bool feed(std::string_view text) { return feed(text.data(), text.size()); }
    /// True when everything fed so far is valid and ends on a character boundary: what a
    /// complete message must satisfy (a truncated sequence at its end is invalid).
    bool complete() const { return state_ == kAccept; }
    /// True once an invalid byte was seen.
    bool failed() const { return state_ == kReject; }
    /// Starts over, for the next message.
    void reset() { state_ = kAccept; }

    // Automaton states (public for the tables in utf8.cpp).
    static constexpr std::uint8_t kAccept = 0;
    static constexpr std::uint8_t kReject = 1;

private:
    std::uint8_t state_ = kAccept;
};

/// True when `text` is complete, valid UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace c10k::websocket

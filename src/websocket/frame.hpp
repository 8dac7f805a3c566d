#pragma once
// WebSocket framing (RFC 6455 section 5): an incremental frame parser that enforces the base
// protocol's rules, and writers for frame headers and whole frames. No I/O and no allocation:
// the parser keeps at most one header's 14 bytes, and hands payload on as it arrives.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace c10k::websocket {

/// Frame opcodes (RFC 6455 section 5.2). 3-7 and 11-15 are reserved: receiving one is an error.
enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// Control frames (close, ping, pong) have the high bit of the opcode set.
constexpr bool is_control(Opcode opcode) {
    return (static_cast<std::uint8_t>(opcode) & 0x8) != 0;
}

/// Which end of the connection this is. A client masks every frame it sends and a server
/// masks none (RFC 6455 section 5.1); each side fails a peer that breaks that rule.
enum class Role : std::uint8_t { server, client };

/// The largest header a frame can have: 2 bytes, a 64-bit length, a 4-byte mask key.
inline constexpr std::size_t kMaxFrameHeader = 14;
/// Control frames carry at most 125 bytes of payload (RFC 6455 section 5.5).
inline constexpr std::size_t kMaxControlPayload = 125;

/// One frame's header, as parsed.
struct FrameHeader {
    std::uint64_t length = 0;
    std::uint8_t mask_key[4] = {};
    Opcode opcode = Opcode::continuation;
    bool fin = false;
    bool rsv1 = false;  ///< permessage-deflate: the message is compressed
    bool masked = false;
};

/// Why a frame broke the protocol. Every one of them closes the connection with 1002.
enum class FrameError : std::uint8_t {
    none,
    reserved_bits,            ///< RSV1-3 set without an extension that defines them
    reserved_opcode,          ///< opcodes 3-7 and 11-15
    fragmented_control,       ///< a control frame without FIN
    control_too_long,         ///< a control frame longer than 125 bytes
    unexpected_continuation,  ///< a continuation frame with no message in progress
    expected_continuation,    ///< a new text/binary frame while a message is in progress
    unmasked,                 ///< a client's frame without a mask (server role)
    masked,                   ///< a server's frame with a mask (client role)
    length_too_large,         ///< a 64-bit length with its most significant bit set
};

/// A short English description of `error`, fit for a close frame's reason.
const char* describe(FrameError error);

/// Receives what the parser finds, in order: a header, its payload in zero or more pieces,
/// then the end of the frame. Each call returns false to stop parsing for good (the receiver
/// failed the connection for a reason of its own: a message too big, invalid UTF-8).
class FrameSink {
public:
    virtual ~FrameSink() = default;
    /// A frame's header arrived and passed the protocol checks.
    virtual bool on_frame_header(const FrameHeader& header) = 0;
    /// The next piece of the current frame's payload, already unmasked. Never empty.
    virtual bool on_frame_payload(const char* data, std::size_t size) = 0;
    /// The current frame's payload is complete (called for empty payloads too).
    virtual bool on_frame_end() = 0;
};

/// Parses frames from bytes that may arrive split anywhere, down to one byte at a time.
///
/// Beyond each frame's syntax it checks the rules that span frames (control frames may come
/// between the fragments of a message; a continuation needs a message in progress), so that
/// a sink sees only frames that make sense. Errors are reported at the first byte that makes
/// a frame impossible (an opcode is refused before its length arrives).
class FrameParser {
public:
    /// `deflate`: permessage-deflate was negotiated, so RSV1 may be set on the first frame of a
    /// data message. RSV2 and RSV3 are always refused.
    explicit FrameParser(Role role, bool deflate = false) : role_(role), deflate_(deflate) {}

    /// Parses as much of [data, data + size) as it can, calling `sink`. Returns false when
    /// parsing has stopped for good: a protocol error (error() says which) or a sink that
    /// returned false. Once stopped, every later call returns false and reads nothing.
    bool feed(const char* data, std::size_t size, FrameSink& sink);

    FrameError error() const { return error_; }
    /// True once feed() has returned false.
    bool stopped() const { return stopped_; }
    /// True while the fragments of a data message are arriving (a frame without FIN was seen).
    bool in_message() const { return in_message_; }
    /// True between frames: no part of a header or payload is held.
    bool at_frame_boundary() const { return !in_frame_ && header_size_ == 0; }

private:
    bool fail(FrameError error);
    /// Checks the first two header bytes as soon as each arrives.
    bool check_first_byte(std::uint8_t byte);
    bool check_second_byte(std::uint8_t byte);
    /// The header is complete in header_: decodes it into current_.
    bool finish_header(FrameSink& sink);
    bool deliver_payload(const char* data, std::size_t size, FrameSink& sink);
    bool end_frame(FrameSink& sink);

    FrameHeader current_;
    std::uint64_t remaining_ = 0;  ///< payload bytes of current_ still to come
    std::uint8_t header_[kMaxFrameHeader] = {};
    std::uint8_t header_size_ = 0;    ///< bytes of header_ filled
    std::uint8_t header_needed_ = 2;  ///< bytes the header takes, known after its 2nd byte
    std::uint8_t mask_phase_ = 0;     ///< payload offset modulo 4, across pieces
    Role role_;
    bool deflate_;
    bool in_frame_ = false;  ///< the header is done and payload is arriving
    bool in_message_ = false;
    bool stopped_ = false;
    FrameError error_ = FrameError::none;
};

/// XORs `data` with the mask key, starting `phase` bytes into the key (the payload offset
/// modulo 4). Returns the phase after the last byte, to continue with the next piece.
std::size_t apply_mask(char* data, std::size_t size, const std::uint8_t mask_key[4],
                       std::size_t phase = 0);

/// Writes a frame header into `out` (at least kMaxFrameHeader bytes) and returns its size.
/// The shortest length encoding is always used. With a `mask_key`, the header says the
/// payload is masked with it; the caller masks the payload (apply_mask).
std::size_t write_frame_header(char* out, Opcode opcode, std::uint64_t length, bool fin = true,
                               bool rsv1 = false, const std::uint8_t* mask_key = nullptr);

/// Appends a whole unmasked frame, as a server sends it.
void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true,
                  bool rsv1 = false);
/// Appends a whole frame masked with `mask_key`, as a client sends it.
void append_masked_frame(std::string& out, Opcode opcode, std::string_view payload,
                         const std::uint8_t mask_key[4], bool fin = true, bool rsv1 = false);

/// A whole unmasked, unfragmented, uncompressed frame: what a server puts on the wire for a
/// message pushed to many subscribers, built once and shared (valid whether or not the
/// connection negotiated permessage-deflate, since RSV1 is clear).
inline std::string make_frame(Opcode opcode, std::string_view payload) {
    std::string frame;
    append_frame(frame, opcode, payload);
    return frame;
}

}  // namespace c10k::websocket

#pragma once
// permessage-deflate (RFC 7692): the per-connection compressor and decompressor over zlib's raw
// DEFLATE, and the negotiation of the extension's parameters in Sec-WebSocket-Extensions.
//
// Window bits. zlib cannot compress with an 8-bit (256-byte) window: deflateInit2 refuses -8
// for raw streams, and asking it for 8 with a zlib wrapper silently gives 9. So:
//   - a Deflater asked for 8 uses 9, which a peer promised an 8-bit window may fail to decode;
//     negotiation therefore never makes one: the server declines an offer that demands
//     server_max_window_bits=8 (RFC 7692 lets a server decline an offer it cannot honour) and the
//     client never offers client_max_window_bits below 9;
//   - an Inflater is never narrower than 9 bits (it costs 256 bytes more), because zlib-based
//     peers that agreed to 8 really compress with 9; an inflater wider than the compressor's
//     window decodes everything that compressor writes.
//
// Memory per stream (zlib 1.2.13, counted by our own zalloc; see memory_bytes()):
//   Deflater: about 5.8 KB of state + 4 * 2^window_bits (window and chain) + 2^(mem_level + 9)
//             (hash heads and symbol buffer): measured 169,792 bytes with window 15 and
//             deflate_mem_level 6 (zlib's default memLevel 8 would be 268 KB), 55,104 with
//             window 12, 40,768 with window 9. Allocated on the first message.
//   Inflater: about 7 KB of state + 2^window_bits of window once output has been produced:
//             measured 39,928 bytes with window 15, 11,256 with 12, 7,672 with 9. Allocated on
//             the first message; released after each message when the peer does not take over
//             context, so an idle connection then holds none.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

struct z_stream_s;

namespace c10k::websocket {

/// The parameters agreed for one connection, named as in RFC 7692: "server_*" describe what the
/// server's compressor does (and so how the client must decompress), "client_*" the reverse.
/// Window bits are 8..15.
struct DeflateParams {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;
    int client_max_window_bits = 15;
};

/// zlib's compression level for every Deflater: 6 is zlib's default; WebSocket messages are
/// mostly small, where higher levels buy almost nothing.
inline constexpr int deflate_level = 6;
/// zlib's memLevel for every Deflater: 6 instead of zlib's 8 costs 96 KB less per connection
/// (hash table and symbol buffer shrink 4x); measured on JSON-like messages, output is the same
/// size up to 2 KB messages and at most 0.6% larger at 20-200 KB.
inline constexpr int deflate_mem_level = 6;

/// Decompresses the messages of one direction of one connection. Not thread-safe; movable only by
/// pointer (it owns zlib state). After feed() or finish() returned too_big or error, the stream is
/// unusable and every later call returns the same status: the connection must be closed (1009 or
/// 1007).
class Inflater {
public:
    /// `window_bits` is the agreed max window of the peer's compressor (8..15; raised to 9, see
    /// the file comment; out-of-range values are clamped); `no_context_takeover` says the peer
    /// starts each message with an empty window, so the window is dropped between messages.
    Inflater(int window_bits, bool no_context_takeover);
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    enum class Status { ok, too_big, error };

    /// Inflates compressed bytes of the current message (called per frame / per chunk);
    /// appends to `out`; the message's total output is bounded by `limit` (too_big past it).
    /// Output is produced in steps of at most 16 KB, so a small input that would expand past
    /// `limit` (a zip bomb) stops with too_big after appending at most `limit` bytes of this
    /// message; nothing is ever allocated for output beyond that.
    Status feed(const char* data, std::size_t size, std::string& out, std::size_t limit);
    /// The message ended (FIN): feeds the 00 00 ff ff tail, flushes; resets the window when
    /// no_context_takeover.
    /// A message whose data stops inside a DEFLATE block is an error. A message whose last block
    /// had BFINAL set is accepted with or without the empty stored block RFC 7692 7.2.3.4 asks
    /// for after it, and the window carries over to the next message as usual.
    Status finish(std::string& out, std::size_t limit);

    /// Bytes of zlib state held now (0 before the first message, and between messages when the
    /// peer does not take over context).
    std::size_t memory_bytes() const { return memory_bytes_; }
    int window_bits() const { return window_bits_; }

private:
    bool ensure_stream();
    void release_stream();
    Status run(const unsigned char* data, std::size_t size, std::string& out, std::size_t limit);
    bool restart_keeping_window();
    Status fail(Status status);

    z_stream_s* stream_ = nullptr;
    int window_bits_;
    bool no_context_takeover_;
    // The last block of a DEFLATE stream (BFINAL) ended; more data restarts the stream.
    bool stream_ended_ = false;
    Status failed_ = Status::ok;
    std::size_t message_bytes_ = 0;
    std::size_t memory_bytes_ = 0;
};

/// Compresses the messages of one direction of one connection. Not thread-safe.
class Deflater {
public:
    /// `window_bits` 8..15 (8 becomes 9, see the file comment; out-of-range values are clamped);
    /// `no_context_takeover` empties the window after every message, so that each compressed
    /// message stands alone (and can be shared by every connection that agreed to it).
    Deflater(int window_bits, bool no_context_takeover);
    ~Deflater();
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    /// Compresses one whole message into `out` (replacing it), without the 00 00 ff ff tail.
    /// False only if zlib fails (out of memory); the Deflater is then unusable.
    bool compress(std::string_view message, std::string& out);

    /// Bytes of zlib state held now (0 before the first message).
    std::size_t memory_bytes() const { return memory_bytes_; }
    int window_bits() const { return window_bits_; }

private:
    bool ensure_stream();

    z_stream_s* stream_ = nullptr;
    int window_bits_;
    bool no_context_takeover_;
    bool failed_ = false;
    std::size_t memory_bytes_ = 0;
};

/// What the server is willing to agree to.
struct DeflatePolicy {
    bool enabled = true;
    /// Always answer server_no_context_takeover, even when the client did not ask: each message
    /// is then compressed alone, so one compressed copy can be sent to every subscriber of a
    /// channel, and no per-connection compressor window is kept.
    bool server_no_context_takeover = false;
    /// Always answer client_no_context_takeover: the client's messages then each stand alone and
    /// the server's decompressor holds no memory between messages.
    bool client_no_context_takeover = false;
    /// The widest window the server compresses with, 9..15 (answered as server_max_window_bits
    /// when below 15). Smaller saves 4 * 2^bits bytes per connection.
    int server_max_window_bits = 15;
    /// The widest window the server asks the client to compress with, 8..15, when the client's
    /// offer allows it (client_max_window_bits present); saves 2^bits bytes per connection.
    int client_max_window_bits = 15;
};

/// The outcome of an accepted offer: the parameters, and the Sec-WebSocket-Extensions value to
/// answer with.
struct DeflateAgreement {
    DeflateParams params;
    /// e.g. "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"
    std::string response;
};

/// The server's choice among the offers of Sec-WebSocket-Extensions (all the request's header
/// lines joined by ", "): the first permessage-deflate offer whose parameters are all known,
/// appear at most once and have valid values, and that the policy can honour. Nothing when the
/// policy is disabled, no offer is acceptable, or the header is not a valid extension list (the
/// connection then goes on uncompressed: RFC 7692 has the server decline, not fail).
std::optional<DeflateAgreement> negotiate_deflate(std::string_view extensions_header_values,
                                                  const DeflatePolicy& policy);

/// Client side (the bench): the Sec-WebSocket-Extensions value offering what `wanted` says.
/// Windows below 15 are sent as limits; client_max_window_bits is always offered (so the server
/// may shrink the client's window), and never below 9 since zlib cannot compress with 8.
std::string make_deflate_offer(const DeflateParams& wanted);

/// Client side: what the server's Sec-WebSocket-Extensions answer means for an offer made by
/// make_deflate_offer(offered).
struct DeflateAnswer {
    /// False when the answer breaks RFC 6455/7692 (an extension not offered, a parameter not
    /// allowed, a window wider than offered, a promise dropped): the client must fail the
    /// connection.
    bool valid = true;
    /// The agreed parameters; empty when the server declined compression.
    std::optional<DeflateParams> agreed;
};
DeflateAnswer check_deflate_answer(std::string_view extensions_header_values,
                                   const DeflateParams& offered);

}  // namespace c10k::websocket

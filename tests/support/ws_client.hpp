#pragma once
// A raw-socket WebSocket client for tests, written from RFC 6455 and RFC 7692 without the
// project's own websocket layer, so that a mistake shared by the server's encoder and decoder
// cannot hide behind the same mistake in the client. It sends exactly the frames a test
// describes (any header bits, masked or not, a length field that lies, split into several
// writes) and reads what the server answers frame by frame, reporting every header bit.
//
// Reading and writing are interleaved: while a large write waits for room, whatever the server
// sends is read into the client's buffer, so a test can never deadlock against an echo.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct z_stream_s;

namespace c10k::test {

/// RFC 6455 section 5.2 opcodes.
namespace ws_opcode {
inline constexpr std::uint8_t continuation = 0x0;
inline constexpr std::uint8_t text = 0x1;
inline constexpr std::uint8_t binary = 0x2;
inline constexpr std::uint8_t close = 0x8;
inline constexpr std::uint8_t ping = 0x9;
inline constexpr std::uint8_t pong = 0xA;
}  // namespace ws_opcode

/// A frame to send, described bit by bit.
struct WsFrameSpec {
    bool fin = true;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    std::uint8_t opcode = ws_opcode::text;
    std::string payload;
    /// Clients must mask (RFC 6455 5.3); false sends the payload in the clear, which a server
    /// must refuse.
    bool masked = true;
    /// The length written in the header when it should differ from payload.size() (a header
    /// that announces more than is sent).
    std::optional<std::uint64_t> declared_length;
    std::array<std::uint8_t, 4> mask_key{0x37, 0xfa, 0x21, 0x3d};
};

/// The wire bytes of a frame: the shortest length encoding for the declared length.
std::string ws_encode(const WsFrameSpec& spec);
/// Shorthand for an unfragmented, masked frame.
std::string ws_encode(std::uint8_t opcode, std::string_view payload, bool fin = true);
/// A close frame's payload: the code in network order, then the reason.
std::string ws_close_payload(std::uint16_t code, std::string_view reason = {});

/// A frame as received, every header bit kept.
struct WsFrame {
    bool fin = false;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    std::uint8_t opcode = 0;
    bool masked = false;  ///< a server must never mask (RFC 6455 5.1)
    /// The length used more bytes than needed (RFC 6455 5.2 asks for the minimal encoding).
    bool long_length = false;
    std::string payload;  ///< unmasked
};

/// A close frame's content, as received.
struct WsClose {
    bool has_code = false;  ///< false when the payload was empty
    std::uint16_t code = 0;
    std::string reason;
    std::size_t payload_size = 0;
};

/// A whole data message: its fragments joined and, when RSV1 was set and an inflater is
/// installed, inflated.
struct WsMessage {
    std::uint8_t opcode = 0;
    std::string payload;
    bool compressed = false;  ///< RSV1 was set on its first frame
    std::size_t frames = 0;
};

/// The opening handshake to send. The defaults make a valid request for /echo.
struct WsHandshake {
    std::string method = "GET";
    std::string path = "/echo";
    std::string key;  ///< empty: a fresh random valid key
    std::string version = "13";
    std::string extensions;  ///< Sec-WebSocket-Extensions, omitted when empty
    std::string protocols;   ///< Sec-WebSocket-Protocol, omitted when empty
    std::string origin;      ///< Origin, omitted when empty
    /// More header lines, each ending in "\r\n".
    std::string extra_headers;
    /// Leave out Upgrade and Connection: a plain GET.
    bool plain_get = false;
    /// Replaces the Upgrade and Connection lines when not empty (other spellings, as browsers
    /// send them).
    std::string upgrade_headers;
    /// "HTTP/1.1" unless told otherwise.
    std::string http_version = "HTTP/1.1";
    /// Bytes sent in the same write right after the request (frames that do not wait for the
    /// 101).
    std::string trailing;
};

/// The server's answer to the opening handshake.
struct WsHandshakeAnswer {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;        ///< a refusal's body (by Content-Length)
    bool accept_ok = false;  ///< Sec-WebSocket-Accept matched the key sent

    /// The first header of that name (case-insensitive), or "".
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
};

/// Raw DEFLATE with a chosen window, as permessage-deflate uses it (RFC 7692 7.2.1): each
/// message is compressed and sync-flushed, and the trailing 00 00 ff ff removed.
class WsDeflater {
public:
    WsDeflater(int window_bits, bool no_context_takeover);
    ~WsDeflater();
    WsDeflater(const WsDeflater&) = delete;
    WsDeflater& operator=(const WsDeflater&) = delete;
    std::string compress(std::string_view message);
    /// Compresses `chunk` repeated `times` as one message, without holding it whole (a zip
    /// bomb of 100 MB needs 1 MB here).
    std::string compress_repeated(std::string_view chunk, std::size_t times);

private:
    z_stream_s* stream_;
    bool no_context_takeover_;
};

/// The receiving side of permessage-deflate: appends 00 00 ff ff to a message's data and
/// inflates it, keeping the window between messages unless told not to.
class WsInflater {
public:
    WsInflater(int window_bits, bool no_context_takeover);
    ~WsInflater();
    WsInflater(const WsInflater&) = delete;
    WsInflater& operator=(const WsInflater&) = delete;
    /// Nothing when the data is not valid DEFLATE.
    std::optional<std::string> inflate(std::string_view compressed);

private:
    z_stream_s* stream_;
    bool no_context_takeover_;
};

/// SHA-1 (RFC 3174) and base64 (RFC 4648), for the handshake's Accept check.
std::string ws_sha1(std::string_view data);
std::string ws_base64(std::string_view data);
/// base64(SHA-1(key + the RFC 6455 GUID)).
std::string ws_accept_for(std::string_view key);

class WsClient {
public:
    /// Connects to 127.0.0.1:port. Throws std::runtime_error on failure.
    explicit WsClient(int port);
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    /// Sends the opening handshake and reads the answer's head (and a refusal's body). True
    /// when the answer is 101 with a matching Sec-WebSocket-Accept; answer() has the details.
    bool handshake(const WsHandshake& request = {}, int timeout_ms = 5000);
    const WsHandshakeAnswer& answer() const { return answer_; }

    /// Sends all bytes, reading what arrives meanwhile. False when the server closed or reset
    /// the connection first, or nothing could be written for 30 s.
    bool send_raw(std::string_view bytes);
    /// Sends the bytes `piece` at a time, pausing `pause_ms` between writes (TCP_NODELAY is
    /// set, so each piece leaves as its own segment).
    bool send_split(std::string_view bytes, std::size_t piece, int pause_ms = 0);
    bool send_frame(const WsFrameSpec& spec) { return send_raw(ws_encode(spec)); }
    bool send_text(std::string_view payload) {
        return send_raw(ws_encode(ws_opcode::text, payload));
    }
    bool send_binary(std::string_view payload) {
        return send_raw(ws_encode(ws_opcode::binary, payload));
    }
    bool send_close(std::uint16_t code, std::string_view reason = {}) {
        return send_raw(ws_encode(ws_opcode::close, ws_close_payload(code, reason)));
    }
    /// Sends a message compressed with the installed deflater, RSV1 set, in `fragments` frames.
    bool send_compressed(std::uint8_t opcode, std::string_view message, std::size_t fragments = 1);

    /// The next frame, or nothing on timeout, EOF, reset or a malformed frame (see
    /// last_error()).
    std::optional<WsFrame> read_frame(int timeout_ms = 5000);
    /// The next data message; control frames met on the way are kept in controls(). Nothing on
    /// timeout, closed socket, broken framing, failed inflation, or a close frame (kept in
    /// close_seen()).
    std::optional<WsMessage> read_message(int timeout_ms = 5000);
    /// Reads frames until a close frame, keeping data frames in skipped() and control frames in
    /// controls(). Nothing when the socket closed or the time ran out first.
    std::optional<WsClose> read_close(int timeout_ms = 5000);
    /// Reads and discards until the server closes the TCP connection (EOF or reset). True when it
    /// did within the time.
    bool wait_tcp_closed(int timeout_ms = 5000);

    /// Installs the permessage-deflate streams used by send_compressed and read_message.
    void use_deflate(int client_window_bits, bool client_no_context_takeover,
                     int server_window_bits, bool server_no_context_takeover);

    /// Control frames (ping, pong) read by read_message and read_close.
    std::vector<WsFrame>& controls() { return controls_; }
    /// Data frames read past by read_close.
    std::vector<WsFrame>& skipped() { return skipped_; }
    /// The close frame that ended a read_message, if one did.
    const std::optional<WsClose>& close_seen() const { return close_seen_; }
    const std::string& last_error() const { return error_; }
    int fd() const { return fd_; }

private:
    /// Reads what is available within timeout_ms into buffer_. False on EOF, reset or timeout.
    bool fill(int timeout_ms);
    /// Reads whatever is ready now, without waiting.
    void drain_ready();

    int fd_ = -1;
    std::string host_;  ///< Host header value
    std::string buffer_;
    std::size_t consumed_ = 0;
    bool eof_ = false;
    std::string error_;
    WsHandshakeAnswer answer_;
    std::vector<WsFrame> controls_;
    std::vector<WsFrame> skipped_;
    std::optional<WsClose> close_seen_;
    std::unique_ptr<WsDeflater> deflater_;
    std::unique_ptr<WsInflater> inflater_;
};

/// Parses a close frame's payload (without validating the code).
WsClose ws_parse_close(std::string_view payload);

}  // namespace c10k::test

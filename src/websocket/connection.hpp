#pragma once
// websocket::Connection: one WebSocket connection after the handshake, without any I/O, in the
// manner of http::Session. The owner feeds it the bytes it received and puts on the socket the
// bytes it is given; the Connection parses frames, reassembles messages, validates text, answers
// pings, runs the close handshake and the keep-alive timers, and reports messages and the close.
//
//   owner: read(fd) --> feed(data, size, now)        ConnectionHandler <-- on_message/on_close
//          timer wheel at deadline_ms() --> on_timer(now)
//          ConnectionOutput::write(frame) --> the owner's output queue --> writev
//
// The server (http::Session's upgraded mode) and the load generator's client both drive it;
// the Role decides who masks.
//
// Callbacks run inside feed(), on_timer() and the sending calls. A callback may send, ping or
// close, but must not destroy the Connection: the owner checks finished() when the call that
// caused the callback returns.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "websocket/close_code.hpp"
#include "websocket/deflate.hpp"
#include "websocket/frame.hpp"
#include "websocket/utf8.hpp"

namespace c10k::websocket {

/// Deadline of a connection that has no timer running.
inline constexpr std::int64_t kNoDeadline = INT64_MAX;

enum class MessageType : std::uint8_t { text, binary };

/// What a Connection reports to its owner.
class ConnectionHandler {
public:
    virtual ~ConnectionHandler() = default;
    /// A whole message arrived (its fragments joined, inflated, text validated as UTF-8). The
    /// payload is valid until the callback returns.
    virtual void on_message(MessageType type, std::string_view payload) = 0;
    /// The connection is over, reported exactly once: the peer's close code and reason after a
    /// close handshake (close_code::no_status when its close frame had none), the code this end
    /// sent after a protocol error, or close_code::abnormal (1006) when it ended without a
    /// handshake (the peer closed the socket, a pong or close timed out). Once called, nothing
    /// more is read or sent: the owner sends what is queued and closes the socket.
    virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
    /// A pong arrived (an answer to ping(), or an unsolicited heartbeat).
    virtual void on_pong(std::string_view payload) {}
};

/// Where a Connection's frames go.
class ConnectionOutput {
public:
    virtual ~ConnectionOutput() = default;
    /// Queues one or more whole frames for the socket, after everything queued before (also
    /// after frames the owner queued itself). Taken by value so that the owner can keep the
    /// string instead of copying it.
    virtual void write(std::string frames) = 0;
};

/// Policy shared by many connections (one per server or per load generator): held by
/// reference, so it must outlive every Connection that uses it.
struct Options {
    Role role = Role::server;
    /// The largest message accepted, after reassembly and inflation; a larger one fails the
    /// connection with 1009 as soon as a frame header announces it, before it is buffered.
    /// 16 MiB: Autobahn's largest messages (cases 9.x) fit.
    std::uint64_t max_message_bytes = 16u << 20;
    /// A connection silent for this long is pinged; 0 disables the keep-alive ping. 30 s keeps
    /// idle connections open through proxies and NATs that drop flows silent for a minute.
    std::int64_t ping_interval_ms = 30'000;
    /// After a keep-alive ping, how long the peer has to send anything before the connection is
    /// failed (reported as 1006).
    std::int64_t pong_timeout_ms = 10'000;
    /// After this end sent a close frame, how long to wait for the peer's before giving up
    /// (reported as 1006).
    std::int64_t close_timeout_ms = 5'000;
    /// With permessage-deflate, messages shorter than this are sent uncompressed: below it the
    /// DEFLATE block overhead eats most of the gain, and compressing costs CPU on every send.
    std::size_t compress_min_bytes = 64;
};

/// One connection's protocol state. Memory: sizeof(Connection) is 184 bytes on x86-64 with
/// libstdc++ (the test IdleConnectionsHoldNoBuffers keeps it under 256). Idle, it holds no
/// heap at all without permessage-deflate; with it, a small Compression block, plus zlib's
/// state for each direction that compressed a message with context takeover (deflate.hpp).
class Connection : private FrameSink {
public:
    /// `now_ms` is the owner's monotonic clock, the same one every later call passes.
    /// `deflate`: the permessage-deflate parameters agreed in the handshake, if any. Received
    /// messages with RSV1 are then inflated, and sent messages compressed; the zlib streams are
    /// made on the first compressed message of each direction.
    Connection(const Options& options, ConnectionHandler& handler, ConnectionOutput& output,
               std::int64_t now_ms, std::optional<DeflateParams> deflate = std::nullopt);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Hands received bytes to the parser; complete messages and control frames are handled at
    /// once. The bytes need not outlive the call. Ignored once finished().
    void feed(const char* data, std::size_t size, std::int64_t now_ms);
    /// The peer closed its side of the socket. Without a close handshake first, that ends the
    /// connection with 1006.
    void on_peer_closed();

    /// When on_timer() has something to do (monotonic ms), or kNoDeadline.
    std::int64_t deadline_ms() const;
    /// Runs the timers due at `now_ms`: sends the keep-alive ping, or fails a connection whose
    /// pong or close did not come in time. Harmless when called early.
    void on_timer(std::int64_t now_ms);

    /// Sends a text message (which must be valid UTF-8; the caller's promise, not checked) or a
    /// binary message as one frame, compressed when permessage-deflate was agreed and the
    /// message is at least Options::compress_min_bytes long. The payload is copied. Returns
    /// false when nothing can be sent any more (see can_send()).
    bool send_text(std::string_view payload) { return send_message(Opcode::text, payload); }
    bool send_binary(std::string_view payload) { return send_message(Opcode::binary, payload); }
    /// Sends a ping (at most 125 bytes of payload); the answer arrives through on_pong.
    bool ping(std::string_view payload = {});
    /// Starts the close handshake: sends a close frame with `code` and `reason` (the reason cut
    /// to 123 bytes), then waits up to Options::close_timeout_ms for the peer's close. A code
    /// that may not be sent (is_valid_close_code) sends a close frame without a code. Nothing
    /// is sent or delivered afterwards; on_close reports the end. Ignored unless can_send().
    void close(std::int64_t now_ms, std::uint16_t code = close_code::normal,
               std::string_view reason = {});

    /// True while messages may be sent: open, and no close frame sent. An owner that writes
    /// pre-framed shared frames itself (push fan-out, make_frame) checks this first.
    bool can_send() const { return state_ == State::open; }
    /// True once the connection is over (on_close was called): nothing more is read or sent;
    /// the owner sends what is queued and closes the socket.
    bool finished() const { return state_ == State::closed; }
    /// True when it ended because the peer broke the protocol: the owner should linger (shut
    /// down writing, drain input briefly) so that the close frame is not lost to a reset.
    bool failed() const { return failed_; }
    /// True while a message's fragments are arriving or a frame is half read.
    bool in_message() const { return parser_.in_message() || !parser_.at_frame_boundary(); }
    /// The permessage-deflate parameters agreed, or null. A frame shared by many connections
    /// (make_frame) is uncompressed and suits every connection; a compressed shared frame only
    /// suits those with server_no_context_takeover.
    const DeflateParams* deflate_params() const {
        return compression_ ? &compression_->params : nullptr;
    }
    /// Bytes of zlib state held now (0 without permessage-deflate or before its first use).
    std::size_t compression_bytes() const;
    /// Bytes of heap held for a message in progress (0 when idle).
    std::size_t buffered_bytes() const {
        return message_.capacity() > kInlineCapacity ? message_.capacity() : 0;
    }

private:
    enum class State : std::uint8_t {
        open,     ///< messages flow both ways
        closing,  ///< this end sent a close frame and waits for the peer's
        closed,   ///< over: on_close was called
    };

    /// permessage-deflate state, allocated only when it was agreed; its zlib streams are made
    /// on first use, since a compressor costs about 170 KB, and dropped after each message in a
    /// direction without context takeover (the Inflater drops its own window then).
    struct Compression {
        DeflateParams params;
        std::unique_ptr<Inflater> inflater;  ///< for the peer's messages
        std::unique_ptr<Deflater> deflater;  ///< for ours
        bool deflater_broken = false;        ///< zlib failed once: send uncompressed from then
    };

    /// A string's capacity without a heap allocation (its small-string buffer).
    static inline const std::size_t kInlineCapacity = std::string().capacity();

    bool on_frame_header(const FrameHeader& header) override;
    bool on_frame_payload(const char* data, std::size_t size) override;
    bool on_frame_end() override;

    bool finish_message();
    bool handle_control();
    bool append_text(std::size_t from);
    /// Inflates compressed payload into message_; null `data` ends the message.
    bool inflate(const char* data, std::size_t size);
    bool inflate_status(Inflater::Status status);
    bool send_message(Opcode opcode, std::string_view payload);
    void send_frame(Opcode opcode, std::string_view payload, bool rsv1 = false);
    /// Fails the connection: a close frame with `code` (unless one was sent), then the end.
    bool fail(std::uint16_t code, std::string_view reason);
    /// The connection is over: reports `code` and drops every buffer.
    void finish(std::uint16_t code, std::string_view reason);
    void release_message();

    const Options& options_;
    ConnectionHandler& handler_;
    ConnectionOutput& output_;
    FrameParser parser_;
    std::string message_;  ///< the data message being reassembled
    std::string control_;  ///< the control frame being read (at most 125 bytes)
    std::unique_ptr<Compression> compression_;
    std::uint64_t message_wire_bytes_ = 0;        ///< payload bytes of the message's frames so far
    std::int64_t last_receive_ms_;                ///< when bytes last arrived
    std::int64_t timer_start_ms_ = 0;             ///< when the keep-alive ping or close frame went
    Opcode frame_opcode_ = Opcode::continuation;  ///< of the frame being read
    bool frame_fin_ = false;                      ///< likewise
    MessageType message_type_ = MessageType::binary;
    State state_ = State::open;
    Utf8Validator utf8_;
    bool message_compressed_ = false;  ///< RSV1 on the message's first frame
    bool ping_outstanding_ = false;    ///< a keep-alive ping went and nothing arrived since
    bool failed_ = false;
};

}  // namespace c10k::websocket

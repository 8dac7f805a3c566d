#include "websocket/connection.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

namespace c10k::websocket {
namespace {

/// A client's mask keys. RFC 6455 section 5.3 wants them unpredictable to scripts in a browser
/// (so that a page cannot choose the bytes a proxy sees); the client here is a load generator
/// with no scripts in it, so a fast generator seeded once per thread from the OS suffices.
void next_mask_key(std::uint8_t key[4]) {
    thread_local std::uint64_t state = [] {
        std::random_device device;
        return (std::uint64_t{device()} << 32) | device() | 1;
    }();
    // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    auto value = static_cast<std::uint32_t>((state * 0x2545F4914F6CDD1Dull) >> 32);
    std::memcpy(key, &value, 4);
}

}  // namespace

Connection::Connection(const Options& options, ConnectionHandler& handler, ConnectionOutput& output,
                       std::int64_t now_ms, std::optional<DeflateParams> deflate)
    : options_(options),
      handler_(handler),
      output_(output),
      parser_(options.role, deflate.has_value()),
      last_receive_ms_(now_ms) {
    if (deflate) {
        compression_ = std::make_unique<Compression>();
        compression_->params = *deflate;
    }
}

Connection::~Connection() = default;

void Connection::feed(const char* data, std::size_t size, std::int64_t now_ms) {
    if (state_ == State::closed || size == 0) return;
    // Any bytes at all show the peer is alive: they answer a keep-alive ping as well as a pong.
    last_receive_ms_ = now_ms;
    ping_outstanding_ = false;
    if (!parser_.feed(data, size, *this) && parser_.error() != FrameError::none) {
        fail(close_code::protocol_error, describe(parser_.error()));
    }
}

void Connection::on_peer_closed() {
    if (state_ != State::closed)
        finish(close_code::abnormal, "connection closed without a close frame");
}

std::int64_t Connection::deadline_ms() const {
    switch (state_) {
        case State::closed:
            return kNoDeadline;
        case State::closing:
            return timer_start_ms_ + options_.close_timeout_ms;
        case State::open:
            break;
    }
    if (options_.ping_interval_ms <= 0) return kNoDeadline;
    if (ping_outstanding_) return timer_start_ms_ + options_.pong_timeout_ms;
    return last_receive_ms_ + options_.ping_interval_ms;
}

void Connection::on_timer(std::int64_t now_ms) {
    if (now_ms < deadline_ms()) return;
    if (state_ == State::closing) {
        finish(close_code::abnormal, "close handshake timed out");
    } else if (ping_outstanding_) {
        // The peer was silent for a whole interval and then ignored a ping: it is gone, or
        // stuck. A close frame would reach no one; the owner closes the socket.
        finish(close_code::abnormal, "ping timed out");
    } else {
        send_frame(Opcode::ping, {});
        ping_outstanding_ = true;
        timer_start_ms_ = now_ms;
    }
}

bool Connection::ping(std::string_view payload) {
    if (!can_send() || payload.size() > kMaxControlPayload) return false;
    send_frame(Opcode::ping, payload);
    return true;
}

void Connection::close(std::int64_t now_ms, std::uint16_t code, std::string_view reason) {
    if (!can_send()) return;
    std::string payload;
    if (is_valid_close_code(code)) append_close_payload(payload, code, reason);
    send_frame(Opcode::close, payload);
    state_ = State::closing;
    timer_start_ms_ = now_ms;
}

std::size_t Connection::compression_bytes() const {
    if (!compression_) return 0;
    return (compression_->inflater ? compression_->inflater->memory_bytes() : 0) +
           (compression_->deflater ? compression_->deflater->memory_bytes() : 0);
}

bool Connection::send_message(Opcode opcode, std::string_view payload) {
    if (!can_send()) return false;
    if (!compression_ || compression_->deflater_broken ||
        payload.size() < options_.compress_min_bytes) {
        send_frame(opcode, payload);
        return true;
    }
    Compression& c = *compression_;
    // Our compressor's window is the one named after our role.
    bool server = options_.role == Role::server;
    bool no_takeover =
        server ? c.params.server_no_context_takeover : c.params.client_no_context_takeover;
    if (!c.deflater) {
        int bits = server ? c.params.server_max_window_bits : c.params.client_max_window_bits;
        c.deflater = std::make_unique<Deflater>(bits, no_takeover);
    }
    std::string compressed;
    if (!c.deflater->compress(payload, compressed)) {
        // zlib ran out of memory: the stream is unusable, so this and later messages go
        // uncompressed (always allowed: RSV1 is per message).
        c.deflater_broken = true;
        c.deflater.reset();
        send_frame(opcode, payload);
        return true;
    }
    // Without context takeover each message stands alone, so one that did not shrink can go
    // uncompressed. With it, the peer's window must see every message we compressed: send it.
    if (no_takeover && compressed.size() >= payload.size()) {
        send_frame(opcode, payload);
    } else {
        send_frame(opcode, compressed, true);
    }
    // Without context takeover nothing carries over to the next message, so the compressor
    // (about 170 KB) is dropped rather than kept for the connection's life: 10,000 mostly idle
    // subscribers must not hold 1.7 GB. Making it again costs an allocation per message.
    if (no_takeover) c.deflater.reset();
    return true;
}

void Connection::send_frame(Opcode opcode, std::string_view payload, bool rsv1) {
    std::string frame;
    if (options_.role == Role::client) {
        std::uint8_t key[4];
        next_mask_key(key);
        append_masked_frame(frame, opcode, payload, key, true, rsv1);
    } else {
        append_frame(frame, opcode, payload, true, rsv1);
    }
    output_.write(std::move(frame));
}

bool Connection::fail(std::uint16_t code, std::string_view reason) {
    if (state_ == State::closed) return false;
    failed_ = true;
    if (state_ == State::open) {
        std::string payload;
        append_close_payload(payload, code, reason);
        send_frame(Opcode::close, payload);
    }
    finish(code, reason);
    return false;
}

void Connection::finish(std::uint16_t code, std::string_view reason) {
    state_ = State::closed;
    handler_.on_close(code, reason);
    // After the callback: `reason` may point into control_.
    release_message();
    std::string().swap(control_);
}

void Connection::release_message() {
    // Give the memory back: an idle connection holds no buffer, so that 10,000 subscribers
    // cost only their Connection objects.
    std::string().swap(message_);
    message_wire_bytes_ = 0;
}

bool Connection::on_frame_header(const FrameHeader& header) {
    frame_opcode_ = header.opcode;
    frame_fin_ = header.fin;
    if (is_control(header.opcode)) {
        control_.clear();
        return true;
    }
    if (header.opcode != Opcode::continuation) {
        message_type_ = header.opcode == Opcode::text ? MessageType::text : MessageType::binary;
        message_compressed_ = header.rsv1;
        message_.clear();
        message_wire_bytes_ = 0;
        utf8_.reset();
    }
    // Refuse a message that will be too big from the length its frame announces, before any
    // of it is buffered.
    message_wire_bytes_ += header.length;
    if (message_wire_bytes_ > options_.max_message_bytes) {
        return fail(close_code::message_too_big, "message too big");
    }
    return true;
}

bool Connection::on_frame_payload(const char* data, std::size_t size) {
    if (is_control(frame_opcode_)) {
        control_.append(data, size);
        return true;
    }
    if (message_compressed_) return inflate(data, size);
    std::size_t from = message_.size();
    message_.append(data, size);
    return append_text(from);
}

bool Connection::inflate(const char* data, std::size_t size) {
    Compression& c = *compression_;  // RSV1 passes the parser only when deflate was agreed
    if (!c.inflater) {
        // The peer's compressor window is the one named after the peer's role.
        bool server = options_.role == Role::server;
        c.inflater = std::make_unique<Inflater>(
            server ? c.params.client_max_window_bits : c.params.server_max_window_bits,
            server ? c.params.client_no_context_takeover : c.params.server_no_context_takeover);
    }
    std::size_t from = message_.size();
    // Output is bounded by the message limit as it is produced: a small frame that would
    // expand past it (a zip bomb) fails with 1009 without buffering more than the limit.
    // (Capped well below SIZE_MAX: the Inflater adds 1 to the room left to see an overrun.)
    auto limit =
        static_cast<std::size_t>(std::min<std::uint64_t>(options_.max_message_bytes, SIZE_MAX / 2));
    Inflater::Status status =
        data ? c.inflater->feed(data, size, message_, limit) : c.inflater->finish(message_, limit);
    // Text produced before a failure is checked first, so that the error reported (1007 for
    // a bad byte, else 1009 or 1007 for the stream) does not depend on how input was split.
    return append_text(from) && inflate_status(status);
}

bool Connection::inflate_status(Inflater::Status status) {
    switch (status) {
        case Inflater::Status::ok:
            return true;
        case Inflater::Status::too_big:
            return fail(close_code::message_too_big, "message too big");
        case Inflater::Status::error:
            break;
    }
    return fail(close_code::invalid_payload, "invalid compressed data");
}

bool Connection::append_text(std::size_t from) {
    // Text is validated as it arrives, so that a message is failed at its first bad byte
    // rather than after the rest of it was read and buffered.
    if (message_type_ != MessageType::text) return true;
    if (!utf8_.feed(message_.data() + from, message_.size() - from)) {
        return fail(close_code::invalid_payload, "invalid UTF-8 in a text message");
    }
    return true;
}

bool Connection::on_frame_end() {
    if (is_control(frame_opcode_)) return handle_control();
    return frame_fin_ ? finish_message() : true;
}

bool Connection::finish_message() {
    if (message_compressed_ && !inflate(nullptr, 0)) return false;
    if (message_type_ == MessageType::text && !utf8_.complete()) {
        return fail(close_code::invalid_payload, "text message ends inside a character");
    }
    // After this end sent its close frame, messages still arriving are read (to find the
    // peer's close) but no longer delivered: the application asked to stop.
    if (state_ == State::open) handler_.on_message(message_type_, message_);
    if (state_ != State::closed) release_message();
    return state_ != State::closed;
}

bool Connection::handle_control() {
    switch (frame_opcode_) {
        case Opcode::ping:
            if (state_ == State::open) send_frame(Opcode::pong, control_);
            break;
        case Opcode::pong:
            if (state_ == State::open) handler_.on_pong(control_);
            break;
        case Opcode::close: {
            CloseFrame frame;
            if (std::uint16_t error = parse_close_payload(control_, frame)) {
                return fail(error, error == close_code::invalid_payload
                                       ? "invalid UTF-8 in a close reason"
                                       : "invalid close frame");
            }
            if (state_ == State::open) {
                // Echo the peer's code (RFC 6455 section 5.5.1); an empty close is answered
                // with 1000, a normal closure.
                std::string payload;
                std::uint16_t echo =
                    frame.code == close_code::no_status ? close_code::normal : frame.code;
                append_close_payload(payload, echo, {});
                send_frame(Opcode::close, payload);
            }
            finish(frame.code, frame.reason);
            return false;  // nothing after a close frame is read
        }
        default:
            break;
    }
    if (state_ == State::closed) return false;
    // Control payloads are small, but a connection that was pinged once should not keep a
    // heap buffer for the rest of its life.
    std::string().swap(control_);
    return true;
}

}  // namespace c10k::websocket

#include "websocket/frame.hpp"

#include <algorithm>
#include <cstring>

namespace c10k::websocket {

const char* describe(FrameError error) {
    switch (error) {
        case FrameError::none:
            return "no error";
        case FrameError::reserved_bits:
            return "reserved bits set";
        case FrameError::reserved_opcode:
            return "reserved opcode";
        case FrameError::fragmented_control:
            return "fragmented control frame";
        case FrameError::control_too_long:
            return "control frame longer than 125 bytes";
        case FrameError::unexpected_continuation:
            return "continuation frame without a message";
        case FrameError::expected_continuation:
            return "data frame inside a fragmented message";
        case FrameError::unmasked:
            return "client frame not masked";
        case FrameError::masked:
            return "server frame masked";
        case FrameError::length_too_large:
            return "frame length out of range";
    }
    return "protocol error";
}

bool FrameParser::fail(FrameError error) {
    error_ = error;
    stopped_ = true;
    return false;
}

bool FrameParser::check_first_byte(std::uint8_t byte) {
    auto opcode = static_cast<Opcode>(byte & 0x0F);
    switch (opcode) {
        case Opcode::continuation:
        case Opcode::text:
        case Opcode::binary:
        case Opcode::close:
        case Opcode::ping:
        case Opcode::pong:
            break;
        default:
            return fail(FrameError::reserved_opcode);
    }
    if ((byte & 0x30) != 0) return fail(FrameError::reserved_bits);
    bool fin = (byte & 0x80) != 0;
    bool rsv1 = (byte & 0x40) != 0;
    bool starts_message = opcode == Opcode::text || opcode == Opcode::binary;
    // permessage-deflate marks a compressed message on its first frame only (RFC 7692
    // section 6); on a continuation or a control frame RSV1 means nothing we agreed on.
    if (rsv1 && !(deflate_ && starts_message)) return fail(FrameError::reserved_bits);
    if (is_control(opcode) && !fin) return fail(FrameError::fragmented_control);
    if (opcode == Opcode::continuation && !in_message_) {
        return fail(FrameError::unexpected_continuation);
    }
    if (starts_message && in_message_) return fail(FrameError::expected_continuation);
    return true;
}

bool FrameParser::check_second_byte(std::uint8_t byte) {
    bool masked = (byte & 0x80) != 0;
    if (role_ == Role::server && !masked) return fail(FrameError::unmasked);
    if (role_ == Role::client && masked) return fail(FrameError::masked);
    std::uint8_t length = byte & 0x7F;
    auto opcode = static_cast<Opcode>(header_[0] & 0x0F);
    if (is_control(opcode) && length > kMaxControlPayload) {
        return fail(FrameError::control_too_long);
    }
    header_needed_ = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + (masked ? 4 : 0);
    return true;
}

bool FrameParser::finish_header(FrameSink& sink) {
    FrameHeader& h = current_;
    h.fin = (header_[0] & 0x80) != 0;
    h.rsv1 = (header_[0] & 0x40) != 0;
    h.opcode = static_cast<Opcode>(header_[0] & 0x0F);
    h.masked = (header_[1] & 0x80) != 0;
    std::uint8_t length = header_[1] & 0x7F;
    std::size_t at = 2;
    if (length < 126) {
        h.length = length;
    } else {
        // Non-minimal encodings (a 5-byte payload in a 64-bit length) are legal in RFC 6455;
        // only the 64-bit form's top bit is reserved.
        std::size_t bytes = length == 126 ? 2 : 8;
        h.length = 0;
        for (std::size_t i = 0; i < bytes; ++i) h.length = (h.length << 8) | header_[at + i];
        at += bytes;
        if (bytes == 8 && (h.length >> 63) != 0) return fail(FrameError::length_too_large);
    }
    if (h.masked)
        std::memcpy(h.mask_key, header_ + at, 4);
    else
        std::memset(h.mask_key, 0, 4);

    if (h.opcode == Opcode::text || h.opcode == Opcode::binary) {
        in_message_ = !h.fin;
    } else if (h.opcode == Opcode::continuation && h.fin) {
        in_message_ = false;
    }
    header_size_ = 0;
    header_needed_ = 2;
    in_frame_ = true;
    remaining_ = h.length;
    mask_phase_ = 0;
    if (!sink.on_frame_header(h)) {
        stopped_ = true;
        return false;
    }
    if (remaining_ == 0) return end_frame(sink);
    return true;
}

bool FrameParser::deliver_payload(const char* data, std::size_t size, FrameSink& sink) {
    if (!current_.masked) {
        if (!sink.on_frame_payload(data, size)) {
            stopped_ = true;
            return false;
        }
        return true;
    }
    // Unmask through a small stack buffer: the input is const, and pieces of a few KiB still
    // let the sink fail fast (invalid UTF-8 is reported before the rest of a frame is read).
    char chunk[4096];
    while (size > 0) {
        std::size_t n = std::min(size, sizeof chunk);
        std::memcpy(chunk, data, n);
        mask_phase_ =
            static_cast<std::uint8_t>(apply_mask(chunk, n, current_.mask_key, mask_phase_));
        if (!sink.on_frame_payload(chunk, n)) {
            stopped_ = true;
            return false;
        }
        data += n;
        size -= n;
    }
    return true;
}

bool FrameParser::end_frame(FrameSink& sink) {
    in_frame_ = false;
    if (!sink.on_frame_end()) {
        stopped_ = true;
        return false;
    }
    return true;
}

bool FrameParser::feed(const char* data, std::size_t size, FrameSink& sink) {
    if (stopped_) return false;
    std::size_t pos = 0;
    while (pos < size) {
        if (in_frame_) {
            std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - pos));
            remaining_ -= n;
            if (!deliver_payload(data + pos, n, sink)) return false;
            pos += n;
            if (remaining_ == 0 && !end_frame(sink)) return false;
            continue;
        }
        if (header_size_ < 2) {
            // The first two bytes are checked one at a time, so that a bad opcode or a missing
            // mask is refused before anything else arrives.
            auto byte = static_cast<std::uint8_t>(data[pos++]);
            header_[header_size_++] = byte;
            bool ok = header_size_ == 1 ? check_first_byte(byte) : check_second_byte(byte);
            if (!ok) return false;
        } else {
            std::size_t n = std::min<std::size_t>(header_needed_ - header_size_, size - pos);
            std::memcpy(header_ + header_size_, data + pos, n);
            header_size_ = static_cast<std::uint8_t>(header_size_ + n);
            pos += n;
        }
        if (header_size_ == header_needed_ && !finish_header(sink)) return false;
    }
    return true;
}

std::size_t apply_mask(char* data, std::size_t size, const std::uint8_t mask_key[4],
                       std::size_t phase) {
    phase &= 3;
    std::size_t i = 0;
    if (size >= 8) {
        // The key repeated over 8 bytes, starting at `phase`; 8 is a multiple of 4, so the
        // same word masks every 8-byte block.
        std::uint8_t wide[8];
        for (std::size_t k = 0; k < 8; ++k) wide[k] = mask_key[(phase + k) & 3];
        std::uint64_t key;
        std::memcpy(&key, wide, 8);
        for (; i + 8 <= size; i += 8) {
            std::uint64_t word;
            std::memcpy(&word, data + i, 8);
            word ^= key;
            std::memcpy(data + i, &word, 8);
        }
    }
    for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ mask_key[(phase + i) & 3]);
    return (phase + size) & 3;
}

std::size_t write_frame_header(char* out, Opcode opcode, std::uint64_t length, bool fin, bool rsv1,
                               const std::uint8_t* mask_key) {
    auto* p = reinterpret_cast<std::uint8_t*>(out);
    p[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) |
                                     static_cast<std::uint8_t>(opcode));
    std::uint8_t mask_bit = mask_key ? 0x80 : 0;
    std::size_t at = 2;
    if (length < 126) {
        p[1] = static_cast<std::uint8_t>(mask_bit | length);
    } else if (length <= 0xFFFF) {
        p[1] = mask_bit | 126;
        p[2] = static_cast<std::uint8_t>(length >> 8);
        p[3] = static_cast<std::uint8_t>(length);
        at = 4;
    } else {
        p[1] = mask_bit | 127;
        for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
        at = 10;
    }
    if (mask_key) {
        std::memcpy(p + at, mask_key, 4);
        at += 4;
    }
    return at;
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin, bool rsv1) {
    char header[kMaxFrameHeader];
    std::size_t n = write_frame_header(header, opcode, payload.size(), fin, rsv1);
    out.reserve(out.size() + n + payload.size());
    out.append(header, n);
    out.append(payload);
}

void append_masked_frame(std::string& out, Opcode opcode, std::string_view payload,
                         const std::uint8_t mask_key[4], bool fin, bool rsv1) {
    char header[kMaxFrameHeader];
    std::size_t n = write_frame_header(header, opcode, payload.size(), fin, rsv1, mask_key);
    std::size_t start = out.size() + n;
    out.reserve(start + payload.size());
    out.append(header, n);
    out.append(payload);
    apply_mask(out.data() + start, payload.size(), mask_key);
}

}  // namespace c10k::websocket

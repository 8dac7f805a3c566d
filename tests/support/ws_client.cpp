#include "support/ws_client.hpp"
#include "support/connect.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

namespace c10k::test {

namespace {

using Clock = std::chrono::steady_clock;

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::uint32_t rotate_left(std::uint32_t value, int bits) {
    return (value << bits) | (value >> (32 - bits));
}

// The RFC 6455 GUID appended to the key before hashing (section 1.3).
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Chunk of output zlib writes per call, for both directions.
constexpr std::size_t kZlibChunk = 64 * 1024;

}  // namespace

// ---- encoding ---------------------------------------------------------------------------

std::string ws_encode(const WsFrameSpec& spec) {
    std::string out;
    std::uint8_t first = static_cast<std::uint8_t>(spec.opcode & 0x0f);
    if (spec.fin) first |= 0x80;
    if (spec.rsv1) first |= 0x40;
    if (spec.rsv2) first |= 0x20;
    if (spec.rsv3) first |= 0x10;
    out.push_back(static_cast<char>(first));
    std::uint64_t length = spec.declared_length.value_or(spec.payload.size());
    std::uint8_t mask_bit = spec.masked ? 0x80 : 0x00;
    if (length < 126) {
        out.push_back(static_cast<char>(mask_bit | length));
    } else if (length <= 0xffff) {
        out.push_back(static_cast<char>(mask_bit | 126));
        out.push_back(static_cast<char>(length >> 8));
        out.push_back(static_cast<char>(length & 0xff));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((length >> shift) & 0xff));
        }
    }
    std::size_t payload_at = out.size();
    if (spec.masked) {
        for (auto byte : spec.mask_key) out.push_back(static_cast<char>(byte));
        payload_at = out.size();
    }
    out.append(spec.payload);
    if (spec.masked) {
        for (std::size_t i = 0; i < spec.payload.size(); ++i) {
            out[payload_at + i] = static_cast<char>(static_cast<std::uint8_t>(out[payload_at + i]) ^
                                                    spec.mask_key[i % 4]);
        }
    }
    return out;
}

std::string ws_encode(std::uint8_t opcode, std::string_view payload, bool fin) {
    WsFrameSpec spec;
    spec.opcode = opcode;
    spec.payload = std::string(payload);
    spec.fin = fin;
    return ws_encode(spec);
}

std::string ws_close_payload(std::uint16_t code, std::string_view reason) {
    std::string out;
    out.push_back(static_cast<char>(code >> 8));
    out.push_back(static_cast<char>(code & 0xff));
    out.append(reason);
    return out;
}

WsClose ws_parse_close(std::string_view payload) {
    WsClose close;
    close.payload_size = payload.size();
    if (payload.size() >= 2) {
        close.has_code = true;
        close.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                static_cast<std::uint8_t>(payload[1]));
        close.reason = std::string(payload.substr(2));
    }
    return close;
}

// ---- SHA-1 and base64 -----------------------------------------------------------------

std::string ws_sha1(std::string_view data) {
    std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    std::string message(data);
    std::uint64_t bit_length = static_cast<std::uint64_t>(data.size()) * 8;
    message.push_back(static_cast<char>(0x80));
    while (message.size() % 64 != 56) message.push_back('\0');
    for (int shift = 56; shift >= 0; shift -= 8) {
        message.push_back(static_cast<char>((bit_length >> shift) & 0xff));
    }
    for (std::size_t block = 0; block < message.size(); block += 64) {
        std::uint32_t w[80];
        for (int t = 0; t < 16; ++t) {
            const auto* p = reinterpret_cast<const unsigned char*>(message.data() + block + 4 * t);
            w[t] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                   (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
        }
        for (int t = 16; t < 80; ++t)
            w[t] = rotate_left(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int t = 0; t < 80; ++t) {
            std::uint32_t f, k;
            if (t < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (t < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            std::uint32_t temp = rotate_left(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = rotate_left(b, 30);
            b = a;
            a = temp;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::string digest;
    for (std::uint32_t word : h) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            digest.push_back(static_cast<char>((word >> shift) & 0xff));
        }
    }
    return digest;
}

std::string ws_base64(std::string_view data) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        std::uint32_t group = (std::uint32_t{static_cast<std::uint8_t>(data[i])} << 16) |
                              (std::uint32_t{static_cast<std::uint8_t>(data[i + 1])} << 8) |
                              std::uint32_t{static_cast<std::uint8_t>(data[i + 2])};
        for (int shift = 18; shift >= 0; shift -= 6)
            out.push_back(kAlphabet[(group >> shift) & 63]);
    }
    std::size_t rest = data.size() - i;
    if (rest > 0) {
        std::uint32_t group = std::uint32_t{static_cast<std::uint8_t>(data[i])} << 16;
        if (rest == 2) group |= std::uint32_t{static_cast<std::uint8_t>(data[i + 1])} << 8;
        out.push_back(kAlphabet[(group >> 18) & 63]);
        out.push_back(kAlphabet[(group >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(group >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string ws_accept_for(std::string_view key) {
    return ws_base64(ws_sha1(std::string(key) + std::string(kAcceptGuid)));
}

// ---- permessage-deflate -----------------------------------------------------------------

WsDeflater::WsDeflater(int window_bits, bool no_context_takeover)
    : stream_(new z_stream{}), no_context_takeover_(no_context_takeover) {
    // Raw DEFLATE (negative window bits): permessage-deflate carries no zlib header.
    if (deflateInit2(stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        delete stream_;
        throw std::runtime_error("deflateInit2 failed");
    }
}

WsDeflater::~WsDeflater() {
    deflateEnd(stream_);
    delete stream_;
}

std::string WsDeflater::compress(std::string_view message) {
    return compress_repeated(message, 1);
}

std::string WsDeflater::compress_repeated(std::string_view chunk, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) {
        // Only the last copy is sync-flushed; the others leave zlib free to keep going.
        int flush = i + 1 == times ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        stream_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
        stream_->avail_in = static_cast<uInt>(chunk.size());
        do {
            std::size_t at = out.size();
            out.resize(at + kZlibChunk);
            stream_->next_out = reinterpret_cast<Bytef*>(out.data() + at);
            stream_->avail_out = static_cast<uInt>(kZlibChunk);
            deflate(stream_, flush);
            out.resize(at + kZlibChunk - stream_->avail_out);
        } while (stream_->avail_out == 0 || stream_->avail_in != 0);
    }
    if (times == 0) return out;
    // RFC 7692 7.2.1: the sync flush ends in an empty stored block, 00 00 ff ff, which is
    // removed from the message.
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, std::string("\0\0\xff\xff", 4)) == 0) {
        out.resize(out.size() - 4);
    }
    // zlib emits nothing for an empty message right after a flush; RFC 7692 7.2.3.6 gives
    // the single byte 00 (an empty stored block's header) as an empty message's payload.
    if (out.empty()) out.push_back('\0');
    if (no_context_takeover_) deflateReset(stream_);
    return out;
}

WsInflater::WsInflater(int window_bits, bool no_context_takeover)
    : stream_(new z_stream{}), no_context_takeover_(no_context_takeover) {
    if (inflateInit2(stream_, -window_bits) != Z_OK) {
        delete stream_;
        throw std::runtime_error("inflateInit2 failed");
    }
}

WsInflater::~WsInflater() {
    inflateEnd(stream_);
    delete stream_;
}

std::optional<std::string> WsInflater::inflate(std::string_view compressed) {
    std::string input(compressed);
    input.append("\0\0\xff\xff", 4);
    std::string out;
    stream_->next_in = reinterpret_cast<Bytef*>(input.data());
    stream_->avail_in = static_cast<uInt>(input.size());
    bool ended = false;
    while (!ended) {
        std::size_t at = out.size();
        out.resize(at + kZlibChunk);
        stream_->next_out = reinterpret_cast<Bytef*>(out.data() + at);
        stream_->avail_out = static_cast<uInt>(kZlibChunk);
        int status = ::inflate(stream_, Z_SYNC_FLUSH);
        out.resize(at + kZlibChunk - stream_->avail_out);
        if (status == Z_STREAM_END) {
            // A final block: whatever follows is the tail we added. The next message starts a
            // new stream.
            inflateReset(stream_);
            ended = true;
        } else if (status == Z_BUF_ERROR) {
            if (stream_->avail_in != 0) return std::nullopt;
            ended = true;
        } else if (status != Z_OK) {
            inflateReset(stream_);
            return std::nullopt;
        } else if (stream_->avail_in == 0 && stream_->avail_out != 0) {
            ended = true;
        }
    }
    if (no_context_takeover_) inflateReset(stream_);
    return out;
}

// ---- handshake answer -------------------------------------------------------------------

std::string WsHandshakeAnswer::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequal(n, name)) return v;
    }
    return {};
}

bool WsHandshakeAnswer::has_header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequal(n, name)) return true;
    }
    return false;
}

// ---- the client ---------------------------------------------------------------------------

WsClient::WsClient(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    if (connect_through_signals(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        int error = errno;
        ::close(fd_);
        throw std::runtime_error(std::string("connect: ") + std::strerror(error));
    }
    // Pieces of a split frame must leave as separate segments, not coalesced by Nagle.
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    host_ = "127.0.0.1:" + std::to_string(port);
}

WsClient::~WsClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool WsClient::handshake(const WsHandshake& request, int timeout_ms) {
    std::string key = request.key;
    if (key.empty()) {
        std::random_device random;
        std::string bytes(16, '\0');
        for (auto& b : bytes) b = static_cast<char>(random());
        key = ws_base64(bytes);
    }
    std::string text = request.method + " " + request.path + " " + request.http_version +
                       "\r\nHost: " + host_ + "\r\n";
    if (!request.upgrade_headers.empty()) {
        text += request.upgrade_headers;
    } else if (!request.plain_get) {
        text += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    }
    text += "Sec-WebSocket-Key: " + key + "\r\n";
    text += "Sec-WebSocket-Version: " + request.version + "\r\n";
    if (!request.origin.empty()) text += "Origin: " + request.origin + "\r\n";
    if (!request.protocols.empty()) text += "Sec-WebSocket-Protocol: " + request.protocols + "\r\n";
    if (!request.extensions.empty()) {
        text += "Sec-WebSocket-Extensions: " + request.extensions + "\r\n";
    }
    text += request.extra_headers + "\r\n" + request.trailing;
    answer_ = WsHandshakeAnswer{};
    if (!send_raw(text)) return false;

    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n", consumed_)) == std::string::npos) {
        if (!fill(remaining_ms(deadline))) {
            error_ = "no complete answer to the handshake: " + error_;
            return false;
        }
    }
    std::string_view head(buffer_.data() + consumed_, end - consumed_);
    consumed_ = end + 4;
    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
        error_ = "bad status line: " + std::string(status_line);
        return false;
    }
    answer_.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    while (line_end != std::string_view::npos) {
        head.remove_prefix(line_end + 2);
        line_end = head.find("\r\n");
        std::string_view line = head.substr(0, line_end);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        answer_.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                     std::string(trim(line.substr(colon + 1))));
    }
    if (answer_.status != 101) {
        std::size_t length = 0;
        if (answer_.has_header("content-length")) {
            length = std::stoul(answer_.header("content-length"));
        }
        while (buffer_.size() - consumed_ < length) {
            if (!fill(remaining_ms(deadline))) break;
        }
        length = std::min(length, buffer_.size() - consumed_);
        answer_.body = buffer_.substr(consumed_, length);
        consumed_ += length;
        return false;
    }
    answer_.accept_ok = answer_.header("sec-websocket-accept") == ws_accept_for(key);
    if (!answer_.accept_ok) error_ = "Sec-WebSocket-Accept does not match the key";
    return answer_.accept_ok;
}

void WsClient::drain_ready() {
    if (eof_) return;
    char chunk[65536];
    for (;;) {
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            eof_ = true;
            error_ = "eof";
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            eof_ = true;
            error_ = std::string("read: ") + std::strerror(errno);
        }
        return;
    }
}

bool WsClient::fill(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t before = buffer_.size();
    while (!eof_ && buffer_.size() == before) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
            error_ = "timeout";
            return false;
        }
        drain_ready();
    }
    return buffer_.size() > before;
}

bool WsClient::send_raw(std::string_view bytes) {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        pollfd p{fd_, static_cast<short>(POLLOUT | (eof_ ? 0 : POLLIN)), 0};
        int left = remaining_ms(deadline);
        if (left == 0 || ::poll(&p, 1, left) <= 0) {
            error_ = "write timed out";
            return false;
        }
        if (p.revents & POLLIN) drain_ready();
        if (p.revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t n =
                ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                error_ = std::string("write: ") + std::strerror(errno);
                return false;
            }
        }
    }
    return true;
}

bool WsClient::send_split(std::string_view bytes, std::size_t piece, int pause_ms) {
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        if (!send_raw(bytes.substr(at, piece))) return false;
        if (pause_ms > 0 && at + piece < bytes.size()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        }
    }
    return true;
}

bool WsClient::send_compressed(std::uint8_t opcode, std::string_view message,
                               std::size_t fragments) {
    if (!deflater_) throw std::logic_error("send_compressed without use_deflate");
    std::string data = deflater_->compress(message);
    if (fragments == 0) fragments = 1;
    std::size_t piece = (data.size() + fragments - 1) / fragments;
    std::string wire;
    for (std::size_t i = 0; i < fragments; ++i) {
        WsFrameSpec spec;
        spec.opcode = i == 0 ? opcode : ws_opcode::continuation;
        spec.rsv1 = i == 0;
        spec.fin = i + 1 == fragments;
        std::size_t at = std::min(i * piece, data.size());
        spec.payload = data.substr(at, piece);
        wire += ws_encode(spec);
    }
    return send_raw(wire);
}

std::optional<WsFrame> WsClient::read_frame(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        // Keep the buffer from growing without bound over a long exchange.
        if (consumed_ > (1u << 20) && consumed_ * 2 > buffer_.size()) {
            buffer_.erase(0, consumed_);
            consumed_ = 0;
        }
        std::string_view data(buffer_.data() + consumed_, buffer_.size() - consumed_);
        if (data.size() >= 2) {
            auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
            WsFrame frame;
            frame.fin = byte(0) & 0x80;
            frame.rsv1 = byte(0) & 0x40;
            frame.rsv2 = byte(0) & 0x20;
            frame.rsv3 = byte(0) & 0x10;
            frame.opcode = byte(0) & 0x0f;
            frame.masked = byte(1) & 0x80;
            std::uint64_t length = byte(1) & 0x7f;
            std::size_t header = 2;
            bool complete_header = true;
            if (length == 126) {
                header = 4;
                if (data.size() < header) {
                    complete_header = false;
                } else {
                    length = (std::uint64_t{byte(2)} << 8) | byte(3);
                    frame.long_length = length < 126;
                }
            } else if (length == 127) {
                header = 10;
                if (data.size() < header) {
                    complete_header = false;
                } else {
                    length = 0;
                    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
                    frame.long_length = length <= 0xffff;
                    if (length >> 63) {
                        error_ = "64-bit length with the top bit set";
                        return std::nullopt;
                    }
                }
            }
            std::size_t mask_at = header;
            if (frame.masked) header += 4;
            if (complete_header && data.size() >= header && data.size() - header >= length) {
                frame.payload.assign(data.substr(header, length));
                if (frame.masked) {
                    for (std::size_t i = 0; i < frame.payload.size(); ++i) {
                        frame.payload[i] = static_cast<char>(
                            static_cast<std::uint8_t>(frame.payload[i]) ^ byte(mask_at + i % 4));
                    }
                }
                consumed_ += header + length;
                return frame;
            }
        }
        if (!fill(remaining_ms(deadline))) return std::nullopt;
    }
}

std::optional<WsMessage> WsClient::read_message(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    WsMessage message;
    close_seen_.reset();
    for (;;) {
        auto frame = read_frame(remaining_ms(deadline));
        if (!frame) return std::nullopt;
        if (frame->masked) {
            error_ = "the server masked a frame";
            return std::nullopt;
        }
        if (frame->rsv2 || frame->rsv3) {
            error_ = "the server set RSV2 or RSV3";
            return std::nullopt;
        }
        if (frame->opcode == ws_opcode::close) {
            close_seen_ = ws_parse_close(frame->payload);
            error_ = "close frame";
            return std::nullopt;
        }
        if (frame->opcode >= 0x8) {
            if (!frame->fin || frame->rsv1) {
                error_ = "a control frame fragmented or with RSV1";
                return std::nullopt;
            }
            controls_.push_back(std::move(*frame));
            continue;
        }
        if (message.frames == 0) {
            if (frame->opcode != ws_opcode::text && frame->opcode != ws_opcode::binary) {
                error_ = "a message starting with opcode " + std::to_string(frame->opcode);
                return std::nullopt;
            }
            message.opcode = frame->opcode;
            message.compressed = frame->rsv1;
        } else if (frame->opcode != ws_opcode::continuation || frame->rsv1) {
            error_ = "a fragment that is not a plain continuation";
            return std::nullopt;
        }
        ++message.frames;
        message.payload += frame->payload;
        if (!frame->fin) continue;
        if (message.compressed) {
            if (!inflater_) {
                error_ = "RSV1 set without permessage-deflate";
                return std::nullopt;
            }
            auto inflated = inflater_->inflate(message.payload);
            if (!inflated) {
                error_ = "the server's compressed message does not inflate";
                return std::nullopt;
            }
            message.payload = std::move(*inflated);
        }
        return message;
    }
}

std::optional<WsClose> WsClient::read_close(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto frame = read_frame(remaining_ms(deadline));
        if (!frame) return std::nullopt;
        if (frame->opcode == ws_opcode::close) return ws_parse_close(frame->payload);
        if (frame->opcode >= 0x8) {
            controls_.push_back(std::move(*frame));
        } else {
            skipped_.push_back(std::move(*frame));
        }
    }
}

bool WsClient::wait_tcp_closed(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        buffer_.clear();
        consumed_ = 0;
        if (eof_) return true;
        int left = remaining_ms(deadline);
        if (left == 0) return false;
        fill(left);
    }
}

void WsClient::use_deflate(int client_window_bits, bool client_no_context_takeover,
                           int server_window_bits, bool server_no_context_takeover) {
    deflater_ = std::make_unique<WsDeflater>(client_window_bits, client_no_context_takeover);
    inflater_ = std::make_unique<WsInflater>(server_window_bits, server_no_context_takeover);
}

}  // namespace c10k::test

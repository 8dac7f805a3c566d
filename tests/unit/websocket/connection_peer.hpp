#pragma once
// Test helpers for websocket::Connection: a peer that records events and output as text, frame
// builders for what a client sends, and runs that feed input in pieces of every size.

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "websocket/connection.hpp"

namespace c10k::websocket::test {

inline const std::uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};

/// A client's frame, as the server receives it.
inline std::string client_frame(Opcode opcode, std::string_view payload, bool fin = true,
                                bool rsv1 = false) {
    std::string out;
    append_masked_frame(out, opcode, payload, kKey, fin, rsv1);
    return out;
}

inline std::string close_frame(std::uint16_t code, std::string_view reason = {}) {
    std::string payload;
    append_close_payload(payload, code, reason);
    return client_frame(Opcode::close, payload);
}

/// Records events as text, and the output bytes.
class Peer : public ConnectionHandler, public ConnectionOutput {
public:
    void on_message(MessageType type, std::string_view payload) override {
        events.push_back((type == MessageType::text ? "text:" : "binary:") + std::string(payload));
        if (on_message_hook) on_message_hook(payload);
    }
    void on_close(std::uint16_t code, std::string_view reason) override {
        events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
        ++closes;
    }
    void on_pong(std::string_view payload) override {
        events.push_back("pong:" + std::string(payload));
    }
    void write(std::string frames) override { output += frames; }

    std::vector<std::string> events;
    std::string output;
    int closes = 0;
    std::function<void(std::string_view)> on_message_hook;
};

/// Decodes what a Connection wrote, as its peer would (role: the peer's).
class FrameList : public FrameSink {
public:
    bool on_frame_header(const FrameHeader& h) override {
        frames.push_back(std::to_string(static_cast<int>(h.opcode)) + (h.rsv1 ? "z" : "") + ":");
        return true;
    }
    bool on_frame_payload(const char* data, std::size_t size) override {
        frames.back().append(data, size);
        return true;
    }
    bool on_frame_end() override { return true; }
    std::vector<std::string> frames;
};

inline std::vector<std::string> decode(const std::string& output, Role peer_role = Role::client) {
    FrameParser parser(peer_role, true);  // RSV1 allowed: frames may be compressed
    FrameList list;
    EXPECT_TRUE(parser.feed(output.data(), output.size(), list)) << describe(parser.error());
    EXPECT_TRUE(parser.at_frame_boundary());
    return list.frames;
}

inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string out;
    append_close_payload(out, code, reason);
    return out;
}

/// The decoded form of a close frame with `code`.
inline std::string sent_close(std::uint16_t code, std::string_view reason = {}) {
    return "8:" + close_payload(code, reason);
}

struct Outcome {
    std::vector<std::string> events;
    std::vector<std::string> frames;
    bool finished = false;
    bool failed = false;
};

/// Feeds `input` to a fresh connection in pieces of `step` bytes (0: at once).
inline Outcome run(const Options& options, const std::string& input, std::size_t step = 0,
                   std::optional<DeflateParams> deflate = std::nullopt) {
    Peer peer;
    Connection conn(options, peer, peer, 0, deflate);
    if (step == 0) step = input.empty() ? 1 : input.size();
    for (std::size_t at = 0; at < input.size(); at += step) {
        conn.feed(input.data() + at, std::min(step, input.size() - at), 1);
    }
    return {peer.events,
            decode(peer.output, options.role == Role::server ? Role::client : Role::server),
            conn.finished(), conn.failed()};
}

/// Runs `input` whole, byte by byte and in pieces of 2, 5 and 13, and checks they agree.
inline Outcome run_every_way(const Options& options, const std::string& input,
                             std::optional<DeflateParams> deflate = std::nullopt) {
    Outcome whole = run(options, input, 0, deflate);
    for (std::size_t step : {1, 2, 5, 13}) {
        Outcome split = run(options, input, step, deflate);
        EXPECT_EQ(split.events, whole.events) << "step " << step;
        EXPECT_EQ(split.frames, whole.frames) << "step " << step;
        EXPECT_EQ(split.finished, whole.finished) << "step " << step;
    }
    return whole;
}

using Strings = std::vector<std::string>;

}  // namespace c10k::websocket::test

// The frame parser and writers: RFC 6455 section 5.7's examples byte for byte, every protocol
// rule of section 5, and the same frames whichever way the bytes are split.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "websocket/frame.hpp"

namespace c10k::websocket {
namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

struct Frame {
    Opcode opcode;
    bool fin;
    bool rsv1;
    std::uint64_t length;
    std::string payload;
    bool ended = false;

    bool operator==(const Frame&) const = default;
};

/// Records frames, joining payload pieces; can stop parsing after a given number of headers.
class Recorder : public FrameSink {
public:
    bool on_frame_header(const FrameHeader& h) override {
        frames.push_back({h.opcode, h.fin, h.rsv1, h.length, {}});
        return frames.size() != stop_after_headers;
    }
    bool on_frame_payload(const char* data, std::size_t size) override {
        EXPECT_GT(size, 0u);
        EXPECT_FALSE(frames.back().ended);
        frames.back().payload.append(data, size);
        ++pieces;
        return true;
    }
    bool on_frame_end() override {
        EXPECT_EQ(frames.back().payload.size(), frames.back().length);
        frames.back().ended = true;
        return true;
    }

    std::vector<Frame> frames;
    std::size_t pieces = 0;
    std::size_t stop_after_headers = 0;
};

struct Parsed {
    std::vector<Frame> frames;
    FrameError error = FrameError::none;
    bool ok = true;
};

/// Parses `input` in pieces of `step` bytes (0: all at once).
Parsed parse(const std::string& input, Role role = Role::server, bool deflate = false,
             std::size_t step = 0) {
    FrameParser parser(role, deflate);
    Recorder sink;
    Parsed result;
    if (step == 0) step = input.size() ? input.size() : 1;
    for (std::size_t at = 0; at < input.size() && result.ok; at += step) {
        result.ok = parser.feed(input.data() + at, std::min(step, input.size() - at), sink);
    }
    result.frames = sink.frames;
    result.error = parser.error();
    return result;
}

/// Parses in one piece, byte by byte and in pieces of 3 and 7, and checks all agree.
Parsed parse_every_way(const std::string& input, Role role = Role::server, bool deflate = false) {
    Parsed whole = parse(input, role, deflate);
    for (std::size_t step : {1, 3, 7}) {
        Parsed split = parse(input, role, deflate, step);
        EXPECT_EQ(split.ok, whole.ok) << "step " << step;
        EXPECT_EQ(split.error, whole.error) << "step " << step;
        EXPECT_EQ(split.frames, whole.frames) << "step " << step;
    }
    return whole;
}

const std::uint8_t kRfcKey[4] = {0x37, 0xfa, 0x21, 0x3d};

TEST(FrameParser, RfcUnmaskedHello) {
    Parsed p = parse_every_way(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Role::client);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 1u);
    EXPECT_EQ(p.frames[0], (Frame{Opcode::text, true, false, 5, "Hello", true}));
}

TEST(FrameParser, RfcMaskedHello) {
    std::string wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    Parsed p = parse_every_way(wire);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 1u);
    EXPECT_EQ(p.frames[0], (Frame{Opcode::text, true, false, 5, "Hello", true}));
}

TEST(FrameParser, RfcFragmentedHello) {
    std::string wire = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
    Parsed p = parse_every_way(wire, Role::client);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 2u);
    EXPECT_EQ(p.frames[0], (Frame{Opcode::text, false, false, 3, "Hel", true}));
    EXPECT_EQ(p.frames[1], (Frame{Opcode::continuation, true, false, 2, "lo", true}));
}

TEST(FrameParser, RfcPingAndMaskedPong) {
    Parsed ping = parse_every_way(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Role::client);
    ASSERT_TRUE(ping.ok);
    EXPECT_EQ(ping.frames.at(0), (Frame{Opcode::ping, true, false, 5, "Hello", true}));
    std::string pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    Parsed p = parse_every_way(pong);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.frames.at(0), (Frame{Opcode::pong, true, false, 5, "Hello", true}));
}

TEST(FrameParser, Rfc256ByteAnd64KiBBinaryLengths) {
    std::string payload256(256, '\0');
    for (std::size_t i = 0; i < payload256.size(); ++i) payload256[i] = static_cast<char>(i);
    std::string wire = bytes({0x82, 0x7E, 0x01, 0x00}) + payload256;
    Parsed p = parse_every_way(wire, Role::client);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.frames.at(0), (Frame{Opcode::binary, true, false, 256, payload256, true}));

    std::string payload64k(65536, 'x');
    wire = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + payload64k;
    p = parse(wire, Role::client);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.frames.at(0), (Frame{Opcode::binary, true, false, 65536, payload64k, true}));
    p = parse(wire, Role::client, false, 1000);
    EXPECT_EQ(p.frames.at(0).payload, payload64k);
}

TEST(FrameWriter, WritesTheRfcExamples) {
    EXPECT_EQ(make_frame(Opcode::text, "Hello"), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    std::string masked;
    append_masked_frame(masked, Opcode::text, "Hello", kRfcKey);
    EXPECT_EQ(masked, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    std::string fragmented;
    append_frame(fragmented, Opcode::text, "Hel", false);
    append_frame(fragmented, Opcode::continuation, "lo");
    EXPECT_EQ(fragmented, bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));
    EXPECT_EQ(make_frame(Opcode::ping, "Hello"), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    std::string pong;
    append_masked_frame(pong, Opcode::pong, "Hello", kRfcKey);
    EXPECT_EQ(pong, bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

    std::string f256 = make_frame(Opcode::binary, std::string(256, 'a'));
    EXPECT_EQ(f256.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
    EXPECT_EQ(f256.size(), 4u + 256);
    std::string f64k = make_frame(Opcode::binary, std::string(65536, 'a'));
    EXPECT_EQ(f64k.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
    EXPECT_EQ(f64k.size(), 10u + 65536);
}

TEST(FrameWriter, LengthBoundariesAndRsv1) {
    char header[kMaxFrameHeader];
    EXPECT_EQ(write_frame_header(header, Opcode::binary, 125), 2u);
    EXPECT_EQ(write_frame_header(header, Opcode::binary, 126), 4u);
    EXPECT_EQ(write_frame_header(header, Opcode::binary, 65535), 4u);
    EXPECT_EQ(write_frame_header(header, Opcode::binary, 65536), 10u);
    EXPECT_EQ(write_frame_header(header, Opcode::binary, 65536, true, false, kRfcKey), 14u);
    EXPECT_EQ(write_frame_header(header, Opcode::text, 3, true, true), 2u);
    EXPECT_EQ(static_cast<std::uint8_t>(header[0]), 0xC1);
    EXPECT_EQ(write_frame_header(header, Opcode::text, 3, false, false), 2u);
    EXPECT_EQ(static_cast<std::uint8_t>(header[0]), 0x01);
}

TEST(FrameWriter, WhatItWritesParsesBack) {
    for (std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
        std::string payload(size, '\0');
        for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7 + 3);
        std::string wire;
        append_masked_frame(wire, Opcode::binary, payload, kRfcKey);
        Parsed p = parse(wire, Role::server, false, 4093);
        ASSERT_TRUE(p.ok) << size;
        ASSERT_EQ(p.frames.size(), 1u);
        EXPECT_EQ(p.frames[0].payload, payload) << size;
        wire.clear();
        append_frame(wire, Opcode::binary, payload);
        p = parse(wire, Role::client, false, 4093);
        ASSERT_TRUE(p.ok) << size;
        EXPECT_EQ(p.frames.at(0).payload, payload) << size;
    }
}

TEST(ApplyMask, KeepsThePhaseAcrossPieces) {
    std::string plain = "The quick brown fox jumps over the lazy dog, twice over.";
    std::string whole = plain;
    apply_mask(whole.data(), whole.size(), kRfcKey);
    for (std::size_t cut = 0; cut <= plain.size(); ++cut) {
        std::string pieces = plain;
        std::size_t phase = apply_mask(pieces.data(), cut, kRfcKey);
        apply_mask(pieces.data() + cut, pieces.size() - cut, kRfcKey, phase);
        EXPECT_EQ(pieces, whole) << cut;
    }
    // Masking twice restores the text.
    apply_mask(whole.data(), whole.size(), kRfcKey);
    EXPECT_EQ(whole, plain);
}

TEST(FrameParser, NonMinimalLengthsAreAccepted) {
    // "Hi" with a 16-bit length, then with a 64-bit length (RFC 6455 allows both).
    std::string wire =
        bytes({0x82, 0x7E, 0x00, 0x02, 'H', 'i', 0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x02, 'H', 'i'});
    Parsed p = parse_every_way(wire, Role::client);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 2u);
    EXPECT_EQ(p.frames[1], (Frame{Opcode::binary, true, false, 2, "Hi", true}));
}

TEST(FrameParser, EmptyFramesEnd) {
    Parsed p = parse_every_way(bytes({0x81, 0x80, 1, 2, 3, 4, 0x8A, 0x80, 1, 2, 3, 4}));
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 2u);
    EXPECT_EQ(p.frames[0], (Frame{Opcode::text, true, false, 0, "", true}));
    EXPECT_EQ(p.frames[1], (Frame{Opcode::pong, true, false, 0, "", true}));
}

TEST(FrameParser, ControlFramesBetweenFragments) {
    std::string wire;
    append_masked_frame(wire, Opcode::text, "frag1", kRfcKey, false);
    append_masked_frame(wire, Opcode::ping, "p", kRfcKey);
    append_masked_frame(wire, Opcode::continuation, "frag2", kRfcKey, false);
    append_masked_frame(wire, Opcode::pong, "", kRfcKey);
    append_masked_frame(wire, Opcode::continuation, "frag3", kRfcKey, true);
    append_masked_frame(wire, Opcode::binary, "next", kRfcKey);
    Parsed p = parse_every_way(wire);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 6u);
    EXPECT_EQ(p.frames[1].opcode, Opcode::ping);
    EXPECT_EQ(p.frames[4], (Frame{Opcode::continuation, true, false, 5, "frag3", true}));
    EXPECT_EQ(p.frames[5].payload, "next");
}

/// Parses `wire` every way and expects `error` with the frames before it intact.
void expect_error(const std::string& wire, FrameError error, std::size_t good_frames = 0,
                  Role role = Role::server, bool deflate = false) {
    Parsed p = parse_every_way(wire, role, deflate);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error, error) << describe(error);
    EXPECT_EQ(p.frames.size(), good_frames);
}

TEST(FrameParser, ReservedBitsNeedAnExtension) {
    expect_error(bytes({0xC1, 0x80, 1, 2, 3, 4}), FrameError::reserved_bits);  // RSV1
    expect_error(bytes({0xA1, 0x80, 1, 2, 3, 4}), FrameError::reserved_bits);  // RSV2
    expect_error(bytes({0x91, 0x80, 1, 2, 3, 4}), FrameError::reserved_bits);  // RSV3
    // With permessage-deflate: RSV1 on the first frame of a data message only.
    Parsed p = parse_every_way(bytes({0xC1, 0x80, 1, 2, 3, 4, 0x42, 0x80, 1, 2, 3, 4}),
                               Role::server, true);
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.frames.size(), 2u);
    EXPECT_TRUE(p.frames[0].rsv1);
    EXPECT_EQ(p.frames[1], (Frame{Opcode::binary, false, true, 0, "", true}));
    std::string wire;
    append_masked_frame(wire, Opcode::text, "", kRfcKey, false, true);
    append_masked_frame(wire, Opcode::continuation, "", kRfcKey, true, true);
    expect_error(wire, FrameError::reserved_bits, 1, Role::server, true);
    wire.clear();
    append_masked_frame(wire, Opcode::ping, "", kRfcKey, true, true);
    expect_error(wire, FrameError::reserved_bits, 0, Role::server, true);
    wire.clear();
    append_masked_frame(wire, Opcode::binary, "", kRfcKey, true, true);
    expect_error(wire + wire, FrameError::reserved_bits, 0, Role::server, false);
    expect_error(bytes({0xE1, 0x80, 1, 2, 3, 4}), FrameError::reserved_bits, 0, Role::server, true);
}

TEST(FrameParser, ReservedOpcodesAreRefusedAtTheFirstByte) {
    for (int opcode : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
        FrameParser parser(Role::server);
        Recorder sink;
        char first = static_cast<char>(0x80 | opcode);
        EXPECT_FALSE(parser.feed(&first, 1, sink)) << opcode;
        EXPECT_EQ(parser.error(), FrameError::reserved_opcode);
        // Stopped for good.
        std::string good = bytes({0x81, 0x80, 1, 2, 3, 4});
        EXPECT_FALSE(parser.feed(good.data(), good.size(), sink));
        EXPECT_TRUE(sink.frames.empty());
    }
}

TEST(FrameParser, ControlFrameRules) {
    expect_error(bytes({0x09, 0x80, 1, 2, 3, 4}), FrameError::fragmented_control);
    expect_error(bytes({0x08, 0x80, 1, 2, 3, 4}), FrameError::fragmented_control);
    expect_error(bytes({0x89, 0xFE, 0x00, 0x7E}), FrameError::control_too_long);
    expect_error(bytes({0x88, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x05}), FrameError::control_too_long);
    std::string wire;
    append_masked_frame(wire, Opcode::ping, std::string(125, 'p'), kRfcKey);
    Parsed p = parse_every_way(wire);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.frames.at(0).payload, std::string(125, 'p'));
}

TEST(FrameParser, FragmentationRules) {
    std::string wire;
    append_masked_frame(wire, Opcode::continuation, "x", kRfcKey);
    expect_error(wire, FrameError::unexpected_continuation);
    wire.clear();
    append_masked_frame(wire, Opcode::text, "a", kRfcKey, false);
    append_masked_frame(wire, Opcode::text, "b", kRfcKey);
    expect_error(wire, FrameError::expected_continuation, 1);
    wire.clear();
    append_masked_frame(wire, Opcode::text, "a", kRfcKey, false);
    append_masked_frame(wire, Opcode::binary, "b", kRfcKey);
    expect_error(wire, FrameError::expected_continuation, 1);
    wire.clear();
    // A finished message leaves nothing in progress.
    append_masked_frame(wire, Opcode::text, "a", kRfcKey, false);
    append_masked_frame(wire, Opcode::continuation, "b", kRfcKey);
    append_masked_frame(wire, Opcode::continuation, "c", kRfcKey);
    expect_error(wire, FrameError::unexpected_continuation, 2);
}

TEST(FrameParser, MaskingFollowsTheRole) {
    expect_error(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), FrameError::unmasked);
    std::string masked;
    append_masked_frame(masked, Opcode::text, "Hello", kRfcKey);
    expect_error(masked, FrameError::masked, 0, Role::client);
}

TEST(FrameParser, SixtyFourBitLengthWithTheTopBitIsAnError) {
    expect_error(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}),
                 FrameError::length_too_large);
    // The largest legal length parses (its payload never arrives here).
    Parsed p =
        parse(bytes({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}));
    EXPECT_TRUE(p.ok);
    EXPECT_EQ(p.frames.at(0).length, 0x7FFFFFFFFFFFFFFFull);
}

TEST(FrameParser, ASinkStopsParsing) {
    std::string wire;
    append_masked_frame(wire, Opcode::text, "one", kRfcKey);
    append_masked_frame(wire, Opcode::text, "two", kRfcKey);
    FrameParser parser(Role::server);
    Recorder sink;
    sink.stop_after_headers = 2;
    EXPECT_FALSE(parser.feed(wire.data(), wire.size(), sink));
    EXPECT_TRUE(parser.stopped());
    EXPECT_EQ(parser.error(), FrameError::none);
    EXPECT_EQ(sink.frames.size(), 2u);
    EXPECT_EQ(sink.frames[1].payload, "");
}

TEST(FrameParser, PayloadArrivesAsItComes) {
    // A large masked frame fed in two halves reaches the sink before it is complete.
    std::string payload(10000, 'z');
    std::string wire;
    append_masked_frame(wire, Opcode::binary, payload, kRfcKey);
    FrameParser parser(Role::server);
    Recorder sink;
    ASSERT_TRUE(parser.feed(wire.data(), 5000, sink));
    ASSERT_EQ(sink.frames.size(), 1u);
    EXPECT_EQ(sink.frames[0].payload.size(), 5000u - 8);
    EXPECT_FALSE(sink.frames[0].ended);
    EXPECT_FALSE(parser.at_frame_boundary());
    ASSERT_TRUE(parser.feed(wire.data() + 5000, wire.size() - 5000, sink));
    EXPECT_EQ(sink.frames[0].payload, payload);
    EXPECT_TRUE(parser.at_frame_boundary());
}

}  // namespace
}  // namespace c10k::websocket

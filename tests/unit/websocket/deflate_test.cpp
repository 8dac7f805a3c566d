// permessage-deflate: RFC 7692's examples byte for byte, round trips over every parameter
// combination, the bound on a message's inflated size, and the negotiation of parameters.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "websocket/deflate.hpp"

namespace c10k::websocket {
namespace {

using Status = Inflater::Status;

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

// Inflates one whole message, fed in pieces of `piece` bytes.
Status inflate_message(Inflater& inflater, std::string_view compressed, std::string& out,
                       std::size_t limit = 1 << 26, std::size_t piece = 1 << 20) {
    out.clear();
    for (std::size_t at = 0; at < compressed.size(); at += piece) {
        const auto part = compressed.substr(at, piece);
        if (Status s = inflater.feed(part.data(), part.size(), out, limit); s != Status::ok) {
            return s;
        }
    }
    return inflater.finish(out, limit);
}

std::string inflate_or_fail(Inflater& inflater, std::string_view compressed) {
    std::string out;
    EXPECT_EQ(inflate_message(inflater, compressed, out), Status::ok);
    return out;
}

// Text that compresses like chat or JSON messages do: repeated keys, varying values.
std::string json_like(std::size_t size, std::uint32_t seed) {
    std::mt19937 random(seed);
    std::string text;
    while (text.size() < size) {
        text += "{\"user\":\"u" + std::to_string(random() % 1000) +
                "\",\"score\":" + std::to_string(random() % 100000) + ",\"text\":\"";
        for (int i = 0; i < 20; ++i) text.push_back(static_cast<char>('a' + random() % 26));
        text += "\"},";
    }
    text.resize(size);
    return text;
}

std::string random_bytes(std::size_t size, std::uint32_t seed) {
    std::mt19937 random(seed);
    std::string out(size, '\0');
    for (char& c : out) c = static_cast<char>(random());
    return out;
}

// ---------------------------------------------------------------------------------------------
// RFC 7692 7.2.3

TEST(Deflate, Rfc7692HelloIsCompressedAndInflatedByteForByte) {
    Deflater deflater(15, false);
    std::string compressed;
    ASSERT_TRUE(deflater.compress("Hello", compressed));
    EXPECT_EQ(compressed, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    Inflater inflater(15, false);
    EXPECT_EQ(inflate_or_fail(inflater, compressed), "Hello");
}

TEST(Deflate, Rfc7692SecondMessageSharesTheWindow) {
    Deflater deflater(15, false);
    Inflater inflater(15, false);
    std::string first;
    std::string second;
    ASSERT_TRUE(deflater.compress("Hello", first));
    ASSERT_TRUE(deflater.compress("Hello", second));
    EXPECT_EQ(second, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
    EXPECT_EQ(inflate_or_fail(inflater, first), "Hello");
    EXPECT_EQ(inflate_or_fail(inflater, second), "Hello");
}

TEST(Deflate, Rfc7692WithoutContextTakeoverEachMessageStandsAlone) {
    Deflater deflater(15, true);
    std::string first;
    std::string second;
    ASSERT_TRUE(deflater.compress("Hello", first));
    ASSERT_TRUE(deflater.compress("Hello", second));
    EXPECT_EQ(first, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    EXPECT_EQ(second, first);
    // Each decodes with a fresh inflater.
    Inflater fresh(15, true);
    EXPECT_EQ(inflate_or_fail(fresh, second), "Hello");
    EXPECT_EQ(inflate_or_fail(fresh, second), "Hello");
}

TEST(Deflate, Rfc7692StoredBlockIsInflated) {
    Inflater inflater(15, false);
    EXPECT_EQ(inflate_or_fail(inflater, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c,
                                               0x6f, 0x00})),
              "Hello");
}

TEST(Deflate, Rfc7692TwoBlocksInOneMessage) {
    Inflater inflater(15, false);
    EXPECT_EQ(inflate_or_fail(inflater, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca,
                                               0xc9, 0xc9, 0x07, 0x00})),
              "Hello");
}

TEST(Deflate, Rfc7692EmptyMessageIsOneByte) {
    Deflater deflater(15, false);
    std::string compressed;
    ASSERT_TRUE(deflater.compress("", compressed));
    EXPECT_EQ(compressed, bytes({0x00}));
    Inflater inflater(15, false);
    EXPECT_EQ(inflate_or_fail(inflater, compressed), "");
    // Also after a message, when zlib itself would have nothing to flush.
    for (bool no_takeover : {false, true}) {
        Deflater after(15, no_takeover);
        ASSERT_TRUE(after.compress("Hello", compressed));
        ASSERT_TRUE(after.compress("", compressed));
        EXPECT_EQ(compressed, bytes({0x00}));
        ASSERT_TRUE(after.compress("Hello", compressed));
        EXPECT_EQ(compressed.size(), no_takeover ? 7u : 5u);
    }
    // An empty payload is not a DEFLATE stream (the tail alone is a truncated stored block).
    Inflater strict(15, false);
    std::string out;
    EXPECT_EQ(strict.finish(out, 100), Status::error);
}

// A raw DEFLATE compressor whose window already holds `dictionary`, ending with BFINAL: what a
// peer that flushes with Z_FINISH (RFC 7692 7.2.3.4) sends as a following message.
std::string finish_with_window(std::string_view dictionary, std::string_view message) {
    z_stream stream{};
    EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    if (!dictionary.empty()) {
        deflateSetDictionary(&stream, reinterpret_cast<const Bytef*>(dictionary.data()),
                             static_cast<uInt>(dictionary.size()));
    }
    std::string out(deflateBound(&stream, message.size()) + 16, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    stream.avail_in = static_cast<uInt>(message.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
    out.resize(out.size() - stream.avail_out);
    deflateEnd(&stream);
    return out;
}

TEST(Deflate, Rfc7692FinalBlockThenTheWindowCarriesOver) {
    Inflater inflater(15, false);
    // BFINAL block then the empty stored block's header byte, as in the RFC.
    EXPECT_EQ(inflate_or_fail(inflater, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})),
              "Hello");
    // The next message refers back into the first one's window.
    const std::string second = finish_with_window("Hello", "Hello, Hello");
    EXPECT_EQ(inflate_or_fail(inflater, second + bytes({0x00})), "Hello, Hello");
    // A peer that leaves out the header byte after BFINAL is understood too.
    EXPECT_EQ(inflate_or_fail(inflater, finish_with_window("Hello, Hello", "Hello")), "Hello");
    EXPECT_EQ(inflate_or_fail(inflater, finish_with_window("", "plain")), "plain");
}

TEST(Deflate, SeveralFinalBlocksInOneMessageShareTheWindow) {
    // Each part is a whole DEFLATE stream that refers back into the parts before it.
    std::string text;
    std::string message;
    for (int i = 0; i < 50; ++i) {
        const std::string part = "part " + std::to_string(i % 7) + " of a message; ";
        message += finish_with_window(text, part);
        text += part;
    }
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, message.size()}) {
        Inflater inflater(15, false);
        std::string out;
        ASSERT_EQ(inflate_message(inflater, message, out, 1 << 20, piece), Status::ok);
        EXPECT_EQ(out, text);
        // And the window carries over into the next message.
        EXPECT_EQ(inflate_or_fail(inflater, finish_with_window(text, text)), text);
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(Deflate, RoundTripsOverEveryWindowAndTakeoverAndChunking) {
    std::vector<std::string> messages = {"",
                                         "a",
                                         "Hello",
                                         json_like(100, 1),
                                         json_like(5000, 2),
                                         random_bytes(3000, 3),
                                         json_like(200'000, 4),
                                         "",
                                         std::string(70'000, 'x'),
                                         json_like(5000, 2),
                                         ""};
    for (int bits = 8; bits <= 15; ++bits) {
        for (bool no_takeover : {false, true}) {
            SCOPED_TRACE("bits " + std::to_string(bits) + (no_takeover ? " no takeover" : ""));
            Deflater deflater(bits, no_takeover);
            Inflater inflater(bits, no_takeover);
            std::size_t piece = 1;
            for (const std::string& message : messages) {
                std::string compressed;
                ASSERT_TRUE(deflater.compress(message, compressed));
                std::string out;
                // Pieces of 1, 7, 49, ... bytes, as frames of any size would arrive.
                ASSERT_EQ(inflate_message(inflater, compressed, out, 1 << 20, piece), Status::ok);
                ASSERT_EQ(out, message);
                piece = piece * 7 % 100'003;
            }
        }
    }
}

TEST(Deflate, ContextTakeoverMakesARepeatedMessageSmaller) {
    const std::string message = json_like(2000, 7);
    Deflater takeover(15, false);
    std::string first;
    std::string second;
    ASSERT_TRUE(takeover.compress(message, first));
    ASSERT_TRUE(takeover.compress(message, second));
    EXPECT_LT(second.size() * 10, first.size());

    Deflater alone(15, true);
    ASSERT_TRUE(alone.compress(message, first));
    ASSERT_TRUE(alone.compress(message, second));
    EXPECT_EQ(second, first);
}

// ---------------------------------------------------------------------------------------------
// Bounds and errors

// 100 MB of zeros compressed (about 100 KB): a bomb.
std::string zero_bomb() {
    z_stream stream{};
    EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    const std::string zeros(1 << 20, '\0');
    std::string out(1 << 20, '\0');
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    for (int i = 0; i < 100; ++i) {
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
        stream.avail_in = static_cast<uInt>(zeros.size());
        EXPECT_EQ(deflate(&stream, i == 99 ? Z_SYNC_FLUSH : Z_NO_FLUSH), Z_OK);
        EXPECT_EQ(stream.avail_in, 0u);
    }
    out.resize(out.size() - stream.avail_out - 4);  // without the 00 00 ff ff tail
    deflateEnd(&stream);
    return out;
}

TEST(Deflate, AZipBombStopsAtTheLimitWithBoundedMemory) {
    const std::string bomb = zero_bomb();
    ASSERT_LT(bomb.size(), 200'000u);
    constexpr std::size_t limit = 1 << 20;
    Inflater inflater(15, false);
    std::string out;
    Status status = Status::ok;
    std::size_t fed = 0;
    // Fed as 16 KB frames: the second already expands past the limit.
    for (; fed < bomb.size() && status == Status::ok; fed += 16384) {
        status = inflater.feed(bomb.data() + fed, std::min<std::size_t>(16384, bomb.size() - fed),
                               out, limit);
    }
    EXPECT_EQ(status, Status::too_big);
    EXPECT_LT(fed, bomb.size());
    EXPECT_EQ(out.size(), limit);
    EXPECT_LE(out.capacity(), 2 * limit + 16384);
    EXPECT_LE(inflater.memory_bytes(), 48u * 1024);
    // The stream is done for: every later call says so.
    EXPECT_EQ(inflater.feed(bomb.data(), 10, out, limit), Status::too_big);
    EXPECT_EQ(inflater.finish(out, limit), Status::too_big);
    EXPECT_EQ(out.size(), limit);
}

TEST(Deflate, TheLimitCountsTheWholeMessageAcrossFrames) {
    const std::string message = json_like(10'000, 9);
    Deflater deflater(15, false);
    std::string compressed;
    ASSERT_TRUE(deflater.compress(message, compressed));
    {
        Inflater inflater(15, false);
        std::string out;
        EXPECT_EQ(inflate_message(inflater, compressed, out, message.size(), 100), Status::ok);
        EXPECT_EQ(out, message);
    }
    {
        Inflater inflater(15, false);
        std::string out;
        EXPECT_EQ(inflate_message(inflater, compressed, out, message.size() - 1, 100),
                  Status::too_big);
        EXPECT_EQ(out.size(), message.size() - 1);
    }
    {
        // No limit at all is a limit too (the room left plus one must not wrap around).
        Inflater inflater(15, false);
        std::string out;
        EXPECT_EQ(inflate_message(inflater, compressed, out, SIZE_MAX, 100), Status::ok);
        EXPECT_EQ(out, message);
    }
    // The count starts again with each message.
    Inflater inflater(15, false);
    std::string out;
    EXPECT_EQ(inflate_message(inflater, compressed, out, message.size()), Status::ok);
    for (int i = 0; i < 2; ++i) {
        std::string again;
        ASSERT_TRUE(deflater.compress(message, again));
        EXPECT_EQ(inflate_message(inflater, again, out, message.size()), Status::ok);
        EXPECT_EQ(out, message);
    }
}

TEST(Deflate, GarbageAndTruncatedMessagesAreErrors) {
    {
        Inflater inflater(15, false);
        std::string out;
        // BTYPE 11 is reserved.
        const std::string garbage = bytes({0xff, 0xff, 0xff, 0xff, 0x00});
        EXPECT_EQ(inflater.feed(garbage.data(), garbage.size(), out, 1000), Status::error);
        EXPECT_EQ(inflater.finish(out, 1000), Status::error);
    }
    {
        Inflater inflater(15, false);
        std::string out;
        EXPECT_EQ(inflate_message(inflater, random_bytes(4096, 11), out), Status::error);
    }
    {
        // A stored block that announces 5 bytes and carries 2: the tail is read as data and the
        // message ends inside the block.
        Inflater inflater(15, false);
        std::string out;
        EXPECT_EQ(inflate_message(inflater, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65}), out),
                  Status::error);
    }
}

// ---------------------------------------------------------------------------------------------
// Memory

TEST(Deflate, MemoryPerStreamIsModestAndReleased) {
    const std::string message = json_like(100'000, 5);
    for (int bits : {9, 12, 15}) {
        Deflater deflater(bits, false);
        EXPECT_EQ(deflater.memory_bytes(), 0u);
        std::string compressed;
        ASSERT_TRUE(deflater.compress(message, compressed));
        const std::size_t expected =
            (std::size_t{4} << bits) + (std::size_t{1} << (deflate_mem_level + 9));
        EXPECT_GE(deflater.memory_bytes(), expected);
        EXPECT_LE(deflater.memory_bytes(), expected + 8192);

        Inflater inflater(bits, false);
        EXPECT_EQ(inflater.memory_bytes(), 0u);
        EXPECT_EQ(inflate_or_fail(inflater, compressed), message);
        EXPECT_GE(inflater.memory_bytes(), std::size_t{1} << bits);
        EXPECT_LE(inflater.memory_bytes(), (std::size_t{1} << bits) + 8192);
        std::printf("window %2d: Deflater %zu bytes, Inflater %zu bytes\n", bits,
                    deflater.memory_bytes(), inflater.memory_bytes());
    }
    // Without context takeover the inflater holds nothing between messages.
    Deflater deflater(15, true);
    Inflater inflater(15, true);
    std::string compressed;
    ASSERT_TRUE(deflater.compress(message, compressed));
    std::string out;
    ASSERT_EQ(inflater.feed(compressed.data(), compressed.size(), out, 1 << 20), Status::ok);
    EXPECT_GT(inflater.memory_bytes(), 0u);
    ASSERT_EQ(inflater.finish(out, 1 << 20), Status::ok);
    EXPECT_EQ(inflater.memory_bytes(), 0u);
    EXPECT_EQ(out, message);
    EXPECT_EQ(inflate_or_fail(inflater, compressed), message);
}

// ---------------------------------------------------------------------------------------------
// Negotiation

namespace negotiation {

std::optional<DeflateAgreement> negotiate(std::string_view header, DeflatePolicy policy = {}) {
    return negotiate_deflate(header, policy);
}

TEST(DeflateNegotiation, PlainOfferIsAcceptedAsIs) {
    auto agreed = negotiate("permessage-deflate");
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->response, "permessage-deflate");
    EXPECT_FALSE(agreed->params.server_no_context_takeover);
    EXPECT_FALSE(agreed->params.client_no_context_takeover);
    EXPECT_EQ(agreed->params.server_max_window_bits, 15);
    EXPECT_EQ(agreed->params.client_max_window_bits, 15);
}

TEST(DeflateNegotiation, BrowserOfferWithPolicyLimits) {
    DeflatePolicy policy;
    policy.server_no_context_takeover = true;
    policy.server_max_window_bits = 13;
    policy.client_max_window_bits = 12;
    auto agreed = negotiate("permessage-deflate; client_max_window_bits", policy);
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->response,
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=13; "
              "client_max_window_bits=12");
    EXPECT_TRUE(agreed->params.server_no_context_takeover);
    EXPECT_EQ(agreed->params.server_max_window_bits, 13);
    EXPECT_EQ(agreed->params.client_max_window_bits, 12);
    // Without client_max_window_bits in the offer the client's window cannot be limited.
    agreed = negotiate("permessage-deflate", policy);
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->params.client_max_window_bits, 15);
    EXPECT_EQ(agreed->response,
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=13");
}

TEST(DeflateNegotiation, EveryParameterOfTheOfferIsHonoured) {
    auto agreed = negotiate(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10; client_max_window_bits=11");
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->response,
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
              "server_max_window_bits=10; client_max_window_bits=11");
    EXPECT_TRUE(agreed->params.server_no_context_takeover);
    EXPECT_TRUE(agreed->params.client_no_context_takeover);
    EXPECT_EQ(agreed->params.server_max_window_bits, 10);
    EXPECT_EQ(agreed->params.client_max_window_bits, 11);
    // server_max_window_bits=15 in the offer is answered (it must be, to accept the offer).
    agreed = negotiate("permessage-deflate; server_max_window_bits=15");
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->response, "permessage-deflate; server_max_window_bits=15");
    // The smaller of the offer's and the policy's windows wins.
    DeflatePolicy policy;
    policy.server_max_window_bits = 9;
    policy.client_max_window_bits = 8;
    agreed = negotiate("permessage-deflate; server_max_window_bits=12; client_max_window_bits=10",
                       policy);
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->params.server_max_window_bits, 9);
    EXPECT_EQ(agreed->params.client_max_window_bits, 8);
}

TEST(DeflateNegotiation, QuotedValuesCaseAndWhitespace) {
    auto agreed = negotiate(
        "  Permessage-Deflate ;Client_Max_Window_Bits = \"10\"\t; "
        "server_max_window_bits=\"1\\2\"  ");
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->params.client_max_window_bits, 10);
    EXPECT_EQ(agreed->params.server_max_window_bits, 12);
    // Several header lines joined by ", ", with empty list elements.
    agreed = negotiate(", x-webkit-deflate-frame, ,permessage-deflate; client_max_window_bits=09");
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->params.client_max_window_bits, 9);
}

TEST(DeflateNegotiation, InvalidOffersAreDeclined) {
    for (const char* header : {
             "permessage-deflate; foo",  // unknown parameter
             "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
             "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
             "permessage-deflate; server_max_window_bits",    // value required
             "permessage-deflate; server_max_window_bits=7",  // 8..15
             "permessage-deflate; server_max_window_bits=16",
             "permessage-deflate; client_max_window_bits=1a",
             "permessage-deflate; client_max_window_bits=\"\"",
             "permessage-deflate; server_no_context_takeover=1",  // no value allowed
             "permessage-deflate; server_max_window_bits=8",      // zlib cannot do 8
             "x-webkit-deflate-frame",
             "",
         }) {
        EXPECT_FALSE(negotiate(header)) << header;
    }
    DeflatePolicy off;
    off.enabled = false;
    EXPECT_FALSE(negotiate("permessage-deflate", off));
}

TEST(DeflateNegotiation, MalformedListsDeclineEverything) {
    for (const char* header : {
             "permessage-deflate; client_max_window_bits=\"10",     // unterminated quote
             "permessage-deflate; client_max_window_bits=\"1 0\"",  // not a token unquoted
             "permessage-deflate; client_max_window_bits=\"10,\", permessage-deflate",
             "permessage-deflate;; server_no_context_takeover",
             "permessage-deflate; =10",
             "permessage-deflate server_no_context_takeover",
             "permessage-deflate; client_max_window_bits=",
             "permessage-deflate; server_no_context_takeover\x01",
         }) {
        EXPECT_FALSE(negotiate(header)) << header;
    }
}

TEST(DeflateNegotiation, TheFirstAcceptableOfferWins) {
    auto agreed = negotiate(
        "permessage-deflate; server_max_window_bits=8, permessage-deflate; foo=bar, "
        "permessage-deflate; client_no_context_takeover, permessage-deflate");
    ASSERT_TRUE(agreed);
    EXPECT_EQ(agreed->response, "permessage-deflate; client_no_context_takeover");
    EXPECT_TRUE(agreed->params.client_no_context_takeover);
}

TEST(DeflateNegotiation, ClientOfferAndAnswerRoundTrip) {
    DeflateParams wanted;
    EXPECT_EQ(make_deflate_offer(wanted), "permessage-deflate; client_max_window_bits");
    wanted.server_no_context_takeover = true;
    wanted.server_max_window_bits = 10;
    wanted.client_max_window_bits = 8;  // offered as 9: zlib cannot compress within 8
    const std::string offer = make_deflate_offer(wanted);
    EXPECT_EQ(offer,
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
              "client_max_window_bits=9");
    // The server's answer to that offer is valid for the client, with the same parameters.
    auto agreed = negotiate(offer);
    ASSERT_TRUE(agreed);
    DeflateAnswer answer = check_deflate_answer(agreed->response, wanted);
    EXPECT_TRUE(answer.valid);
    ASSERT_TRUE(answer.agreed);
    EXPECT_TRUE(answer.agreed->server_no_context_takeover);
    EXPECT_EQ(answer.agreed->server_max_window_bits, agreed->params.server_max_window_bits);
    EXPECT_EQ(answer.agreed->client_max_window_bits, agreed->params.client_max_window_bits);
    EXPECT_EQ(answer.agreed->client_max_window_bits, 9);
}

TEST(DeflateNegotiation, ClientChecksTheAnswer) {
    DeflateParams offered;  // "permessage-deflate; client_max_window_bits"
    auto check = [&](std::string_view answer) { return check_deflate_answer(answer, offered); };
    EXPECT_TRUE(check("").valid);
    EXPECT_FALSE(check("").agreed);
    ASSERT_TRUE(check("permessage-deflate").agreed);
    EXPECT_EQ(check("permessage-deflate; client_max_window_bits=10").agreed->client_max_window_bits,
              10);
    EXPECT_TRUE(
        check("permessage-deflate; client_no_context_takeover").agreed->client_no_context_takeover);
    for (const char* bad : {
             "x-other",                                       // not offered
             "permessage-deflate, permessage-deflate",        // twice
             "permessage-deflate; client_max_window_bits",    // an answer needs a value
             "permessage-deflate; client_max_window_bits=8",  // zlib cannot comply
             "permessage-deflate; foo",
             "permessage-deflate; server_max_window_bits=16",
             "permessage-deflate; server_max_window_bits",
         }) {
        EXPECT_FALSE(check(bad).valid) << bad;
    }
    // Promises asked of the server must be in the answer, and windows no wider than offered.
    offered.server_no_context_takeover = true;
    offered.server_max_window_bits = 10;
    offered.client_max_window_bits = 12;
    EXPECT_FALSE(check("permessage-deflate; server_max_window_bits=10").valid);
    EXPECT_FALSE(check("permessage-deflate; server_no_context_takeover").valid);
    EXPECT_FALSE(
        check("permessage-deflate; server_no_context_takeover; server_max_window_bits=11").valid);
    EXPECT_FALSE(check("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
                       "client_max_window_bits=13")
                     .valid);
    auto ok = check("permessage-deflate; server_no_context_takeover; server_max_window_bits=9");
    ASSERT_TRUE(ok.valid && ok.agreed);
    EXPECT_EQ(ok.agreed->server_max_window_bits, 9);
    EXPECT_EQ(ok.agreed->client_max_window_bits, 12);
}

}  // namespace negotiation

}  // namespace
}  // namespace c10k::websocket

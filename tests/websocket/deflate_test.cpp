// Autobahn groups 12 and 13 written from RFC 7692: the negotiation of permessage-deflate's
// parameters, and compressed messages both ways with and without context takeover. The
// server's compressed echoes are inflated by the test's own zlib stream with the agreed window,
// so a server that compressed with a wider window than it promised fails to inflate here.

#include <map>
#include <optional>
#include <random>
#include <string>

#include <zlib.h>

#include "websocket/ws_suite.hpp"

namespace c10k::test {
namespace {

/// One extension of a Sec-WebSocket-Extensions answer: its name and parameters.
struct Extension {
    std::string name;
    std::map<std::string, std::string> params;  ///< a parameter without value maps to ""
    bool has(const std::string& param) const { return params.count(param) != 0; }
};

std::string trimmed(std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
}

std::vector<Extension> parse_extensions(const std::string& value) {
    std::vector<Extension> list;
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        std::string item =
            value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        Extension extension;
        std::size_t at = 0;
        bool first = true;
        while (at <= item.size()) {
            std::size_t semicolon = item.find(';', at);
            std::string part = trimmed(item.substr(
                at, semicolon == std::string::npos ? std::string::npos : semicolon - at));
            if (first) {
                extension.name = part;
                first = false;
            } else if (!part.empty()) {
                std::size_t equals = part.find('=');
                if (equals == std::string::npos) {
                    extension.params[part] = "";
                } else {
                    extension.params[trimmed(part.substr(0, equals))] =
                        trimmed(part.substr(equals + 1));
                }
            }
            if (semicolon == std::string::npos) break;
            at = semicolon + 1;
        }
        if (!extension.name.empty()) list.push_back(extension);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return list;
}

/// What the server agreed to, read from its answer; nothing when it declined.
struct Agreed {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_window = 15;
    int client_window = 15;
};

class Deflate : public WsTest {
protected:
    /// Opens a connection offering `offer`, and returns the server's single extension answer
    /// (asserting there is at most one, and that it is permessage-deflate).
    std::optional<Extension> negotiate(const std::string& offer,
                                       std::unique_ptr<WsClient>* keep = nullptr,
                                       const std::vector<std::string>& flags = {}) {
        WsHandshake request;
        request.extensions = offer;
        auto client = open(flags, request);
        std::string answer = client->answer().header("sec-websocket-extensions");
        if (keep) *keep = std::move(client);
        if (answer.empty()) return std::nullopt;
        auto list = parse_extensions(answer);
        EXPECT_EQ(list.size(), 1u) << answer;
        if (list.size() != 1) return std::nullopt;
        EXPECT_EQ(list[0].name, "permessage-deflate") << answer;
        // Every parameter in an answer must be one RFC 7692 defines.
        for (const auto& [name, value] : list[0].params) {
            EXPECT_TRUE(name == "server_no_context_takeover" ||
                        name == "client_no_context_takeover" || name == "server_max_window_bits" ||
                        name == "client_max_window_bits")
                << "unknown parameter in the answer: " << name;
        }
        return list[0];
    }

    /// Opens a connection with this offer and installs the deflate streams the answer agreed.
    std::unique_ptr<WsClient> open_deflate(const std::string& offer, Agreed* agreed_out = nullptr,
                                           const std::vector<std::string>& flags = {}) {
        std::unique_ptr<WsClient> client;
        auto answer = negotiate(offer, &client, flags);
        EXPECT_TRUE(answer) << "the server declined: " << offer;
        if (!answer) return client;
        Agreed agreed;
        agreed.server_no_context_takeover = answer->has("server_no_context_takeover");
        // The client keeps any promise of its own offer, whatever the answer says.
        agreed.client_no_context_takeover =
            answer->has("client_no_context_takeover") ||
            offer.find("client_no_context_takeover") != std::string::npos;
        if (answer->has("server_max_window_bits")) {
            agreed.server_window = std::stoi(answer->params.at("server_max_window_bits"));
        }
        if (answer->has("client_max_window_bits")) {
            agreed.client_window = std::stoi(answer->params.at("client_max_window_bits"));
        }
        // zlib cannot compress raw DEFLATE with an 8-bit window; 9 is the narrowest it makes.
        client->use_deflate(std::max(agreed.client_window, 9), agreed.client_no_context_takeover,
                            agreed.server_window, agreed.server_no_context_takeover);
        if (agreed_out) *agreed_out = agreed;
        return client;
    }
};

/// Text that compresses well and refers back over `distance` bytes, so that a compressor with
/// a window wider than agreed would emit distances the agreed window cannot resolve.
std::string repetitive(std::size_t length, std::size_t distance, unsigned seed) {
    std::mt19937 random(seed);
    std::string block(distance, '\0');
    for (auto& c : block) c = static_cast<char>('a' + random() % 26);
    std::string out;
    while (out.size() < length) out += block;
    out.resize(length);
    return out;
}

/// Sends `message` compressed and expects the same message back (compressed or not, and
/// inflated with the agreed window when compressed).
void expect_compressed_echo(WsClient& client, std::uint8_t opcode, const std::string& message,
                            std::size_t fragments = 1) {
    ASSERT_TRUE(client.send_compressed(opcode, message, fragments)) << client.last_error();
    ASSERT_NO_FATAL_FAILURE(expect_message(client, opcode, message));
}

// ---- 12.x/13.x negotiation -----------------------------------------------------------------

TEST_P(Deflate, PlainOfferIsAccepted) {
    auto answer = negotiate("permessage-deflate");
    ASSERT_TRUE(answer);
    // Nothing the offer did not allow: no client_max_window_bits without the client's leave.
    EXPECT_FALSE(answer->has("client_max_window_bits"));
}

TEST_P(Deflate, ServerNoContextTakeoverIsGranted) {
    auto answer = negotiate("permessage-deflate; server_no_context_takeover");
    ASSERT_TRUE(answer);
    EXPECT_TRUE(answer->has("server_no_context_takeover"));
}

TEST_P(Deflate, ClientNoContextTakeoverIsAccepted) {
    auto answer = negotiate("permessage-deflate; client_no_context_takeover");
    ASSERT_TRUE(answer);
}

TEST_P(Deflate, ClientMaxWindowBitsWithAndWithoutValue) {
    auto bare = negotiate("permessage-deflate; client_max_window_bits");
    ASSERT_TRUE(bare);
    if (bare->has("client_max_window_bits")) {
        int bits = std::stoi(bare->params.at("client_max_window_bits"));
        EXPECT_GE(bits, 8);
        EXPECT_LE(bits, 15);
    }
    auto valued = negotiate("permessage-deflate; client_max_window_bits=10");
    ASSERT_TRUE(valued);
    if (valued->has("client_max_window_bits")) {
        int bits = std::stoi(valued->params.at("client_max_window_bits"));
        EXPECT_GE(bits, 8);
        EXPECT_LE(bits, 10) << "a window wider than the client offered";
    }
}

TEST_P(Deflate, ServerMaxWindowBitsOfNineToFifteenIsHonoured) {
    for (int bits = 9; bits <= 15; ++bits) {
        SCOPED_TRACE("server_max_window_bits=" + std::to_string(bits));
        std::string offer = "permessage-deflate; server_max_window_bits=" + std::to_string(bits);
        Agreed agreed;
        auto client = open_deflate(offer, &agreed);
        ASSERT_TRUE(client);
        // RFC 7692 7.1.2.1: accepted by answering with the same or a smaller value.
        EXPECT_LE(agreed.server_window, bits);
        EXPECT_GE(agreed.server_window, 8);
        // Back-references of 300 bytes to 20 KB: inflated here with only the agreed window.
        for (std::size_t distance : {300, 700, 3000, 20000}) {
            std::string text = repetitive(3 * distance + 100, distance, bits);
            ASSERT_TRUE(client->send_compressed(ws_opcode::text, text));
            auto echo = client->read_message(30000);
            ASSERT_TRUE(echo) << client->last_error();
            // The window is only put to the test by a compressed answer: the server compresses
            // messages of 64 bytes and more that shrink.
            EXPECT_TRUE(echo->compressed) << "the server answered uncompressed";
            EXPECT_TRUE(echo->payload == text) << "distance " << distance;
        }
    }
}

TEST_P(Deflate, OfferWithUnknownParameterIsDeclinedAndTheNextTaken) {
    // Alone, the offer is declined: no extension, and the connection works uncompressed.
    std::unique_ptr<WsClient> client;
    auto declined = negotiate("permessage-deflate; no_such_parameter", &client);
    EXPECT_FALSE(declined);
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, "uncompressed"));
    // Followed by an acceptable offer: the second is taken, with its parameters.
    auto second = negotiate(
        "permessage-deflate; no_such_parameter=1, permessage-deflate; server_no_context_takeover");
    ASSERT_TRUE(second);
    EXPECT_TRUE(second->has("server_no_context_takeover"));
    // A bad value for a known parameter is declined as well.
    auto bad_value = negotiate(
        "permessage-deflate; server_max_window_bits=16, permessage-deflate; "
        "client_max_window_bits");
    ASSERT_TRUE(bad_value);
    EXPECT_FALSE(bad_value->has("server_max_window_bits"));
}

TEST_P(Deflate, NoExtensionWhenTheServerTurnsDeflateOff) {
    std::unique_ptr<WsClient> client;
    auto answer = negotiate("permessage-deflate", &client, {"--ws-deflate", "false"});
    EXPECT_FALSE(answer);
    // RSV1 then means nothing agreed: 1002.
    WsFrameSpec spec;
    spec.rsv1 = true;
    spec.payload = std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Deflate, QuotedParameterValueIsAccepted) {
    // RFC 7692 7.1: a value may be sent as a quoted-string, and is read after unquoting.
    auto answer = negotiate("permessage-deflate; server_max_window_bits=\"10\"");
    ASSERT_TRUE(answer) << "declined an offer with a quoted value";
    ASSERT_TRUE(answer->has("server_max_window_bits"));
    EXPECT_LE(std::stoi(answer->params.at("server_max_window_bits")), 10);
}

TEST_P(Deflate, OtherExtensionsAreIgnored) {
    auto answer = negotiate("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits");
    ASSERT_TRUE(answer);
    std::unique_ptr<WsClient> client;
    EXPECT_FALSE(negotiate("x-unknown-extension; level=3", &client));
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, "no extension"));
}

// ---- 12.x/13.x compressed messages --------------------------------------------------------

TEST_P(Deflate, CompressedMessagesAreEchoedWithContextTakeover) {
    Agreed agreed;
    auto client = open_deflate("permessage-deflate; client_max_window_bits", &agreed);
    ASSERT_TRUE(client);
    EXPECT_FALSE(agreed.server_no_context_takeover);
    // The same text repeatedly: with context takeover each refers back to the one before.
    std::string text = repetitive(2000, 500, 1);
    for (int i = 0; i < 5; ++i)
        ASSERT_NO_FATAL_FAILURE(expect_compressed_echo(*client, ws_opcode::text, text));
    for (std::size_t size : {0, 1, 16, 64, 125, 126, 4096, 65536, 300000}) {
        SCOPED_TRACE("size " + std::to_string(size));
        ASSERT_NO_FATAL_FAILURE(
            expect_compressed_echo(*client, ws_opcode::binary, repetitive(size, 97, 2)));
        ASSERT_NO_FATAL_FAILURE(
            expect_compressed_echo(*client, ws_opcode::text, repetitive(size, 1000, 3)));
    }
    // Uncompressed messages may be mixed in (RSV1 clear).
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, "plain, not compressed"));
    ASSERT_NO_FATAL_FAILURE(expect_compressed_echo(*client, ws_opcode::text, text));
}

TEST_P(Deflate, CompressedMessagesAreEchoedWithoutContextTakeover) {
    Agreed agreed;
    auto client = open_deflate(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover", &agreed);
    ASSERT_TRUE(client);
    EXPECT_TRUE(agreed.server_no_context_takeover);
    std::string text = repetitive(2000, 500, 4);
    for (int i = 0; i < 5; ++i)
        ASSERT_NO_FATAL_FAILURE(expect_compressed_echo(*client, ws_opcode::text, text));
    for (std::size_t size : {0, 200, 70000}) {
        ASSERT_NO_FATAL_FAILURE(
            expect_compressed_echo(*client, ws_opcode::binary, repetitive(size, 50, 5)));
    }
}

TEST_P(Deflate, SmallWindowsBothWays) {
    auto client =
        open_deflate("permessage-deflate; server_max_window_bits=9; client_max_window_bits=9");
    ASSERT_TRUE(client);
    for (int i = 0; i < 3; ++i) {
        ASSERT_NO_FATAL_FAILURE(
            expect_compressed_echo(*client, ws_opcode::text, repetitive(5000, 400, 6 + i)));
    }
}

TEST_P(Deflate, FragmentedCompressedMessagesAreEchoed) {
    auto client = open_deflate("permessage-deflate");
    ASSERT_TRUE(client);
    std::string text = repetitive(50000, 3000, 7);
    for (std::size_t fragments : {2, 5, 100}) {
        SCOPED_TRACE(std::to_string(fragments) + " fragments");
        ASSERT_NO_FATAL_FAILURE(expect_compressed_echo(*client, ws_opcode::text, text, fragments));
    }
    // A compressed message one byte per write, so that the inflater meets every split.
    WsDeflater one_by_one(15, false);
    auto slow = open_deflate("permessage-deflate");
    ASSERT_TRUE(slow);
    std::string small = repetitive(300, 40, 8);
    WsFrameSpec split;
    split.rsv1 = true;
    split.payload = one_by_one.compress(small);
    ASSERT_TRUE(slow->send_split(ws_encode(split), 1));
    ASSERT_NO_FATAL_FAILURE(expect_message(*slow, ws_opcode::text, small));
    // With a ping between the fragments.
    WsDeflater deflater(15, true);
    auto other = open_deflate("permessage-deflate; client_no_context_takeover");
    ASSERT_TRUE(other);
    std::string data = deflater.compress("compressed in two fragments, with a ping between");
    WsFrameSpec first;
    first.rsv1 = true;
    first.fin = false;
    first.payload = data.substr(0, data.size() / 2);
    ASSERT_TRUE(other->send_raw(ws_encode(first) + ws_encode(ws_opcode::ping, "p") +
                                ws_encode(ws_opcode::continuation, data.substr(data.size() / 2))));
    ASSERT_NO_FATAL_FAILURE(expect_message(*other, ws_opcode::text,
                                           "compressed in two fragments, with a ping between"));
    ASSERT_EQ(other->controls().size(), 1u);
    EXPECT_EQ(other->controls()[0].opcode, ws_opcode::pong);
}

TEST_P(Deflate, MessageEndingInAFinalBlockIsAccepted) {
    // RFC 7692 7.2.3.3: a sender may end a message with a BFINAL block (zlib's Z_FINISH); the
    // receiver must accept it, and the next message starts a new DEFLATE stream.
    auto client = open_deflate("permessage-deflate; client_no_context_takeover");
    ASSERT_TRUE(client);
    for (const std::string message : {"final block one", "final block two, a little longer"}) {
        z_stream stream{};
        ASSERT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
        std::string out(1024, '\0');
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
        stream.avail_in = static_cast<uInt>(message.size());
        stream.next_out = reinterpret_cast<Bytef*>(out.data());
        stream.avail_out = static_cast<uInt>(out.size());
        ASSERT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
        out.resize(out.size() - stream.avail_out);
        deflateEnd(&stream);
        WsFrameSpec spec;
        spec.rsv1 = true;
        spec.payload = out;
        ASSERT_TRUE(client->send_frame(spec));
        ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, message));
    }
}

TEST_P(Deflate, Rsv1OnAContinuationFrameFails1002) {
    auto client = open_deflate("permessage-deflate; client_no_context_takeover");
    ASSERT_TRUE(client);
    WsDeflater deflater(15, true);
    std::string data = deflater.compress("two compressed fragments");
    WsFrameSpec first;
    first.rsv1 = true;
    first.fin = false;
    first.payload = data.substr(0, 4);
    WsFrameSpec second;
    second.opcode = ws_opcode::continuation;
    second.rsv1 = true;
    second.payload = data.substr(4);
    ASSERT_TRUE(client->send_raw(ws_encode(first) + ws_encode(second)));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Deflate, Rsv1WithoutDeflateAgreedFails1002) {
    // No offer at all; the frame is valid permessage-deflate data for "Hello".
    auto client = open();
    WsFrameSpec spec;
    spec.rsv1 = true;
    spec.payload = std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Deflate, Rsv1OnAControlFrameFails1002) {
    auto client = open_deflate("permessage-deflate");
    ASSERT_TRUE(client);
    WsFrameSpec ping;
    ping.opcode = ws_opcode::ping;
    ping.rsv1 = true;
    ping.payload = "compressed?";
    ASSERT_TRUE(client->send_frame(ping));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Deflate, ZipBombOverTheLimitFails1009) {
    // 100 MB of zeros compress to about 100 KB; the server's limit is 64 KiB after inflation.
    static const std::string bomb = [] {
        WsDeflater deflater(15, true);
        return deflater.compress_repeated(std::string(1 << 20, '\0'), 100);
    }();
    auto client = open_deflate("permessage-deflate; client_no_context_takeover", nullptr,
                               {"--ws-max-message", "65536"});
    ASSERT_TRUE(client);
    WsFrameSpec spec;
    spec.opcode = ws_opcode::binary;
    spec.rsv1 = true;
    spec.payload = bomb;
    client->send_frame(spec);  // the server may close before taking it all
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1009));
}

TEST_P(Deflate, CorruptDeflateDataFails1007) {
    auto client = open_deflate("permessage-deflate");
    ASSERT_TRUE(client);
    // 0x07: a final block of the reserved type 3, which no inflater accepts.
    WsFrameSpec spec;
    spec.rsv1 = true;
    spec.opcode = ws_opcode::binary;
    spec.payload = std::string("\x07\xff\xff\xff\xff\xff", 6);
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
}

TEST_P(Deflate, CompressedTextThatInflatesToInvalidUtf8Fails1007) {
    auto client = open_deflate("permessage-deflate; client_no_context_takeover");
    ASSERT_TRUE(client);
    WsDeflater deflater(15, true);
    WsFrameSpec spec;
    spec.rsv1 = true;
    spec.payload = deflater.compress("valid until \xed\xa0\x80 here");
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
}

INSTANTIATE_TEST_SUITE_P(Engines, Deflate, ::testing::ValuesIn(kWsEngines), ws_engine_name);

}  // namespace
}  // namespace c10k::test

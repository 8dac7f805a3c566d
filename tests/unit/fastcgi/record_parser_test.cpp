// Reading what an application sends: pieces come out whole or byte by byte, padding is
// skipped, and every kind of malformed record is an error (the handler's 502), never a crash.

#include <gtest/gtest.h>

#include <string>

#include "fastcgi/protocol.hpp"
#include "fastcgi/record_parser.hpp"

namespace c10k::fastcgi {
namespace {

std::string header(unsigned version, unsigned type, unsigned id, unsigned length,
                   unsigned padding) {
    std::string h(8, '\0');
    h[0] = static_cast<char>(version);
    h[1] = static_cast<char>(type);
    h[2] = static_cast<char>(id >> 8);
    h[3] = static_cast<char>(id & 0xff);
    h[4] = static_cast<char>(length >> 8);
    h[5] = static_cast<char>(length & 0xff);
    h[6] = static_cast<char>(padding);
    return h;
}

std::string end_request(unsigned id, unsigned app_status, unsigned protocol_status) {
    std::string body(8, '\0');
    body[3] = static_cast<char>(app_status);
    body[4] = static_cast<char>(protocol_status);
    return header(1, 3, id, 8, 0) + body;
}

/// Everything the parser gives for `input` fed in pieces of `step` bytes.
struct Collected {
    std::string out, err;
    int ends = 0;
    std::uint32_t app_status = 0;
    ProtocolStatus protocol_status = ProtocolStatus::request_complete;
    bool error = false;
    int stdout_ends = 0;
};

Collected collect(const std::string& input, std::size_t step) {
    RecordParser parser(1);
    Collected c;
    for (std::size_t at = 0; at < input.size() && !c.error; at += step) {
        std::string_view rest = std::string_view(input).substr(at, step);
        for (;;) {
            Piece piece = parser.next(rest);
            if (piece.kind == Piece::Kind::need_more) break;
            if (piece.kind == Piece::Kind::error) {
                c.error = true;
                break;
            }
            if (piece.kind == Piece::Kind::stdout_data) {
                if (piece.bytes.empty()) ++c.stdout_ends;
                c.out.append(piece.bytes);
            }
            if (piece.kind == Piece::Kind::stderr_data) c.err.append(piece.bytes);
            if (piece.kind == Piece::Kind::end_request) {
                ++c.ends;
                c.app_status = piece.app_status;
                c.protocol_status = piece.protocol_status;
            }
        }
    }
    return c;
}

std::string response() {
    std::string in;
    append_records(in, RecordType::stdout_data, 1, "Content-Type: text/plain\r\n\r\nhello");
    append_records(in, RecordType::stderr_data, 1, "warning\n");
    std::string body(70000, 'b');
    append_records(in, RecordType::stdout_data, 1, body);
    append_records(in, RecordType::stdout_data, 1, {});
    return in + end_request(1, 3, 0);
}

TEST(FastcgiRecordParser, WholeAndByteByByteGiveTheSame) {
    for (std::size_t step :
         {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{1 << 20}}) {
        Collected c = collect(response(), step);
        EXPECT_FALSE(c.error) << step;
        EXPECT_EQ(c.out, "Content-Type: text/plain\r\n\r\nhello" + std::string(70000, 'b'));
        EXPECT_EQ(c.err, "warning\n");
        EXPECT_EQ(c.ends, 1);
        EXPECT_EQ(c.stdout_ends, 1);
        EXPECT_EQ(c.app_status, 3u);
        EXPECT_EQ(c.protocol_status, ProtocolStatus::request_complete);
    }
}

TEST(FastcgiRecordParser, PaddingOfAnyLengthIsSkipped) {
    std::string in = header(1, 6, 1, 2, 255) + "ok" + std::string(255, 'p') + end_request(1, 0, 2);
    Collected c = collect(in, 3);
    EXPECT_FALSE(c.error);
    EXPECT_EQ(c.out, "ok");
    EXPECT_EQ(c.protocol_status, ProtocolStatus::overloaded);
}

TEST(FastcgiRecordParser, MalformedRecordsAreErrors) {
    // A version other than 1.
    EXPECT_TRUE(collect(header(2, 6, 1, 0, 0), 8).error);
    // A record for another request.
    EXPECT_TRUE(collect(header(1, 6, 2, 1, 0) + "x", 8).error);
    // Types only a web server sends (BEGIN_REQUEST, PARAMS, STDIN, ABORT), and unknown ones.
    for (unsigned type : {1u, 2u, 4u, 5u, 8u, 9u, 12u, 200u}) {
        EXPECT_TRUE(collect(header(1, type, 1, 0, 0), 8).error) << type;
    }
    // An END_REQUEST that is not 8 bytes.
    EXPECT_TRUE(collect(header(1, 3, 1, 4, 0) + "abcd", 8).error);
    EXPECT_TRUE(collect(header(1, 3, 1, 65535, 0) + std::string(65535, 'z'), 4096).error);
    // A management record that names a request.
    EXPECT_TRUE(collect(header(1, 10, 1, 0, 0), 8).error);
    // After an error every call is the error: nothing more is taken.
    RecordParser parser(1);
    std::string bad = header(9, 6, 1, 0, 0) + header(1, 6, 1, 0, 0);
    std::string_view rest = bad;
    EXPECT_EQ(parser.next(rest).kind, Piece::Kind::error);
    EXPECT_FALSE(parser.error().empty());
    EXPECT_EQ(parser.next(rest).kind, Piece::Kind::error);
}

TEST(FastcgiRecordParser, GarbageNeverCrashes) {
    // Bytes that are not FastCGI at all (an HTTP server on the socket, say): an error at the
    // first header, whatever the split.
    std::string garbage = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    for (std::size_t step = 1; step <= garbage.size(); ++step) {
        EXPECT_TRUE(collect(garbage, step).error) << step;
    }
    // Every byte value as a type, with an id and sizes that do not fit: no crash, and only
    // the types an application may send pass.
    for (unsigned type = 0; type < 256; ++type) {
        std::string in = header(1, type, 1, 65535, 255);
        collect(in, 5);
    }
}

TEST(FastcgiRecordParser, ValuesResultIsGatheredWhole) {
    std::string pairs;
    append_pair(pairs, "FCGI_MPXS_CONNS", "0");
    RecordParser parser(0);
    std::string in = header(1, 10, 0, static_cast<unsigned>(pairs.size()), 0) + pairs;
    std::string_view first = std::string_view(in).substr(0, 10);
    std::string_view second = std::string_view(in).substr(10);
    EXPECT_EQ(parser.next(first).kind, Piece::Kind::need_more);
    Piece piece = parser.next(second);
    ASSERT_EQ(piece.kind, Piece::Kind::values_result);
    std::vector<std::pair<std::string, std::string>> parsed;
    ASSERT_TRUE(parse_pairs(piece.bytes, parsed));
    ASSERT_EQ(parsed.size(), 1u);
    EXPECT_EQ(parsed[0].second, "0");
}

}  // namespace
}  // namespace c10k::fastcgi

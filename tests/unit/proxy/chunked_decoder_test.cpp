// The strict chunked decoder on its own: data handed over in place, the end found exactly, and
// the limits on chunk lines and sizes.

#include "proxy/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace c10k::proxy {
namespace {

using Status = ChunkedDecoder::Status;

/// Decodes all of `bytes` in one input; returns the data, and the last status in `last`.
std::string decode(const std::string& bytes, Status* last, std::size_t* consumed = nullptr) {
    ChunkedDecoder decoder;
    decoder.reset(1024);
    std::string data;
    std::size_t at = 0;
    Status status = Status::need_more;
    while (true) {
        ChunkedDecoder::Step step = decoder.next(bytes.data() + at, bytes.size() - at);
        at += step.consumed;
        status = step.status;
        if (status != Status::piece) break;
        // In place: the piece lies inside the input.
        EXPECT_GE(step.piece, bytes.data());
        EXPECT_LE(step.piece + step.piece_length, bytes.data() + at);
        data.append(step.piece, step.piece_length);
    }
    *last = status;
    if (consumed) *consumed = at;
    return data;
}

TEST(ChunkedDecoder, StopsExactlyAtTheEnd) {
    std::string body = "4\r\nWiki\r\nB\r\npedia in \r\n\r\n0\r\n\r\n";
    Status last;
    std::size_t consumed = 0;
    EXPECT_EQ(decode(body + "NEXT", &last, &consumed), "Wikipedia in \r\n");
    EXPECT_EQ(last, Status::done);
    EXPECT_EQ(consumed, body.size());
}

TEST(ChunkedDecoder, AChunkAcrossInputsComesInPieces) {
    ChunkedDecoder decoder;
    decoder.reset(1024);
    std::string first = "1a\r\nabcdefghij";
    ChunkedDecoder::Step step = decoder.next(first.data(), first.size());
    EXPECT_EQ(step.status, Status::piece);
    EXPECT_EQ(std::string(step.piece, step.piece_length), "abcdefghij");
    EXPECT_EQ(step.consumed, first.size());
    EXPECT_EQ(decoder.next(first.data() + first.size(), 0).status, Status::need_more);
    std::string second = "klmnopqrstuvwxyz\r\n0\r\n\r\n";
    step = decoder.next(second.data(), second.size());
    EXPECT_EQ(step.status, Status::piece);
    EXPECT_EQ(step.piece_length, 16u);
    step = decoder.next(second.data() + 16, second.size() - 16);
    EXPECT_EQ(step.status, Status::done);
    EXPECT_EQ(step.consumed, second.size() - 16);
    // Once done, nothing more is consumed.
    EXPECT_EQ(decoder.next("0\r\n\r\n", 5).consumed, 0u);
}

TEST(ChunkedDecoder, UppercaseAndLeadingZeros) {
    Status last;
    EXPECT_EQ(decode("000A\r\n0123456789\r\n00\r\n\r\n", &last), "0123456789");
    EXPECT_EQ(last, Status::done);
}

TEST(ChunkedDecoder, LimitsOnLinesSizesAndTrailers) {
    Status last;
    std::string long_line =
        "1;" + std::string(ChunkedDecoder::kMaxChunkLineBytes, 'x') + "\r\na\r\n";
    decode(long_line, &last);
    EXPECT_EQ(last, Status::invalid);
    // 15 hex digits is the most a size may have (after leading zeros too).
    decode("fffffffffffffff\r\n", &last);
    EXPECT_EQ(last, Status::need_more);
    decode("1000000000000000\r\n", &last);
    EXPECT_EQ(last, Status::invalid);
    decode("0\r\nX: " + std::string(1024, 'v') + "\r\n\r\n", &last);
    EXPECT_EQ(last, Status::trailers_too_large);
}

TEST(ChunkedDecoder, ErrorsAreSticky) {
    ChunkedDecoder decoder;
    decoder.reset(1024);
    EXPECT_EQ(decoder.next("g\r\n", 3).status, Status::invalid);
    EXPECT_STRNE(decoder.error_detail(), "");
    EXPECT_EQ(decoder.next("0\r\n\r\n", 5).status, Status::invalid);
    decoder.reset(1024);
    EXPECT_EQ(decoder.next("0\r\n\r\n", 5).status, Status::done);
}

}  // namespace
}  // namespace c10k::proxy

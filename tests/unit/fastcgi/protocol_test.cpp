// The records a web server writes: headers, padding, splitting at 64 KiB, name-value pairs
// with one- and four-byte lengths, and a request's head as php-fpm reads it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fastcgi/protocol.hpp"

namespace c10k::fastcgi {
namespace {

unsigned byte(const std::string& s, std::size_t i) {
    return static_cast<unsigned char>(s[i]);
}

TEST(FastcgiProtocol, RecordHeaderAndPadding) {
    std::string out;
    append_records(out, RecordType::stdin_data, 1, "hello");
    ASSERT_EQ(out.size(), 8u + 5 + 3);  // padded to a multiple of 8
    EXPECT_EQ(byte(out, 0), 1u);        // version
    EXPECT_EQ(byte(out, 1), 5u);        // STDIN
    EXPECT_EQ(byte(out, 2) << 8 | byte(out, 3), 1u);
    EXPECT_EQ(byte(out, 4) << 8 | byte(out, 5), 5u);
    EXPECT_EQ(byte(out, 6), 3u);
    EXPECT_EQ(out.substr(8, 5), "hello");
}

TEST(FastcgiProtocol, EmptyContentIsOneEmptyRecordAndLongContentIsSplit) {
    std::string out;
    append_records(out, RecordType::stdin_data, 1, {});
    EXPECT_EQ(out.size(), 8u);
    EXPECT_EQ(byte(out, 4) << 8 | byte(out, 5), 0u);
    out.clear();
    std::string big(kMaxContent + 10, 'x');
    append_records(out, RecordType::stdin_data, 7, big);
    // 65535 bytes + 1 of padding, then 10 + 6.
    ASSERT_EQ(out.size(), 8u + kMaxContent + 1 + 8 + 10 + 6);
    EXPECT_EQ(byte(out, 4) << 8 | byte(out, 5), kMaxContent);
    std::size_t second = 8 + kMaxContent + 1;
    EXPECT_EQ(byte(out, second + 4) << 8 | byte(out, second + 5), 10u);
    EXPECT_EQ(byte(out, second + 3), 7u);
}

TEST(FastcgiProtocol, PairsWithShortAndLongLengthsRoundTrip) {
    std::string pairs;
    std::string long_value(300, 'v');
    std::string long_name(200, 'N');
    append_pair(pairs, "A", "b");
    append_pair(pairs, "LONG", long_value);
    append_pair(pairs, long_name, "");
    EXPECT_EQ(byte(pairs, 0), 1u);
    EXPECT_EQ(byte(pairs, 1), 1u);
    // 300 takes four bytes with the high bit set.
    EXPECT_EQ(byte(pairs, 4), 4u);
    EXPECT_EQ(byte(pairs, 5), 0x80u);
    EXPECT_EQ(byte(pairs, 7) << 8 | byte(pairs, 8), 300u);
    std::vector<std::pair<std::string, std::string>> parsed;
    ASSERT_TRUE(parse_pairs(pairs, parsed));
    ASSERT_EQ(parsed.size(), 3u);
    EXPECT_EQ(parsed[0], (std::pair<std::string, std::string>{"A", "b"}));
    EXPECT_EQ(parsed[1].second, long_value);
    EXPECT_EQ(parsed[2].first, long_name);
    EXPECT_EQ(parsed[2].second, "");
}

TEST(FastcgiProtocol, TruncatedPairsAreRefused) {
    std::string pairs;
    append_pair(pairs, "NAME", "value");
    std::vector<std::pair<std::string, std::string>> parsed;
    EXPECT_FALSE(parse_pairs(pairs.substr(0, pairs.size() - 1), parsed));
    EXPECT_FALSE(parse_pairs(std::string("\x80\x00", 2), parsed));  // a four-byte length cut
    std::string huge =
        "\xff\xff\xff\xff\x01"
        "a";
    EXPECT_FALSE(parse_pairs(huge, parsed));
}

TEST(FastcgiProtocol, RequestHeadIsBeginRequestThenParamsAndTheirEnd) {
    std::string head = encode_request_head(1, true, {"SCRIPT_NAME=/a.php", "QUERY_STRING=x=1"});
    ASSERT_GE(head.size(), 16u);
    EXPECT_EQ(byte(head, 1), 1u);   // BEGIN_REQUEST
    EXPECT_EQ(byte(head, 8), 0u);   // role, high byte
    EXPECT_EQ(byte(head, 9), 1u);   // RESPONDER
    EXPECT_EQ(byte(head, 10), 1u);  // FCGI_KEEP_CONN
    EXPECT_EQ(byte(head, 17), 4u);  // PARAMS
    std::size_t length = byte(head, 20) << 8 | byte(head, 21);
    std::vector<std::pair<std::string, std::string>> parsed;
    ASSERT_TRUE(parse_pairs(head.substr(24, length), parsed));
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[1].first, "QUERY_STRING");
    EXPECT_EQ(parsed[1].second, "x=1");  // split at the first '=' only
    // The last record: PARAMS with no content.
    std::string tail = head.substr(head.size() - 8);
    EXPECT_EQ(byte(tail, 1), 4u);
    EXPECT_EQ(byte(tail, 4) << 8 | byte(tail, 5), 0u);
}

}  // namespace
}  // namespace c10k::fastcgi

// The units of multiplexing: the parser demultiplexing records by request id, the write queue
// giving the socket whole records of each request in turn, ids rewritten on records framed
// before their request had one, and GET_VALUES_RESULT read for the capabilities.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fastcgi/probe.hpp"
#include "fastcgi/protocol.hpp"
#include "fastcgi/record_parser.hpp"
#include "fastcgi/write_queue.hpp"

namespace c10k::fastcgi {
namespace {

std::string records(RecordType type, std::uint16_t id, std::string_view content) {
    std::string out;
    append_records(out, type, id, content);
    return out;
}

std::uint16_t id_of(std::string_view record) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(record[2]) << 8 |
                                      static_cast<unsigned char>(record[3]));
}

TEST(FastcgiDemultiplex, PiecesSayWhoseTheyAre) {
    std::string wire =
        records(RecordType::stdout_data, 2, "two") + records(RecordType::stdout_data, 1, "one") +
        records(RecordType::stderr_data, 3, "err") + records(RecordType::stdout_data, 2, {});
    std::string end(8, '\0');
    wire += records(RecordType::end_request, 1, end);
    RecordParser parser;
    parser.expect_any();
    std::vector<std::pair<int, std::string>> seen;
    // Byte by byte: a record's pieces keep their id across reads.
    for (char c : wire) {
        std::string_view input(&c, 1);
        for (Piece piece = parser.next(input); piece.kind != Piece::Kind::need_more;
             piece = parser.next(input)) {
            ASSERT_NE(piece.kind, Piece::Kind::error) << parser.error();
            std::string what = piece.kind == Piece::Kind::end_request ? "end"
                               : piece.kind == Piece::Kind::stderr_data
                                   ? "err:" + std::string(piece.bytes)
                                   : "out:" + std::string(piece.bytes);
            if (!seen.empty() && seen.back().first == piece.request_id &&
                what.starts_with("out:") && seen.back().second.starts_with("out:") &&
                what != "out:") {
                seen.back().second += what.substr(4);
            } else {
                seen.emplace_back(piece.request_id, what);
            }
        }
    }
    EXPECT_EQ(seen, (std::vector<std::pair<int, std::string>>{{2, "out:two"},
                                                              {1, "out:one"},
                                                              {3, "err:e"},
                                                              {3, "err:r"},
                                                              {3, "err:r"},
                                                              {2, "out:"},
                                                              {1, "end"}}));
}

TEST(FastcgiDemultiplex, RequestZeroIsAnError) {
    std::string wire = records(RecordType::stdout_data, 0, "x");
    std::string_view input = wire;
    RecordParser parser;
    parser.expect_any();
    EXPECT_EQ(parser.next(input).kind, Piece::Kind::error);
}

TEST(FastcgiWriteQueue, WholeRecordsInTurn) {
    WriteQueue queue;
    std::string big(70000, 'b');  // two records
    queue.push(1, records(RecordType::stdin_data, 1, big));
    queue.push(2, records(RecordType::stdin_data, 2, "small"));
    queue.push(3, records(RecordType::stdin_data, 3, "tiny"));
    std::vector<std::uint16_t> order;
    std::string record;
    // Sent a few bytes at a time: a record is never interleaved with another's bytes.
    while (!queue.empty()) {
        std::string_view next = queue.next();
        ASSERT_FALSE(next.empty());
        if (record.empty()) order.push_back(id_of(next));
        std::size_t n = std::min<std::size_t>(next.size(), 1000);
        record.append(next.substr(0, n));
        queue.sent(n);
        if (n == next.size()) record.clear();  // the record is whole
    }
    EXPECT_EQ(order, (std::vector<std::uint16_t>{1, 2, 3, 1}));
    EXPECT_TRUE(queue.next().empty());
}

TEST(FastcgiWriteQueue, DropKeepsTheRecordInProgress) {
    WriteQueue queue;
    queue.begin(1);
    queue.begin(2);
    EXPECT_FALSE(queue.drop(2));  // nothing of it went out: the application never heard of it
    queue.push(1, records(RecordType::stdin_data, 1, "first") +
                      records(RecordType::stdin_data, 1, "second"));
    std::string_view next = queue.next();
    std::size_t size = next.size();
    queue.sent(3);
    EXPECT_TRUE(queue.drop(1));
    EXPECT_EQ(queue.queued(1), size - 3);  // the rest of the record in progress, and no more
    queue.push(2, records(RecordType::stdin_data, 2, "other"));
    EXPECT_EQ(queue.next().size(), size - 3);
    queue.sent(size - 3);
    EXPECT_EQ(id_of(queue.next()), 2);
    EXPECT_EQ(queue.queued(1), 0u);
}

TEST(FastcgiMultiplex, RequestIdsAreRewrittenOnEveryRecord) {
    std::string out = encode_request_head(1, true, {"A=b", "C=" + std::string(70000, 'd')});
    append_records(out, RecordType::stdin_data, 1, {});
    set_request_id(out, 513);
    std::size_t at = 0;
    int count = 0;
    while (at < out.size()) {
        EXPECT_EQ(id_of(std::string_view(out).substr(at)), 513);
        auto byte = [&](std::size_t i) { return static_cast<unsigned char>(out[at + i]); };
        at += 8 + (byte(4) << 8 | byte(5)) + byte(6);
        ++count;
    }
    EXPECT_EQ(at, out.size());
    EXPECT_GE(count, 5);
}

TEST(FastcgiMultiplex, CapabilitiesFromGetValuesResult) {
    std::string pairs;
    append_pair(pairs, "FCGI_MPXS_CONNS", "1");
    append_pair(pairs, "FCGI_MAX_REQS", "50");
    append_pair(pairs, "FCGI_MAX_CONNS", "10");
    Capabilities yes = read_capabilities(pairs);
    EXPECT_TRUE(yes.multiplexes);
    EXPECT_EQ(yes.max_requests, 50u);
    EXPECT_EQ(yes.max_connections, 10u);
    std::string fpm;
    append_pair(fpm, "FCGI_MPXS_CONNS", "0");
    EXPECT_FALSE(read_capabilities(fpm).multiplexes);
    EXPECT_FALSE(read_capabilities("\x7f").multiplexes);  // malformed: says nothing
    std::string query;
    append_get_values(query);
    EXPECT_EQ(query[1], static_cast<char>(RecordType::get_values));
    EXPECT_EQ(id_of(query), 0);
}

}  // namespace
}  // namespace c10k::fastcgi

#include "serve/range.hpp"

#include <gtest/gtest.h>

namespace c10k::serve {
namespace {

using Kind = RangeDecision::Kind;

void expect_partial(std::string_view field, std::uint64_t length, std::uint64_t offset,
                    std::uint64_t count) {
    RangeDecision decision = decide_range(field, length);
    EXPECT_EQ(decision.kind, Kind::partial) << field;
    EXPECT_EQ(decision.offset, offset) << field;
    EXPECT_EQ(decision.length, count) << field;
}

Kind kind_of(std::string_view field, std::uint64_t length) {
    return decide_range(field, length).kind;
}

TEST(DecideRange, FirstAndLast) {
    expect_partial("bytes=0-0", 100, 0, 1);
    expect_partial("bytes=0-99", 100, 0, 100);
    expect_partial("bytes=10-19", 100, 10, 10);
}

TEST(DecideRange, LastBeyondEndIsClamped) {
    expect_partial("bytes=90-200", 100, 90, 10);
    expect_partial("bytes=99-100", 100, 99, 1);
}

TEST(DecideRange, OpenEnded) {
    expect_partial("bytes=0-", 100, 0, 100);
    expect_partial("bytes=42-", 100, 42, 58);
    expect_partial("bytes=99-", 100, 99, 1);
}

TEST(DecideRange, Suffix) {
    expect_partial("bytes=-1", 100, 99, 1);
    expect_partial("bytes=-10", 100, 90, 10);
    expect_partial("bytes=-100", 100, 0, 100);
    expect_partial("bytes=-500", 100, 0, 100);
}

TEST(DecideRange, WhitespaceAndUnitCase) {
    expect_partial("  bytes=1-2  ", 100, 1, 2);
    expect_partial("Bytes=1-2", 100, 1, 2);
    expect_partial("BYTES= 5-6", 100, 5, 2);
}

TEST(DecideRange, Unsatisfiable) {
    EXPECT_EQ(kind_of("bytes=100-", 100), Kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=100-200", 100), Kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=-0", 100), Kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=0-", 0), Kind::unsatisfiable);
    EXPECT_EQ(kind_of("bytes=0-0", 0), Kind::unsatisfiable);
}

TEST(DecideRange, SyntacticallyInvalidIsIgnored) {
    for (std::string_view field :
         {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=1-a", "bytes=+1-2", "bytes=1 -2",
          "bytes=--1", "bytes=1-2-3", "items=0-1", "bytes 0-1", "bytes=0x10-", "bytes=5-4"}) {
        EXPECT_EQ(kind_of(field, 100), Kind::ignore) << field;
    }
}

TEST(DecideRange, MultipleRangesAreIgnored) {
    EXPECT_EQ(kind_of("bytes=0-1,5-6", 100), Kind::ignore);
    EXPECT_EQ(kind_of("bytes=0-1, -5", 100), Kind::ignore);
    EXPECT_EQ(kind_of("bytes=0-1,", 100), Kind::ignore);
}

TEST(DecideRange, HugeNumbersSaturate) {
    // A last-byte-pos beyond 64 bits still means "to the end".
    expect_partial("bytes=5-99999999999999999999999999", 100, 5, 95);
    // A first-byte-pos beyond 64 bits is past any file.
    EXPECT_EQ(kind_of("bytes=99999999999999999999999999-", 100), Kind::unsatisfiable);
    // A suffix longer than any file means the whole file.
    expect_partial("bytes=-99999999999999999999999999", 100, 0, 100);
    // The largest values that fit are exact, not saturated.
    expect_partial("bytes=18446744073709551614-", UINT64_MAX, UINT64_MAX - 1, 1);
}

TEST(DecideRange, SuffixOnEmptyFileSendsWholeFile) {
    EXPECT_EQ(kind_of("bytes=-5", 0), Kind::ignore);
}

}  // namespace
}  // namespace c10k::serve

// HTTP-dates: the three forms RFC 9110 asks recipients to read, and the one c10k writes.

#include <gtest/gtest.h>

#include "http/date.hpp"

namespace c10k::http {
namespace {

TEST(HttpDate, ReadsTheThreeFormsAndWritesImfFixdate) {
    auto imf = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
    ASSERT_TRUE(imf);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), imf);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), imf);
    EXPECT_EQ(format_http_date(*imf), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDate, ALeapSecondIsReadAsTheSecondBefore) {
    auto leap = parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT");
    ASSERT_TRUE(leap);
    EXPECT_EQ(format_http_date(*leap), "Sat, 31 Dec 2016 23:59:59 GMT");
    // The last second an HTTP-date can write: a leap second there must not become year 10000
    // (found by fuzz_range_conditional).
    auto last = parse_http_date("Fri, 31 Dec 9999 23:59:60 GMT");
    ASSERT_TRUE(last);
    EXPECT_EQ(format_http_date(*last), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpDate, RejectsWhatIsNotADate) {
    EXPECT_FALSE(parse_http_date(""));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
    EXPECT_FALSE(parse_http_date("Thu, 01 Jan 1969 00:00:00 GMT"));
}

}  // namespace
}  // namespace c10k::http

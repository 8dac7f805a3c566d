#include "serve/conditional.hpp"

#include <gtest/gtest.h>

#include "http/date.hpp"

namespace c10k::serve {
namespace {

constexpr std::time_t kMtime = 1'700'000'000;  // Tue, 14 Nov 2023 22:13:20 GMT
const std::string kEtag = make_etag(kMtime, 0x1f4);
const Validators kValidators{kEtag, kMtime};

TEST(MakeEtag, HexMtimeDashHexSize) {
    EXPECT_EQ(make_etag(0x6553f100, 0x1f4), "\"6553f100-1f4\"");
    EXPECT_EQ(make_etag(0, 0), "\"0-0\"");
}

TEST(EtagListMatches, SingleAndList) {
    EXPECT_TRUE(etag_list_matches(kEtag, kEtag));
    EXPECT_TRUE(etag_list_matches("\"x\", " + kEtag, kEtag));
    EXPECT_TRUE(etag_list_matches("\"x\"," + kEtag + ",\"y\"", kEtag));
    EXPECT_TRUE(etag_list_matches(" \"x\" ,\t" + kEtag + " ", kEtag));
    EXPECT_FALSE(etag_list_matches("\"x\", \"y\"", kEtag));
}

TEST(EtagListMatches, StarMatchesAnything) {
    EXPECT_TRUE(etag_list_matches("*", kEtag));
    EXPECT_TRUE(etag_list_matches(" * ", kEtag));
}

TEST(EtagListMatches, WeakComparison) {
    EXPECT_TRUE(etag_list_matches("W/" + kEtag, kEtag));
    EXPECT_TRUE(etag_list_matches(kEtag, "W/" + kEtag));
}

TEST(EtagListMatches, MalformedMatchesNothing) {
    EXPECT_FALSE(etag_list_matches("", kEtag));
    EXPECT_FALSE(etag_list_matches("6553f100-1f4", kEtag));    // unquoted
    EXPECT_FALSE(etag_list_matches("\"6553f100-1f4", kEtag));  // unterminated
    EXPECT_FALSE(etag_list_matches("\"a\" \"b\"", kEtag));     // no comma
    // A prefix of the tag is not the tag.
    EXPECT_FALSE(etag_list_matches("\"6553f100\"", make_etag(0x6553f100, 0x1f4)));
}

TEST(IsNotModified, NoConditions) {
    EXPECT_FALSE(is_not_modified({}, kValidators));
}

TEST(IsNotModified, IfNoneMatch) {
    EXPECT_TRUE(is_not_modified({kEtag, std::nullopt}, kValidators));
    EXPECT_FALSE(is_not_modified({std::string_view("\"other\""), std::nullopt}, kValidators));
}

TEST(IsNotModified, IfModifiedSince) {
    std::string same = http::format_http_date(kMtime);
    std::string later = http::format_http_date(kMtime + 60);
    std::string earlier = http::format_http_date(kMtime - 1);
    EXPECT_TRUE(is_not_modified({std::nullopt, std::string_view(same)}, kValidators));
    EXPECT_TRUE(is_not_modified({std::nullopt, std::string_view(later)}, kValidators));
    EXPECT_FALSE(is_not_modified({std::nullopt, std::string_view(earlier)}, kValidators));
    EXPECT_FALSE(is_not_modified({std::nullopt, std::string_view("yesterday")}, kValidators));
}

TEST(IsNotModified, IfNoneMatchOverridesIfModifiedSince) {
    std::string later = http::format_http_date(kMtime + 60);
    // The tag does not match, so the date (which would say 304) is not consulted.
    EXPECT_FALSE(
        is_not_modified({std::string_view("\"other\""), std::string_view(later)}, kValidators));
    std::string earlier = http::format_http_date(kMtime - 60);
    EXPECT_TRUE(is_not_modified({std::string_view(kEtag), std::string_view(earlier)}, kValidators));
}

TEST(IfRange, StrongEtag) {
    EXPECT_TRUE(if_range_allows_partial(kEtag, kValidators));
    EXPECT_TRUE(if_range_allows_partial(" " + kEtag + " ", kValidators));
    EXPECT_FALSE(if_range_allows_partial("\"other\"", kValidators));
    // Weak tags never pass If-Range.
    EXPECT_FALSE(if_range_allows_partial("W/" + kEtag, kValidators));
}

TEST(IfRange, DateMustBeExact) {
    EXPECT_TRUE(if_range_allows_partial(http::format_http_date(kMtime), kValidators));
    EXPECT_FALSE(if_range_allows_partial(http::format_http_date(kMtime + 1), kValidators));
    EXPECT_FALSE(if_range_allows_partial(http::format_http_date(kMtime - 1), kValidators));
    EXPECT_FALSE(if_range_allows_partial("garbage", kValidators));
    EXPECT_FALSE(if_range_allows_partial("", kValidators));
}

}  // namespace
}  // namespace c10k::serve

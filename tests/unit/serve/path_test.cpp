#include "serve/path.hpp"

#include <gtest/gtest.h>

#include <string>

namespace c10k::serve {
namespace {

using namespace std::string_literals;

TEST(NormalizePath, KeepsPlainPaths) {
    EXPECT_EQ(normalize_path("/"), "/");
    EXPECT_EQ(normalize_path("/index.html"), "/index.html");
    EXPECT_EQ(normalize_path("/a/b/c.txt"), "/a/b/c.txt");
    EXPECT_EQ(normalize_path("/docs/"), "/docs/");
}

TEST(NormalizePath, CollapsesEmptyAndDotSegments) {
    EXPECT_EQ(normalize_path("//a///b"), "/a/b");
    EXPECT_EQ(normalize_path("/./a/./b"), "/a/b");
    EXPECT_EQ(normalize_path("/a/."), "/a/");
    EXPECT_EQ(normalize_path("/a//"), "/a/");
}

TEST(NormalizePath, ResolvesDotDotInside) {
    EXPECT_EQ(normalize_path("/a/b/../c"), "/a/c");
    EXPECT_EQ(normalize_path("/a/.."), "/");
    EXPECT_EQ(normalize_path("/a/b/.."), "/a/");
    EXPECT_EQ(normalize_path("/a/../b/../c/"), "/c/");
}

TEST(NormalizePath, RejectsClimbingAboveRoot) {
    EXPECT_EQ(normalize_path("/.."), std::nullopt);
    EXPECT_EQ(normalize_path("/../secret"), std::nullopt);
    EXPECT_EQ(normalize_path("/a/../../secret"), std::nullopt);
    EXPECT_EQ(normalize_path("/./../x"), std::nullopt);
}

TEST(NormalizePath, DecodesBeforeNormalising) {
    EXPECT_EQ(normalize_path("/a%20b"), "/a b");
    EXPECT_EQ(normalize_path("/%61/%62"), "/a/b");
    // Encoded dots and slashes mean what they decode to, so they cannot dodge the ".." check.
    EXPECT_EQ(normalize_path("/%2e%2e/secret"), std::nullopt);
    EXPECT_EQ(normalize_path("/%2E%2E/secret"), std::nullopt);
    EXPECT_EQ(normalize_path("/.%2e/secret"), std::nullopt);
    EXPECT_EQ(normalize_path("/a%2f..%2f..%2fsecret"), std::nullopt);
    EXPECT_EQ(normalize_path("/a%2fb"), "/a/b");
    EXPECT_EQ(normalize_path("/a/%2e%2e/b"), "/b");
}

TEST(NormalizePath, DecodesOnlyOnce) {
    // "%252e" is the literal name "%2e", not a dot.
    EXPECT_EQ(normalize_path("/%252e%252e/secret"), "/%2e%2e/secret");
    EXPECT_EQ(normalize_path("/%252f"), "/%2f");
}

TEST(NormalizePath, RejectsMalformedEscapes) {
    EXPECT_EQ(normalize_path("/a%"), std::nullopt);
    EXPECT_EQ(normalize_path("/a%4"), std::nullopt);
    EXPECT_EQ(normalize_path("/a%zz"), std::nullopt);
    EXPECT_EQ(normalize_path("/a%g1"), std::nullopt);
    EXPECT_EQ(normalize_path("/%%41"), std::nullopt);
}

TEST(NormalizePath, RejectsNulBytes) {
    EXPECT_EQ(normalize_path("/a%00.html"), std::nullopt);
    EXPECT_EQ(normalize_path("/a\0b"s), std::nullopt);
}

TEST(NormalizePath, RejectsNonAbsolutePaths) {
    EXPECT_EQ(normalize_path(""), std::nullopt);
    EXPECT_EQ(normalize_path("a/b"), std::nullopt);
    EXPECT_EQ(normalize_path("*"), std::nullopt);
    EXPECT_EQ(normalize_path("http://example.com/a"), std::nullopt);
    EXPECT_EQ(normalize_path("%2fa"), std::nullopt);
}

TEST(NormalizePath, BackslashesAreOrdinaryBytes) {
    EXPECT_EQ(normalize_path("/a\\..\\b"), "/a\\..\\b");
    EXPECT_EQ(normalize_path("/%5c..%5csecret"), "/\\..\\secret");
    EXPECT_EQ(normalize_path("/..\\secret"), "/..\\secret");
}

TEST(NormalizePath, KeepsHighBytesAndPlus) {
    EXPECT_EQ(normalize_path("/caf%C3%A9+x"), "/caf\xC3\xA9+x");
}

TEST(RelativePath, StripsSlashes) {
    EXPECT_EQ(relative_path("/"), ".");
    EXPECT_EQ(relative_path("/a/b"), "a/b");
    EXPECT_EQ(relative_path("/d/"), "d");
}

TEST(HasDotSegment, FindsHiddenSegmentsAnywhere) {
    EXPECT_TRUE(has_dot_segment("/.env"));
    EXPECT_TRUE(has_dot_segment("/.git/config"));
    EXPECT_TRUE(has_dot_segment("/a/.hidden/"));
    EXPECT_FALSE(has_dot_segment("/a.b/c.txt"));
    EXPECT_FALSE(has_dot_segment("/"));
}

TEST(PercentEncodePath, EscapesUnsafeBytes) {
    EXPECT_EQ(percent_encode_path("/a b/c"), "/a%20b/c");
    EXPECT_EQ(percent_encode_path("/x\r\nSet-Cookie: y"), "/x%0D%0ASet-Cookie:%20y");
    EXPECT_EQ(percent_encode_path("/caf\xC3\xA9"), "/caf%C3%A9");
    EXPECT_EQ(percent_encode_path("/a-b_c.d~e!$&'()*+,;=:@"), "/a-b_c.d~e!$&'()*+,;=:@");
    EXPECT_EQ(percent_encode_path("/%?#"), "/%25%3F%23");
}

}  // namespace
}  // namespace c10k::serve

namespace c10k::serve {
namespace {

TEST(IsPlainPath, PlainPathsAreTheirOwnNormalForm) {
    for (const char* path : {"/", "/a.txt", "/docs/", "/docs/index.html", "/a-b_c~d/e.f",
                             "/x/y/z/", "/a.b.c", "/a..b"}) {
        ASSERT_TRUE(is_plain_path(path)) << path;
        auto normalized = normalize_path(path);
        ASSERT_TRUE(normalized.has_value()) << path;
        EXPECT_EQ(*normalized, path);
        EXPECT_FALSE(has_dot_segment(path)) << path;
    }
}

TEST(IsPlainPath, AnythingThatNeedsWorkIsNotPlain) {
    for (const char* path : {"", "a.txt", "/%2e%2e/x", "/a%20b", "/../x", "/./x", "/a/./b",
                             "//x", "/a//b", "/.hidden", "/a/..", "/a/."}) {
        EXPECT_FALSE(is_plain_path(path)) << path;
    }
}

}  // namespace
}  // namespace c10k::serve

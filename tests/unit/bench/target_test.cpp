// URL parsing, request building and duration flags: bad input must give a sentence, never a
// crash or a silently wrong target.

#include "bench/options.hpp"
#include "bench/runner.hpp"
#include "bench/target.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace c10k::bench {
namespace {

TEST(ParseUrl, AcceptsHostPortAndPath) {
    Url url;
    std::string error;
    ASSERT_TRUE(parse_url("http://127.0.0.1:8080/a/b?x=1", url, error)) << error;
    EXPECT_EQ(url.host, "127.0.0.1");
    EXPECT_EQ(url.port, 8080);
    EXPECT_EQ(url.path, "/a/b?x=1");
    EXPECT_EQ(url.authority, "127.0.0.1:8080");
}

TEST(ParseUrl, DefaultsPortAndPath) {
    Url url;
    std::string error;
    ASSERT_TRUE(parse_url("http://localhost", url, error)) << error;
    EXPECT_EQ(url.port, 80);
    EXPECT_EQ(url.path, "/");
    ASSERT_TRUE(parse_url("http://localhost?q", url, error)) << error;
    EXPECT_EQ(url.path, "/?q");
}

TEST(ParseUrl, AcceptsBracketedIpv6) {
    Url url;
    std::string error;
    ASSERT_TRUE(parse_url("http://[::1]:9000/x", url, error)) << error;
    EXPECT_EQ(url.host, "::1");
    EXPECT_EQ(url.port, 9000);
    EXPECT_EQ(url.authority, "[::1]:9000");
}

TEST(ParseUrl, RejectsBadInputWithAReason) {
    const char* bad[] = {"",
                         "127.0.0.1:8080/",
                         "https://example.com/",
                         "http://",
                         "http:///path",
                         "http://host:/",
                         "http://host:0/",
                         "http://host:99999/",
                         "http://host:80x/",
                         "http://[::1/",
                         "http://user@host/",
                         "ftp://host/"};
    for (const char* text : bad) {
        Url url;
        std::string error;
        EXPECT_FALSE(parse_url(text, url, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
    std::string error;
    Url url;
    parse_url("https://x/", url, error);
    EXPECT_NE(error.find("https"), std::string::npos);
}

TEST(BuildRequest, HasHostHeadersAndBody) {
    Url url;
    std::string error;
    ASSERT_TRUE(parse_url("http://example.test:81/p", url, error));
    RequestSpec spec;
    spec.method = "POST";
    spec.headers = {"X-Test: 1"};
    spec.body = "abc";
    std::string request = build_request(url, spec);
    EXPECT_EQ(request,
              "POST /p HTTP/1.1\r\nHost: example.test:81\r\nX-Test: 1\r\n"
              "Content-Length: 3\r\n\r\nabc");
    spec = RequestSpec{};
    spec.close_after = true;
    spec.headers = {"host: other"};
    EXPECT_EQ(build_request(url, spec), "GET /p HTTP/1.1\r\nhost: other\r\nConnection: close\r\n\r\n");
}

TEST(MakeTarget, ResolvesOrExplains) {
    Target target;
    std::string error;
    ASSERT_TRUE(make_target("http://127.0.0.1:1234/", RequestSpec{}, target, error)) << error;
    EXPECT_EQ(target.endpoint.port(), 1234);
    EXPECT_FALSE(make_target("http://no-such-host.invalid/", RequestSpec{}, target, error));
    EXPECT_NE(error.find("no-such-host.invalid"), std::string::npos) << error;
}

TEST(PrepareTargets, ThrowsReadableErrors) {
    BenchOptions options;
    EXPECT_THROW(prepare_targets(options), std::invalid_argument);  // no URL
    options.urls = {"http//127.0.0.1/"};
    try {
        prepare_targets(options);
        FAIL() << "a bad URL was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("http//127.0.0.1/"), std::string::npos);
    }
    options.urls = {"http://127.0.0.1:1/"};
    options.connections = 0;
    EXPECT_THROW(prepare_targets(options), std::invalid_argument);
    options.connections = 1;
    options.rate = -5;
    EXPECT_THROW(prepare_targets(options), std::invalid_argument);
    options.rate = 0;
    EXPECT_EQ(prepare_targets(options).size(), 1u);
}

TEST(ParseDuration, UnderstandsUnits) {
    std::int64_t ns = 0;
    ASSERT_TRUE(parse_duration("10s", ns));
    EXPECT_EQ(ns, 10'000'000'000);
    ASSERT_TRUE(parse_duration("500ms", ns));
    EXPECT_EQ(ns, 500'000'000);
    ASSERT_TRUE(parse_duration("2m", ns));
    EXPECT_EQ(ns, 120'000'000'000);
    ASSERT_TRUE(parse_duration("1.5", ns));
    EXPECT_EQ(ns, 1'500'000'000);
    ASSERT_TRUE(parse_duration("250us", ns));
    EXPECT_EQ(ns, 250'000);
    for (const char* bad : {"", "s", "-1s", "10x", "ten", "1e400s"}) {
        EXPECT_FALSE(parse_duration(bad, ns)) << bad;
    }
}

}  // namespace
}  // namespace c10k::bench

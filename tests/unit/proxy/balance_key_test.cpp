// The key a hashing balancer hashes: the --hash-key forms, the cookie scanner, and what is
// taken from a request for each balancer.

#include "proxy/balance_key.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "http/request.hpp"

namespace c10k::proxy {
namespace {

TEST(HashKeyText, UriHeaderAndCookieAreRead) {
    HashKey key;
    std::string error;
    ASSERT_TRUE(parse_hash_key("uri", key, error)) << error;
    EXPECT_EQ(key.source, HashKey::Source::uri);
    ASSERT_TRUE(parse_hash_key("header:X-User", key, error)) << error;
    EXPECT_EQ(key.source, HashKey::Source::header);
    EXPECT_EQ(key.name, "X-User");
    ASSERT_TRUE(parse_hash_key("cookie:session_id", key, error)) << error;
    EXPECT_EQ(key.source, HashKey::Source::cookie);
    EXPECT_EQ(key.name, "session_id");
}

TEST(HashKeyText, AnythingElseSaysWhatIsKnown) {
    HashKey key;
    std::string error;
    EXPECT_FALSE(parse_hash_key("path", key, error));
    EXPECT_NE(error.find("known: uri, header:NAME, cookie:NAME"), std::string::npos) << error;
    EXPECT_FALSE(parse_hash_key("", key, error));
    EXPECT_FALSE(parse_hash_key("header:", key, error));
    EXPECT_NE(error.find("needs a name"), std::string::npos) << error;
    EXPECT_FALSE(parse_hash_key("cookie:a b", key, error));
    EXPECT_FALSE(parse_hash_key("header:X;Y", key, error));
}

TEST(CookieValue, FindsTheNamedPair) {
    EXPECT_EQ(cookie_value("a=1; sid=xyz; b=2", "sid"), "xyz");
    EXPECT_EQ(cookie_value("sid=xyz", "sid"), "xyz");
    EXPECT_EQ(cookie_value("a=1;sid=xyz", "sid"), "xyz");
    EXPECT_EQ(cookie_value(" \tsid = xyz ;b=2", "sid"), "xyz");
    EXPECT_EQ(cookie_value("sid=\"quoted value\"", "sid"), "quoted value");
    EXPECT_EQ(cookie_value("sid=a=b", "sid"), "a=b");  // '=' may be in a value
    EXPECT_EQ(cookie_value("sid=1; sid=2", "sid"), "1");
}

TEST(CookieValue, OtherNamesAndBrokenPairsDoNotMatch) {
    EXPECT_EQ(cookie_value("xsid=1; sidx=2", "sid"), "");
    EXPECT_EQ(cookie_value("SID=1", "sid"), "");  // names are case-sensitive
    EXPECT_EQ(cookie_value("sid; a=1", "sid"), "");
    EXPECT_EQ(cookie_value("a=sid", "sid"), "");
    EXPECT_EQ(cookie_value("", "sid"), "");
    EXPECT_EQ(cookie_value(";;;", "sid"), "");
    EXPECT_EQ(cookie_value("sid=", "sid"), "");
}

struct RequestFixture {
    std::vector<http::Header> headers;
    http::Request request;

    explicit RequestFixture(std::vector<http::Header> list) : headers(std::move(list)) {
        request.target = "/a/b?c=1";
        request.peer = "192.0.2.7";
        request.headers = headers;
    }
};

TEST(BalanceKey, EachBalancerTakesItsKey) {
    RequestFixture fixture({{"Host", "example.test"},
                            {"X-User", "alice"},
                            {"Cookie", "theme=dark"},
                            {"cookie", "sid=42; lang=en"}});
    const http::Request& request = fixture.request;
    HashKey uri{HashKey::Source::uri, {}};
    HashKey header{HashKey::Source::header, "x-user"};
    HashKey cookie{HashKey::Source::cookie, "sid"};
    EXPECT_EQ(balance_key(request, Balance::source_hash, uri), "192.0.2.7");
    EXPECT_EQ(balance_key(request, Balance::hash, uri), "/a/b?c=1");
    EXPECT_EQ(balance_key(request, Balance::hash, header), "alice");
    // The cookie is in the second Cookie header.
    EXPECT_EQ(balance_key(request, Balance::hash, cookie), "42");
    EXPECT_EQ(balance_key(request, Balance::round_robin, uri), "");
    EXPECT_EQ(balance_key(request, Balance::random_two, cookie), "");
}

TEST(BalanceKey, AMissingHeaderOrCookieGivesNoKey) {
    RequestFixture fixture({{"Host", "example.test"}, {"Cookie", "theme=dark"}});
    EXPECT_EQ(balance_key(fixture.request, Balance::hash, {HashKey::Source::header, "X-User"}), "");
    EXPECT_EQ(balance_key(fixture.request, Balance::hash, {HashKey::Source::cookie, "sid"}), "");
}

}  // namespace
}  // namespace c10k::proxy

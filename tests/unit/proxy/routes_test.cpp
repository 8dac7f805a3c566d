// The route table alone: each condition, the order of routes, normalised paths, and a regex
// that cannot run away.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/routes.hpp"

namespace c10k::proxy {
namespace {

/// A request whose views point into the strings given (they must outlive it).
struct FakeRequest {
    std::vector<http::Header> headers;
    http::Request request;
    FakeRequest(http::Method method, std::string_view method_text, std::string_view target,
                std::vector<http::Header> list = {})
        : headers(std::move(list)) {
        request.method = method;
        request.method_text = method_text;
        request.target = target;
        request.headers = headers;
    }
};

std::unique_ptr<RouteTable> table_of(std::vector<RouteSpec> routes) {
    std::string error;
    auto table = RouteTable::build(std::move(routes), error);
    EXPECT_NE(table, nullptr) << error;
    return table;
}

int pool_of(RouteTable& table, const FakeRequest& fake) {
    const RouteSpec* route = table.match(fake.request);
    return route == nullptr ? -1 : static_cast<int>(route->pool);
}

TEST(Routes, HostsMatchExactlyOrBelowAWildcardWithoutPortOrCase) {
    RouteSpec route;
    route.hosts = {"example.com", "*.example.org"};
    route.pool = 1;
    auto table = table_of({route});
    auto with_host = [&](std::string_view host) {
        return pool_of(*table, FakeRequest(http::Method::get, "GET", "/", {{"Host", host}}));
    };
    EXPECT_EQ(with_host("Example.COM:8080"), 1);
    EXPECT_EQ(with_host("example.com."), 1);
    EXPECT_EQ(with_host("a.b.example.org"), 1);
    EXPECT_EQ(with_host("example.org"), -1);
    EXPECT_EQ(with_host("badexample.org"), -1);
    EXPECT_EQ(with_host("example.com.evil"), -1);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::get, "GET", "/")), -1);
}

TEST(Routes, PathsAreComparedDecodedAndNormalised) {
    RouteSpec prefix;
    prefix.path_prefix = "/cgi-bin/";
    prefix.pool = 1;
    RouteSpec exact;
    exact.path = "/a b";
    exact.pool = 2;
    auto table = table_of({prefix, exact});
    auto target = [&](std::string_view t) {
        return pool_of(*table, FakeRequest(http::Method::get, "GET", t));
    };
    EXPECT_EQ(target("/cgi-bin/x?y=1"), 1);
    EXPECT_EQ(target("/x/../cgi-bin/x"), 1);
    EXPECT_EQ(target("/%63gi-bin/x"), 1);
    EXPECT_EQ(target("//cgi-bin/x"), 1);
    EXPECT_EQ(target("/cgi-bin"), -1);
    EXPECT_EQ(target("/a%20b"), 2);
    // Cannot be normalised (above the root, a bad escape): no path condition holds.
    EXPECT_EQ(target("/../cgi-bin/x"), -1);
    EXPECT_EQ(target("/cgi-bin/%zz"), -1);
}

TEST(Routes, EveryConditionMustHoldAndTheFirstMatchWins) {
    RouteSpec posts;
    posts.methods = {http::Method::post};
    posts.method_texts = {"PURGE"};
    posts.headers = {{"X-Canary", "1", false}, {"X-Team", "", true}};
    posts.pool = 1;
    RouteSpec anything;
    anything.pool = 2;
    auto table = table_of({posts, anything});
    std::vector<http::Header> both{{"x-canary", "1"}, {"X-Team", "blue"}};
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::post, "POST", "/", both)), 1);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::other, "PURGE", "/", both)), 1);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::other, "BREW", "/", both)), 2);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::get, "GET", "/", both)), 2);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::post, "POST", "/", {{"X-Canary", "1"}})),
              2);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::post, "POST", "/",
                                          {{"X-Canary", "10"}, {"X-Team", ""}})),
              2);
}

TEST(Routes, ARegexMatchesThePathAndCannotRunAway) {
    RouteSpec versioned;
    versioned.path_regex = "^/v[0-9]+/";
    versioned.pool = 1;
    RouteSpec hostile;
    hostile.path_regex = "^/(a+)+$";  // catastrophic backtracking on "/aaaa...ab"
    hostile.pool = 2;
    auto table = table_of({versioned, hostile});
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::get, "GET", "/v12/items")), 1);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::get, "GET", "/items/v1/")), -1);
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::get, "GET", "/aaaa")), 2);
    std::string evil = "/" + std::string(40, 'a') + "b";
    // The match limit ends the search: no match, and the call returns.
    EXPECT_EQ(pool_of(*table, FakeRequest(http::Method::get, "GET", evil)), -1);
}

TEST(Routes, BadPatternsAndHeaderConditionsAreRefused) {
    RouteSpec broken;
    broken.path_regex = "^/(";
    broken.name = "route 1";
    std::string error;
    EXPECT_EQ(RouteTable::build({broken}, error), nullptr);
    EXPECT_NE(error.find("route 1: path_regex '^/(': missing closing parenthesis"),
              std::string::npos)
        << error;
    HeaderCondition condition;
    EXPECT_TRUE(parse_header_condition("X-Canary:  1 ", condition, error));
    EXPECT_EQ(condition.name, "X-Canary");
    EXPECT_EQ(condition.value, "1");
    EXPECT_FALSE(condition.any_value);
    EXPECT_TRUE(parse_header_condition("X-Team", condition, error));
    EXPECT_TRUE(condition.any_value);
    EXPECT_FALSE(parse_header_condition(": 1", condition, error));
    EXPECT_FALSE(parse_header_condition("X Team: 1", condition, error));
}

}  // namespace
}  // namespace c10k::proxy

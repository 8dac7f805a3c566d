// Virtual hosts and locations: which target a request's Host and path choose (exact names,
// wildcards, case, ports, the default host, the longest prefix, normalised paths), and the
// HostRouter handing requests and the loop's start and stop to its targets.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/context.hpp"
#include "serve/host_router.hpp"

namespace c10k::serve {
namespace {

/// A request with the given Host header (none when empty) and target.
struct RequestFor {
    std::vector<http::Header> headers;
    http::Request request;

    RequestFor(std::string_view host, std::string_view target) {
        if (!host.empty()) headers.push_back({"Host", host});
        request.method = http::Method::get;
        request.target = target;
        request.headers = headers;
    }
};

std::size_t route(const RouteTable& table, std::string_view host, std::string_view target) {
    RequestFor request(host, target);
    return table.route(request.request);
}

// Targets: 0 the server's own, 1.. the hosts' and locations'.
class RouteTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        example_ = table_.add_host({"example.com", "www.example.com", "*.example.org"}, 1);
        table_.add_location(example_, "/downloads/", 2);
        table_.add_location(example_, "/downloads/big/", 3);
        table_.add_location(example_, "/d", 4);
        deep_ = table_.add_host({"*.deep.example.org", "[::1]", "127.0.0.1"}, 5);
        other_ = table_.add_host({"other.test"}, 0);
    }

    RouteTable table_;
    std::size_t example_ = 0;
    std::size_t deep_ = 0;
    std::size_t other_ = 0;
};

TEST_F(RouteTableTest, ExactNamesIgnoringCaseAndPort) {
    EXPECT_EQ(table_.find_host("example.com"), example_);
    EXPECT_EQ(table_.find_host("WWW.Example.COM"), example_);
    EXPECT_EQ(table_.find_host("example.com:8080"), example_);
    EXPECT_EQ(table_.find_host("example.com."), example_);
    EXPECT_EQ(table_.find_host(" example.com "), example_);
    EXPECT_EQ(table_.find_host("other.test"), other_);
    EXPECT_EQ(table_.find_host("127.0.0.1:80"), deep_);
    EXPECT_EQ(table_.find_host("[::1]:8080"), deep_);
    EXPECT_EQ(table_.find_host("[::1]"), deep_);
}

TEST_F(RouteTableTest, TheLongestWildcardWinsAndAWildcardNeedsALabelBeforeIt) {
    EXPECT_EQ(table_.find_host("a.example.org"), example_);
    EXPECT_EQ(table_.find_host("a.b.example.org"), example_);
    EXPECT_EQ(table_.find_host("x.deep.example.org"), deep_);
    EXPECT_EQ(table_.find_host("X.Y.DEEP.example.org:443"), deep_);
    // "deep.example.org" itself is a name under *.example.org, not under *.deep.example.org.
    EXPECT_EQ(table_.find_host("deep.example.org"), example_);
    // example.org is not matched by *.example.org: it goes to the default (the first host).
    table_.set_default_host(other_);
    EXPECT_EQ(table_.find_host("example.org"), other_);
    EXPECT_EQ(table_.find_host(".example.org"), other_);  // no label before the suffix
}

TEST_F(RouteTableTest, AnUnknownOrMissingHostGoesToTheDefault) {
    EXPECT_EQ(table_.find_host("unknown.test"), example_);  // the first host added
    EXPECT_EQ(table_.find_host(""), example_);
    table_.set_default_host(deep_);
    EXPECT_EQ(table_.find_host("unknown.test"), deep_);
    EXPECT_EQ(table_.find_host(":80"), deep_);
    EXPECT_EQ(route(table_, "", "/index.html"), 5u);  // no Host header (HTTP/1.0)
    EXPECT_EQ(route(table_, "example.com.evil", "/"), 5u);
    EXPECT_EQ(route(table_, "example.com", "/"), 1u);
}

TEST_F(RouteTableTest, TheLongestPrefixWins) {
    EXPECT_EQ(route(table_, "example.com", "/downloads/a.zip"), 2u);
    EXPECT_EQ(route(table_, "example.com", "/downloads/big/a.zip"), 3u);
    EXPECT_EQ(route(table_, "example.com", "/downloads/bi"), 2u);
    EXPECT_EQ(route(table_, "example.com", "/downloads"), 4u);  // "/d" is a prefix of it
    EXPECT_EQ(route(table_, "example.com", "/index.html"), 1u);
    EXPECT_EQ(route(table_, "example.com", "/"), 1u);
    EXPECT_EQ(route(table_, "example.com", "/downloads/a.zip?v=1"), 2u);
    // Prefixes compare case-sensitively, as paths do.
    EXPECT_EQ(route(table_, "example.com", "/Downloads/a.zip"), 1u);
    // Locations belong to their host.
    EXPECT_EQ(route(table_, "other.test", "/downloads/a.zip"), 0u);
    EXPECT_EQ(route(table_, "a.deep.example.org", "/downloads/a.zip"), 5u);
}

TEST_F(RouteTableTest, PathsAreMatchedDecodedAndNormalised) {
    EXPECT_EQ(route(table_, "example.com", "/%64ownloads/a.zip"), 2u);
    EXPECT_EQ(route(table_, "example.com", "/x/../downloads/big/a"), 3u);
    EXPECT_EQ(route(table_, "example.com", "//downloads/a.zip"), 2u);
    EXPECT_EQ(route(table_, "example.com", "/downloads/../secret"), 1u);
    EXPECT_EQ(route(table_, "example.com", "/downloads/./big/a"), 3u);
    // What cannot be normalised goes to the host's own target, which answers 400.
    EXPECT_EQ(route(table_, "example.com", "/downloads/%zz"), 1u);
    EXPECT_EQ(route(table_, "example.com", "/../downloads/a"), 1u);
    EXPECT_EQ(route(table_, "example.com", "*"), 1u);
}

TEST(RouteTable, LocationsOfEqualLengthKeepTheirOrderAndAnyPrefixMayBeSlash) {
    RouteTable table;
    std::size_t host = table.add_host({"a.test"}, 7);
    table.add_location(host, "/", 1);
    table.add_location(host, "/ab", 2);
    table.add_location(host, "/ac", 3);
    EXPECT_EQ(table.find_target(host, "/ab/x"), 2u);
    EXPECT_EQ(table.find_target(host, "/ac"), 3u);
    EXPECT_EQ(table.find_target(host, "/a"), 1u);
    EXPECT_EQ(table.find_target(host, "/"), 1u);
    EXPECT_EQ(table.host_count(), 1u);
}

/// A target that records what reached it.
class Recorder final : public http::Handler {
public:
    explicit Recorder(int id, std::vector<std::string>& log, std::uint64_t body = 0)
        : id_(id), log_(log), body_(body) {}
    void handle(const http::Request& request, http::Response& response) override {
        log_.push_back(std::to_string(id_) + " " + std::string(request.target));
        response.set_status(200 + id_);
    }
    void on_loop_start(http::LoopContext&) override {
        log_.push_back(std::to_string(id_) + " start");
    }
    void on_loop_stop(http::LoopContext&) override {
        log_.push_back(std::to_string(id_) + " stop");
    }
    std::uint64_t body_limit(std::uint8_t) const override { return body_; }

private:
    int id_;
    std::vector<std::string>& log_;
    std::uint64_t body_;
};

TEST(HostRouter, HandsEachRequestToItsTargetAndTheLoopToEveryTarget) {
    auto table = std::make_shared<RouteTable>();
    std::size_t a = table->add_host({"a.test"}, 1);
    table->add_location(a, "/live/", 0);
    table->add_host({"b.test"}, 2);
    std::vector<std::string> log;
    std::vector<std::unique_ptr<http::Handler>> targets;
    targets.push_back(std::make_unique<Recorder>(0, log, 1024));
    targets.push_back(std::make_unique<Recorder>(1, log));
    targets.push_back(std::make_unique<Recorder>(2, log, 64));
    HostRouter router(table, std::move(targets));

    http::LoopContext context(router, http::Limits{}, http::Timeouts{});
    router.on_loop_start(context);
    EXPECT_EQ(log, (std::vector<std::string>{"0 start", "1 start", "2 start"}));
    log.clear();

    for (auto [host, target, status] : std::vector<std::tuple<std::string, std::string, int>>{
             {"a.test", "/x", 201},
             {"A.TEST:80", "/live/score", 200},
             {"b.test", "/live/score", 202},
             {"c.test", "/y", 201},
         }) {
        RequestFor request(host, target);
        http::Response response;
        router.handle(request.request, response);
        EXPECT_EQ(response.status(), status) << host << target;
    }
    EXPECT_EQ(log, (std::vector<std::string>{"1 /x", "0 /live/score", "2 /live/score", "1 /y"}));
    EXPECT_EQ(router.body_limit(0), 1024u);
    log.clear();

    router.on_loop_stop(context);
    EXPECT_EQ(log, (std::vector<std::string>{"0 stop", "1 stop", "2 stop"}));
}

}  // namespace
}  // namespace c10k::serve

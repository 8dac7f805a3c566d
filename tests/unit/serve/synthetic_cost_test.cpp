// The --synthetic-cost benchmark aid: its prefix, its numbers, and what it passes on.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "serve/synthetic_cost.hpp"

namespace c10k::serve {
namespace {

/// What reaches the handler behind the aid.
class Inner final : public http::Handler {
public:
    void handle(const http::Request& request, http::Response& response) override {
        response.set_status(404);
    }
};

int status_of(SyntheticCost& handler, std::string_view target,
              http::Method method = http::Method::get, std::string* body = nullptr) {
    http::Request request;
    request.method = method;
    request.target = target;
    http::Response response;
    handler.handle(request, response);
    if (body != nullptr) *body = response.text();
    return response.status();
}

TEST(SyntheticCost, ParsesWholeMicrosecondsUpToTheCap) {
    std::int64_t us = -1;
    EXPECT_TRUE(parse_cost_us("0", us));
    EXPECT_EQ(us, 0);
    EXPECT_TRUE(parse_cost_us("50000", us));
    EXPECT_EQ(us, 50000);
    EXPECT_TRUE(parse_cost_us("1000000", us));
    EXPECT_EQ(us, 1'000'000);
    for (const char* bad : {"", "-5", "+5", "5ms", "1000001", "99999999999", "1.5", "x"}) {
        EXPECT_FALSE(parse_cost_us(bad, us)) << bad;
    }
}

TEST(SyntheticCost, AnswersUnderItsPrefixAndPassesTheRestOn) {
    SyntheticCost handler("/cost/", std::make_unique<Inner>());
    std::string body;
    EXPECT_EQ(status_of(handler, "/cost/100", http::Method::get, &body), 200);
    EXPECT_EQ(body, "burned 100 us\n");
    EXPECT_EQ(status_of(handler, "/cost/100?x=1"), 200);
    EXPECT_EQ(status_of(handler, "/cost/abc"), 400);
    EXPECT_EQ(status_of(handler, "/cost/"), 400);
    EXPECT_EQ(status_of(handler, "/cost/2000000"), 400);
    EXPECT_EQ(status_of(handler, "/cost/100", http::Method::post), 405);
    EXPECT_EQ(status_of(handler, "/costly"), 404);
    EXPECT_EQ(status_of(handler, "/index.html"), 404);
}

}  // namespace
}  // namespace c10k::serve

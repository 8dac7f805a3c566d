// `c10k proxy --retry-on`, `--retry-non-idempotent` and the retry budget: which failures send an
// idempotent request to another server, that a POST stays unrepeated unless the operator says
// otherwise, that no server sees a request twice, and that a spent budget makes no retry.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/push_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

Reply busy(const ReceivedRequest&) {
    return Reply{ok_response("busy", 503, "Retry-After: 1\r\n")};
}

Reply fine(const ReceivedRequest& request) {
    return Reply{ok_response("fine " + request.method + " " + request.body)};
}

/// The targets a backend received, each once; a target seen twice fails the test.
std::set<std::string> targets_once(MockBackend& backend) {
    std::set<std::string> seen;
    for (const ReceivedRequest& request : backend.requests()) {
        EXPECT_TRUE(seen.insert(request.target).second) << request.target << " sent twice";
    }
    return seen;
}

TEST(ProxyRetry, StatusOnTheListGoesToTheOtherServerOnce) {
    MockBackend unavailable(busy), working(fine);
    auto proxy = start_proxy({unavailable.address(), working.address()}, {"--retry-on", "503"});
    for (int i = 0; i < 4; ++i) {
        HttpResponse response = fetch(proxy->port(), "/r" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << response.body;
        EXPECT_EQ(response.body, "fine GET ");
    }
    std::set<std::string> refused = targets_once(unavailable);
    EXPECT_GE(refused.size(), 1u);
    EXPECT_EQ(targets_once(working).size(), 4u);
}

TEST(ProxyRetry, EveryServerTriedOnceThenTheLastAnswerGoesThrough) {
    MockBackend one(busy), two(busy);
    auto proxy = start_proxy({one.address(), two.address()}, {"--retry-on", "5xx"});
    HttpResponse response = fetch(proxy->port(), "/");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.body, "busy");
    EXPECT_EQ(response.header("Retry-After"), "1");
    EXPECT_EQ(one.requests().size(), 1u);
    EXPECT_EQ(two.requests().size(), 1u);
}

TEST(ProxyRetry, PostWithAStatusOnTheListPassesThroughUnlessAllowed) {
    MockBackend unavailable(busy), working(fine);
    {
        auto proxy = start_proxy({unavailable.address(), working.address()}, {"--retry-on", "503"});
        // Round robin sends one POST to each: the 503 reaches its client as it is.
        int refused = 0;
        for (int i = 0; i < 2; ++i) {
            HttpResponse response = request(proxy->port(), "POST", "/p" + std::to_string(i), "x");
            if (response.status == 503) ++refused;
        }
        EXPECT_EQ(refused, 1);
        EXPECT_EQ(targets_once(unavailable).size(), 1u);
        EXPECT_EQ(targets_once(working).size(), 1u);
    }
    std::size_t refused_before = unavailable.requests().size();
    auto proxy = start_proxy({unavailable.address(), working.address()},
                             {"--retry-on", "503", "--retry-non-idempotent"});
    for (int i = 2; i < 4; ++i) {
        HttpResponse response = request(proxy->port(), "POST", "/p" + std::to_string(i), "body");
        EXPECT_EQ(response.status, 200) << response.body;
        EXPECT_EQ(response.body, "fine POST body");
    }
    EXPECT_GT(targets_once(unavailable).size(), refused_before);
    EXPECT_EQ(targets_once(working).size(), 3u);
}

TEST(ProxyRetry, TimeoutOnTheListGoesToTheOtherServer) {
    MockBackend stalled([](const ReceivedRequest&) { return Reply{"", Reply::Then::stall}; });
    MockBackend working(fine);
    auto proxy = start_proxy({stalled.address(), working.address()},
                             {"--retry-on", "timeout", "--response-timeout", "200ms"});
    for (int i = 0; i < 2; ++i) {
        HttpResponse response = fetch(proxy->port(), "/t" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << response.body;
    }
    EXPECT_GE(targets_once(stalled).size(), 1u);
    EXPECT_EQ(targets_once(working).size(), 2u);
}

TEST(ProxyRetry, ErrorOffLeavesAResetGetAs502) {
    MockBackend broken([](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; });
    MockBackend working(fine);
    auto proxy = start_proxy({broken.address(), working.address()}, {"--retry-on", "503"});
    int failed = 0;
    for (int i = 0; i < 4; ++i) {
        if (fetch(proxy->port(), "/e" + std::to_string(i)).status == 502) ++failed;
    }
    EXPECT_GE(failed, 1);
    EXPECT_EQ(static_cast<std::size_t>(failed), targets_once(broken).size());
    EXPECT_EQ(targets_once(working).size(), 4u - failed);
}

TEST(ProxyRetry, SpentBudgetMakesNoRetry) {
    MockBackend broken([](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; });
    MockBackend working(fine);
    auto proxy = start_proxy({broken.address(), working.address()},
                             {"--retry-budget", "0%", "--retry-budget-min", "0"});
    int failed = 0;
    for (int i = 0; i < 4; ++i) {
        HttpResponse response = fetch(proxy->port(), "/b" + std::to_string(i));
        if (response.status == 502) {
            ++failed;
        } else {
            EXPECT_EQ(response.status, 200) << response.body;
        }
    }
    EXPECT_GE(failed, 1);
    EXPECT_EQ(static_cast<std::size_t>(failed), targets_once(broken).size());
    EXPECT_EQ(targets_once(working).size(), 4u - failed);
}

TEST(ProxyRetry, RefusedConnectsAreRetriedWhateverTheBudget) {
    // A server that refuses connections ran nothing: going to the next one costs no server
    // anything, so even a spent budget lets every GET through (a killed server must not turn
    // into 502s when its refused connects come several at once).
    int dead_port = 0;
    {
        MockBackend gone([](const ReceivedRequest&) { return Reply{}; });
        dead_port = gone.port();
    }
    MockBackend working(fine);
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(dead_port), working.address()},
                             {"--retry-budget", "0%", "--retry-budget-min", "0", "--eject-after",
                              "0"});
    for (int i = 0; i < 6; ++i) {
        HttpResponse response = fetch(proxy->port(), "/r" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << response.body;
    }
    EXPECT_EQ(targets_once(working).size(), 6u);
}

TEST(ProxyRetry, BadRetryFlagsSayWhatIsWrong) {
    auto base = [](std::vector<std::string> extra) {
        std::vector<std::string> args{"proxy", "--backend", "127.0.0.1:9", "-t"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_command(args);
    };
    auto unknown = base({"--retry-on", "error,reset"});
    EXPECT_NE(unknown.status, 0);
    EXPECT_NE(unknown.output.find("--retry-on: unknown condition 'reset'"), std::string::npos)
        << unknown.output;
    auto none = base({"--retry-on", "none,503"});
    EXPECT_NE(none.status, 0);
    EXPECT_NE(none.output.find("none cannot be combined"), std::string::npos) << none.output;
    auto percent = base({"--retry-budget", "120%"});
    EXPECT_NE(percent.status, 0);
    EXPECT_NE(percent.output.find("--retry-budget: '120%' is not a percentage from 0 to 100"),
              std::string::npos)
        << percent.output;
    auto word = base({"--retry-budget", "lots"});
    EXPECT_NE(word.status, 0);
    EXPECT_NE(word.output.find("--retry-budget: 'lots'"), std::string::npos) << word.output;
    auto good = base({"--retry-on", "error,timeout,502,504", "--retry-budget", "50",
                      "--retry-budget-min", "1", "--retry-non-idempotent"});
    EXPECT_EQ(good.status, 0) << good.output;
}

}  // namespace
}  // namespace c10k::test

// Overload control on the staged engine, end to end: the loops hand requests to the handler
// stage at once, so what waits is the stage's queue, and that is what --overload-target
// watches there (Stage::enable_overload). One handler thread, requests that burn 50 ms of CPU
// on it: a queue stands, the requests that waited past the target get 503 with Retry-After
// instead of being run, every request is answered (in full when it was run), and once the
// queue drains requests are served again. No test here asserts a time.

#include <poll.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/shed_answers.hpp"

namespace c10k::test {
namespace {

TEST(StagedOverload, AStandingHandlerQueueExpiresWhatWaitedTooLongAndAnswersEverything) {
    TempDir root;
    root.write("index.html", "<p>hello</p>\n");
    ServerProcess server({"serve", "--engine", "staged", "--root", root.path(), "--listen",
                          "127.0.0.1:0", "--threads", "1", "--stage-threads", "handler=1",
                          "--overload-target", "5ms", "--synthetic-cost", "/cost/",
                          "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(server);
    ASSERT_EQ(fetch(server.port(), "/cost/100").status, 200) << server.output();

    // 24 requests of 50 ms, each on a connection of its own, all queued to the one thread.
    constexpr int kQueued = 24;
    std::vector<std::unique_ptr<HttpClient>> queued;
    for (int i = 0; i < kQueued; ++i) {
        queued.push_back(std::make_unique<HttpClient>(server.port()));
        queued.back()->send("GET /cost/50000 HTTP/1.1\r\nHost: test\r\n\r\n");
    }
    // The thread serves a few; by CoDel's rule (100 ms of the oldest queued request above the
    // target) the stage is overloaded after the third, and what still waits has waited longer
    // than the target: it is answered at once with the canned 503 (expired, never run), not
    // after seconds of other requests' work. Every request gets an answer, whole.
    std::vector<HttpResponse> answers;
    for (int i = 0; i < kQueued; ++i) {
        HttpResponse r;
        ASSERT_TRUE(queued[i]->read_response(r, 20'000)) << server.output();
        answers.push_back(r);
    }
    ShedTally tally = tally_shed_answers(answers, "burned 50000 us\n");
    std::size_t served = tally.served, shed = tally.shed;
    EXPECT_GE(served, 1u);
    EXPECT_GE(shed, 1u) << "a queue of " << kQueued << " x 50 ms never counted as overload";
    EXPECT_EQ(served + shed, static_cast<std::size_t>(kQueued));
    // Drained: the controller's next tick (every 100 ms) sees an empty queue, and requests
    // are served again. Paced so that the attempts span several ticks.
    int status = 0;
    for (int attempt = 0; attempt < 20 && status != 200; ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = fetch(server.port(), "/cost/100").status;
        if (status != 200) EXPECT_EQ(status, 503);
    }
    EXPECT_EQ(status, 200) << server.output();

    auto s = scrape(admin);
    EXPECT_GE(s["c10k_overload_shed_total{what=\"request\"}"], static_cast<double>(shed));
    EXPECT_EQ(s["c10k_overload_shed_total{what=\"request\"}"],
              s["c10k_requests_total{engine=\"staged\",status=\"503\"}"]);
    EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace c10k::test

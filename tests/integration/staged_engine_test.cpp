// The staged engine end to end, with the real binary: its handler stage grows under
// concurrent slow requests and shrinks back when they are done, within the bounds
// --stage-threads gave, and /metrics and the log show the stages. (The HTTP conformance
// suite runs over it with every other engine.)

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// Sets a variable in this process's environment for the servers started meanwhile.
class ScopedEnvironment {
public:
    ScopedEnvironment(const char* name, const char* value) : name_(name) {
        ::setenv(name, value, 1);
    }
    ~ScopedEnvironment() { ::unsetenv(name_); }

private:
    const char* name_;
};

const std::string kHandlerThreads = "c10k_stage_threads{stage=\"handler\"}";
const std::string kHandlerStarted = "c10k_stage_threads_started_total{stage=\"handler\"}";
const std::string kHandlerDequeued = "c10k_stage_dequeued_total{stage=\"handler\"}";

TEST(StagedEngine, HandlerThreadsGrowUnderSlowRequestsAndShrinkBack) {
    TempDir root;
    root.write("index.html", "<p>staged</p>\n");
    // Every handler-stage job blocks this long first (the engine's test hook), as a handler
    // waiting on a slow disk or service would: with one thread the queue would stay long.
    ScopedEnvironment slow("C10K_STAGED_HANDLER_DELAY_MS", "150");
    ServerProcess server({"serve", "--engine", "staged", "--root", root.path(), "--listen",
                          "127.0.0.1:0", "--threads", "1", "--stage-threads", "handler=1..4",
                          "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(server);
    // The ready line comes before the engine starts its pools: wait (bounded) for them.
    auto before = scrape(admin);
    for (int i = 0; i < 100 && before.count(kHandlerThreads) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        before = scrape(admin);
    }
    EXPECT_EQ(before[kHandlerThreads], 1) << server.output();
    EXPECT_EQ(before["c10k_stage_threads{stage=\"file\"}"], 1);

    constexpr int kClients = 24;
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<HttpClient>(server.port()));
        clients.back()->send_get("/index.html");
    }
    for (auto& client : clients) {
        HttpResponse r;
        ASSERT_TRUE(client->read_response(r, 60'000)) << server.output();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "<p>staged</p>\n");
    }

    // The stages' counters reach /metrics at the controller's next tick: wait (bounded).
    auto after = scrape(admin);
    for (int i = 0; i < 100 && after[kHandlerDequeued] < kClients; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        after = scrape(admin);
    }
    EXPECT_GE(after[kHandlerDequeued], kClients);
    // The queue stayed long while one thread slept through each request: the controller
    // added threads, and never beyond the maximum.
    EXPECT_GE(after[kHandlerStarted], 2) << server.output();
    EXPECT_LE(after[kHandlerThreads], 4);
    EXPECT_EQ(after.count("c10k_stage_queue_depth{stage=\"handler\"}"), 1u);
    EXPECT_EQ(after.count("c10k_stage_queue_wait_seconds_total{stage=\"handler\"}"), 1u);
    EXPECT_GT(after["c10k_stage_queue_wait_seconds_total{stage=\"handler\"}"], 0);

    // Idle again: the pool shrinks back to its minimum (waited for, bounded).
    double threads = after[kHandlerThreads];
    for (int i = 0; i < 200 && threads != 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        threads = scrape(admin)[kHandlerThreads];
    }
    EXPECT_EQ(threads, 1) << server.output();
    EXPECT_EQ(server.stop(SIGTERM), 0);
    // The log told of the pools as they changed.
    EXPECT_NE(server.output().find("staged: handler"), std::string::npos) << server.output();
}

TEST(StagedEngine, OtherEnginesShowNoStages) {
    TempDir root;
    root.write("index.html", "x");
    ServerProcess server({"serve", "--engine", "epoll", "--root", root.path(), "--listen",
                          "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"});
    auto s = scrape(admin_port(server));
    EXPECT_EQ(s.count(kHandlerThreads), 0u);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

TEST(StagedEngine, BadStageBoundsAreRefusedWithTheFix) {
    for (const char* bad : {"handler=4..2", "disk=1..2", "handler=0"}) {
        CommandResult r = run_command(
            {"serve", "--engine", "staged", "--listen", "127.0.0.1:0", "--stage-threads", bad});
        EXPECT_NE(r.status, 0) << bad;
        EXPECT_NE(r.output.find("--stage-threads"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("e.g. handler=2..16"), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("serving"), std::string::npos) << r.output;
    }
}

}  // namespace
}  // namespace c10k::test

// Engine-specific behaviour of the real binary: the caps of the thread- and process-per-client
// engines, io_uring's refusal when io_uring is unavailable and its receive buffers under a
// burst, and `--processes N`.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

class CappedEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(CappedEngine, ConnectionsBeyondTheCapGet503AndTheOthersKeepWorking) {
    TempDir site;
    site.write("a.txt", "aaaa");
    ServerProcess server({"serve", "--engine", GetParam(), "--root", site.path(), "--listen",
                          "127.0.0.1:0", "--max-connections", "2"});
    // Two keep-alive connections, each answered once so that it is surely being served.
    std::vector<std::unique_ptr<HttpClient>> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(std::make_unique<HttpClient>(server.port()));
        held.back()->send_get("/a.txt");
        HttpResponse r;
        ASSERT_TRUE(held.back()->read_response(r)) << held.back()->error();
        EXPECT_EQ(r.status, 200);
    }
    HttpClient third(server.port());
    third.send_get("/a.txt");
    HttpResponse refused;
    ASSERT_TRUE(third.read_response(refused)) << third.error();
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.header("Retry-After"), "1");
    EXPECT_TRUE(third.wait_closed());
    // The two within the cap are unaffected.
    for (auto& client : held) {
        client->send_get("/a.txt");
        HttpResponse r;
        ASSERT_TRUE(client->read_response(r)) << client->error();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "aaaa");
    }
    // Once one leaves, a new client gets in.
    held.pop_back();
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; ++attempt) {
        HttpResponse r = fetch(server.port(), "/a.txt");
        served = r.status == 200;
        if (!served) usleep(100'000);  // the worker needs a moment to notice the close
    }
    EXPECT_TRUE(served);
    held.clear();
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

INSTANTIATE_TEST_SUITE_P(PerClient, CappedEngine, ::testing::Values("thread", "fork"));

/// Sets an environment variable for the life of the object (children inherit it).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~ScopedEnv() { ::unsetenv(name_); }

private:
    const char* name_;
};

TEST(UringEngine, SaysClearlyWhyWhenIoUringIsUnavailable) {
    ScopedEnv disable("C10K_URING_DISABLE", "1");
    CommandResult serve = run_command({"serve", "--engine", "uring", "--listen", "127.0.0.1:0"});
    EXPECT_NE(serve.status, 0);
    EXPECT_NE(serve.output.find("--engine uring does not work on this machine"),
              std::string::npos)
        << serve.output;
    EXPECT_NE(serve.output.find("io_uring_setup: Operation not permitted"), std::string::npos)
        << serve.output;
    EXPECT_NE(serve.output.find("kernel.io_uring_disabled"), std::string::npos) << serve.output;
    EXPECT_EQ(serve.output.find("c10k: serving"), std::string::npos) << serve.output;

    CommandResult engines = run_command({"engines"});
    EXPECT_EQ(engines.status, 0);
    auto line_of = [&](const std::string& name) {
        auto at = engines.output.find("\n" + name + " ");
        if (at == std::string::npos && engines.output.rfind(name + " ", 0) == 0) at = 0;
        if (at == std::string::npos) return std::string();
        auto end = engines.output.find('\n', at + 1);
        return engines.output.substr(at, end - at);
    };
    std::string uring = line_of("uring");
    EXPECT_NE(uring.find(" no "), std::string::npos) << engines.output;
    EXPECT_NE(uring.find("Operation not permitted"), std::string::npos) << engines.output;
    EXPECT_NE(line_of("epoll").find(" yes "), std::string::npos) << engines.output;
}

TEST(UringEngine, ManyConnectionsRequestingAtOnceAreAllAnswered) {
    // Requests on hundreds of keep-alive connections at once: the loop then receives more in
    // one batch than it offers provided buffers for at first, and must offer more and re-arm
    // the receives that found none. Two rounds: the connections stay usable after that.
    TempDir site;
    site.write("b.txt", "BBBBBBBB");
    ServerProcess server({"serve", "--engine", "uring", "--threads", "1", "--root", site.path(),
                          "--listen", "127.0.0.1:0"});
    constexpr int kConnections = 300;
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < kConnections; ++i) {
        clients.push_back(std::make_unique<HttpClient>(server.port()));
    }
    for (int round = 0; round < 2; ++round) {
        for (auto& client : clients) client->send_get("/b.txt");
        for (int i = 0; i < kConnections; ++i) {
            HttpResponse r;
            ASSERT_TRUE(clients[i]->read_response(r))
                << "connection " << i << ", round " << round << ": " << clients[i]->error();
            ASSERT_EQ(r.status, 200);
            ASSERT_EQ(r.body, "BBBBBBBB");
        }
    }
    clients.clear();
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

class ProcessGroup : public ::testing::TestWithParam<std::string> {};

TEST_P(ProcessGroup, ServesFromSeveralProcessesAndStopsThemAllWithExitZero) {
    TempDir site;
    site.write("a.txt", "aaaa");
    ServerProcess server({"serve", "--engine", GetParam(), "--root", site.path(), "--listen",
                          "127.0.0.1:0", "--threads", "1", "--processes", "3"});
    EXPECT_NE(server.output().find("3 processes"), std::string::npos) << server.output();
    // Many connections, so that the kernel spreads them over every process's listener.
    for (int i = 0; i < 30; ++i) {
        HttpResponse r = fetch(server.port(), "/a.txt");
        ASSERT_EQ(r.status, 200) << "connection " << i;
        EXPECT_EQ(r.body, "aaaa");
    }
    std::vector<std::unique_ptr<HttpClient>> open;
    for (int i = 0; i < 10; ++i) {
        open.push_back(std::make_unique<HttpClient>(server.port()));
        open.back()->send_get("/a.txt");
        HttpResponse r;
        ASSERT_TRUE(open.back()->read_response(r));
    }
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

/// Event engines that work here (uring only where io_uring does).
std::vector<std::string> event_engines() {
    std::vector<std::string> chosen;
    for (const auto& name : engine::available()) {
        if (name == "epoll" || name == "poll" || name == "uring") chosen.push_back(name);
    }
    return chosen;
}

INSTANTIATE_TEST_SUITE_P(EventEngines, ProcessGroup, ::testing::ValuesIn(event_engines()));

}  // namespace
}  // namespace c10k::test

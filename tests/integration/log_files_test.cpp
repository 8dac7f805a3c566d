// Log files as an operator meets them: JSON access lines, an error log instead of stderr, and
// SIGUSR1 after a rename (logrotate's way) starting fresh files while the server keeps serving,
// in one process and where children hold their own descriptors (fork, prefork, a group).

#include <signal.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Waits (bounded) until `path` holds a line containing `needle`: access lines are buffered
/// per loop and written within about a second.
bool wait_for_line(const std::string& path, const std::string& needle) {
    for (int i = 0; i < 100; ++i) {
        if (read(path).find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

class LogFiles : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(LogFiles, Sigusr1AfterARenameStartsFreshFiles) {
    TempDir dir;
    dir.write("site/before.html", "b");
    dir.write("site/after.html", "a");
    std::string access = dir.path() + "/access.log";
    std::string errors = dir.path() + "/error.log";
    std::vector<std::string> args{"serve",
                                  "--root",
                                  dir.path() + "/site",
                                  "--listen",
                                  "127.0.0.1:0",
                                  "--access-log",
                                  access,
                                  "--access-log-format",
                                  "json",
                                  "--error-log",
                                  errors,
                                  "--log-level",
                                  "info"};
    args.insert(args.end(), GetParam().begin(), GetParam().end());
    ServerProcess server(args);
    ASSERT_EQ(fetch(server.port(), "/before.html").status, 200);
    ASSERT_TRUE(wait_for_line(access, "/before.html")) << read(access) << server.output();

    // logrotate: rename, then signal.
    ASSERT_EQ(std::rename(access.c_str(), (access + ".1").c_str()), 0);
    ASSERT_EQ(std::rename(errors.c_str(), (errors + ".1").c_str()), 0);
    ASSERT_EQ(::kill(server.pid(), SIGUSR1), 0);
    // The reopen is asynchronous to this test (a child may get it a moment later): requests
    // go on until one is logged in the fresh file; none may be lost or land nowhere.
    bool fresh = false;
    int requests = 0;
    for (int i = 0; i < 100 && !fresh; ++i) {
        ASSERT_EQ(fetch(server.port(), "/after.html").status, 200) << server.output();
        ++requests;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        fresh = read(access).find("/after.html") != std::string::npos;
    }
    ASSERT_TRUE(fresh) << "no fresh access log after SIGUSR1";
    EXPECT_TRUE(wait_for_line(access, "/after.html"));
    EXPECT_TRUE(std::ifstream(errors).good()) << "the error log was not opened again";

    // Every line of both files is one JSON object; the old file kept what came before.
    std::size_t lines = 0;
    for (const std::string& path : {access + ".1", access}) {
        std::istringstream in(read(path));
        std::string line;
        while (std::getline(in, line)) {
            auto doc = nlohmann::json::parse(line);
            EXPECT_EQ(doc["status"], 200);
            ++lines;
        }
    }
    EXPECT_NE(read(access + ".1").find("/before.html"), std::string::npos);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
    // After the stop every buffered line is out: all requests, each logged once.
    std::size_t total = 0;
    for (const std::string& path : {access + ".1", access}) {
        std::istringstream in(read(path));
        std::string line;
        while (std::getline(in, line)) ++total;
    }
    EXPECT_EQ(total, static_cast<std::size_t>(requests + 1));
}

INSTANTIATE_TEST_SUITE_P(
    Engines, LogFiles,
    ::testing::Values(std::vector<std::string>{"--engine", "epoll", "--threads", "2"},
                      std::vector<std::string>{"--engine", "thread"},
                      std::vector<std::string>{"--engine", "fork"},
                      std::vector<std::string>{"--engine", "prefork", "--processes", "2"},
                      std::vector<std::string>{"--engine", "uring", "--processes", "2", "--threads",
                                               "1"}),
    [](const auto& info) { return flag_values_name(info.param); });

TEST(LogFilesErrors, BadFormatsLevelsAndPathsAreRefusedAtStart) {
    TempDir dir;
    struct Case {
        std::vector<std::string> flags;
        const char* expected;
    };
    for (const Case& c : std::vector<Case>{
             {{"--access-log-format", "xml"}, "--access-log-format: unknown format 'xml'"},
             {{"--log-level", "loud"}, "--log-level: unknown level 'loud'"},
             {{"--error-log", dir.path() + "/no/such/dir/error.log"}, "--error-log: cannot open"},
         }) {
        std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0"};
        args.insert(args.end(), c.flags.begin(), c.flags.end());
        CommandResult r = run_command(args);
        EXPECT_EQ(r.status, 1) << r.output;
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << r.output;
    }
}

}  // namespace
}  // namespace c10k::test

// Signals and the processes of `c10k serve`: SIGTERM sent to the parent of a process group
// (--processes N, prefork) stops every process cleanly, and SIGTERM sent to one child stops that
// child alone, cleanly (exit status 0, which the supervising parent logs). The parent is a
// supervisor: it starts another child in the place of one that exited, so that the group keeps
// its size and a child can be recycled by signalling it. No thread runs in a process when it
// forks, so each child is a whole copy of its parent and has its own stop path.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// The children of `pid`, from /proc (each thread lists the children it forked; the server
/// forks from its main thread, whose task id is the pid).
std::vector<pid_t> children_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> children;
    pid_t child = 0;
    while (in >> child) children.push_back(child);
    std::sort(children.begin(), children.end());
    return children;
}

bool process_exists(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

/// Polls `condition` every 20 ms for up to `timeout_ms`; true as soon as it holds.
bool eventually(const std::function<bool()>& condition, int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
}

/// Every process a test saw is killed at the end if it is still there, so that a failed test
/// leaves nothing running (the server also stops its children when it dies).
class SeenProcesses {
public:
    ~SeenProcesses() {
        for (pid_t pid : pids_) {
            if (process_exists(pid)) ::kill(pid, SIGKILL);
        }
    }
    void add(const std::vector<pid_t>& pids) {
        pids_.insert(pids_.end(), pids.begin(), pids.end());
    }
    const std::vector<pid_t>& all() const { return pids_; }

private:
    std::vector<pid_t> pids_;
};

/// A server whose group of `count` children is up: it waits until the parent has forked them.
struct Group {
    Group(const std::string& engine, std::size_t count, const std::string& root)
        : server({"serve", "--engine", engine, "--root", root, "--listen", "127.0.0.1:0",
                  "--threads", "1", "--processes", std::to_string(count)}) {
        bool up = eventually([&] { return children_of(server.pid()).size() == count; });
        EXPECT_TRUE(up) << "children: " << children_of(server.pid()).size() << "; output:\n"
                        << server.output();
        seen.add(children_of(server.pid()));
    }

    /// Every request of a handful, each on a new connection, is answered: whichever child the
    /// kernel hands it to serves it.
    void expect_serves() {
        for (int i = 0; i < 12; ++i) {
            HttpResponse response = fetch(server.port(), "/a.txt");
            EXPECT_EQ(response.status, 200) << server.output();
            EXPECT_EQ(response.body, "aaaa");
        }
    }

    /// Sends SIGTERM to one child and checks what the brief promises: the child exits with
    /// status 0 (the parent logs "<what> <pid> exited with status 0"), and the parent starts
    /// another, so that the group is `count` strong again without it.
    void recycle_one_child(const std::string& what, std::size_t count) {
        std::vector<pid_t> before = children_of(server.pid());
        ASSERT_EQ(before.size(), count);
        pid_t victim = before[1];
        ASSERT_EQ(::kill(victim, SIGTERM), 0);
        std::string expected = what + " " + std::to_string(victim) + " exited with status 0";
        EXPECT_TRUE(eventually([&] { return server.output().find(expected) != std::string::npos; }))
            << "expected \"" << expected << "\" in:\n"
            << server.output();
        EXPECT_TRUE(eventually([&] { return !process_exists(victim); }));
        std::vector<pid_t> after;
        EXPECT_TRUE(eventually([&] {
            after = children_of(server.pid());
            return after.size() == count &&
                   std::find(after.begin(), after.end(), victim) == after.end();
        })) << "children after the SIGTERM: "
            << after.size() << "; output:\n"
            << server.output();
        seen.add(after);
        EXPECT_TRUE(server.running());
    }

    /// SIGTERM to the parent: it exits 0 (only when every child exited 0), and no child that
    /// the test saw is left.
    void stop_all() {
        EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
        for (pid_t pid : seen.all()) {
            EXPECT_TRUE(eventually([&] { return !process_exists(pid); })) << "child " << pid;
        }
    }

    SeenProcesses seen;  // destroyed after the server: kills leftovers of a failed test
    ServerProcess server;
};

class ProcessGroupSignals : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { site_.write("a.txt", "aaaa"); }
    TempDir site_;
};

TEST_P(ProcessGroupSignals, SigtermToTheParentStopsEveryProcessAndExitsZero) {
    Group group(GetParam(), 3, site_.path());
    group.expect_serves();
    // A keep-alive client between requests is closed by the stop rather than waited for.
    HttpClient idle(group.server.port());
    idle.send_get("/a.txt");
    HttpResponse response;
    ASSERT_TRUE(idle.read_response(response)) << idle.error();
    EXPECT_EQ(response.status, 200);
    group.stop_all();
    EXPECT_TRUE(idle.wait_closed());
}

TEST_P(ProcessGroupSignals, SigtermToOneChildStopsItCleanlyAndTheParentReplacesIt) {
    Group group(GetParam(), 3, site_.path());
    group.expect_serves();
    group.recycle_one_child("server process", 3);
    group.expect_serves();
    group.stop_all();
}

// Engines run in each process of the group: event loops, a thread per client (threads that
// start after the fork), and a process per client (a child that forks again).
INSTANTIATE_TEST_SUITE_P(Engines, ProcessGroupSignals, ::testing::Values("epoll", "thread", "fork"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

class PreforkSignals : public ::testing::Test {
protected:
    void SetUp() override { site_.write("a.txt", "aaaa"); }
    TempDir site_;
};

TEST_F(PreforkSignals, SigtermToTheParentStopsEveryWorkerAndExitsZero) {
    Group group("prefork", 3, site_.path());
    group.expect_serves();
    group.stop_all();
}

TEST_F(PreforkSignals, SigtermToOneWorkerStopsItCleanlyAndTheParentReplacesIt) {
    Group group("prefork", 3, site_.path());
    group.expect_serves();
    group.recycle_one_child("prefork worker", 3);
    group.expect_serves();
    group.stop_all();
}

TEST_F(PreforkSignals, AWorkerSignalledMidConnectionFinishesItsResponseAndCloses) {
    Group group("prefork", 1, site_.path());
    HttpClient client(group.server.port());
    client.send_get("/a.txt");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    std::vector<pid_t> workers = children_of(group.server.pid());
    ASSERT_EQ(workers.size(), 1u);
    // The one worker is serving this keep-alive connection: its stop closes it.
    ASSERT_EQ(::kill(workers[0], SIGTERM), 0);
    EXPECT_TRUE(client.wait_closed());
    std::string expected = "prefork worker " + std::to_string(workers[0]) + " exited with status 0";
    EXPECT_TRUE(eventually([&] {
        return group.server.output().find(expected) != std::string::npos;
    })) << group.server.output();
    group.seen.add(children_of(group.server.pid()));
    group.expect_serves();
    group.stop_all();
}

TEST(ForkSignals, SigtermToAConnectionsChildClosesItAndTheServerGoesOn) {
    TempDir site;
    site.write("a.txt", "aaaa");
    SeenProcesses seen;
    ServerProcess server(
        {"serve", "--engine", "fork", "--root", site.path(), "--listen", "127.0.0.1:0"});
    HttpClient client(server.port());
    client.send_get("/a.txt");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    std::vector<pid_t> children = children_of(server.pid());
    ASSERT_EQ(children.size(), 1u) << "one child per open connection";
    seen.add(children);
    // The child serving this keep-alive connection stops, closing it; the others are unaffected.
    ASSERT_EQ(::kill(children[0], SIGTERM), 0);
    EXPECT_TRUE(client.wait_closed());
    EXPECT_TRUE(eventually([&] { return !process_exists(children[0]); }));
    for (int i = 0; i < 4; ++i) {
        HttpResponse again = fetch(server.port(), "/a.txt");
        EXPECT_EQ(again.status, 200) << server.output();
    }
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
}

}  // namespace
}  // namespace c10k::test

// Reload (SIGHUP) and binary upgrade (SIGUSR2) of the real binary: a new process takes the
// listening sockets over and the old one drains, under `c10k bench` at a steady rate, with
// nothing failed; a new process that cannot start (a bad config, a broken binary) leaves the
// old one serving; push subscribers resume on the new process without losing a message.
//
// The new process is a child of the old one, which exits: this test process becomes their
// subreaper, so that it can wait for every server it caused and stop the last by its pid.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/json_value.hpp"
#include "support/push_client.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace c10k::test {
namespace {

using Clock = std::chrono::steady_clock;

/// `c10k ARGS...` started in the background, its output in a file; waited for by pid.
class Background {
public:
    Background(const std::vector<std::string>& args, const std::string& output_path) {
        pid_ = ::fork();
        if (pid_ == 0) {
            std::FILE* out = std::fopen(output_path.c_str(), "w");
            if (out != nullptr) {
                ::dup2(::fileno(out), STDOUT_FILENO);
                ::dup2(::fileno(out), STDERR_FILENO);
            }
            std::vector<char*> argv;
            std::string binary = binary_path();
            argv.push_back(binary.data());
            std::vector<std::string> copies = args;
            for (auto& arg : copies) argv.push_back(arg.data());
            argv.push_back(nullptr);
            ::execv(binary.c_str(), argv.data());
            ::_exit(127);
        }
    }
    ~Background() {
        if (pid_ > 0 && status_ < 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    /// The exit status, or -1 when it did not end within timeout_ms (it is killed then).
    int wait(int timeout_ms) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (Clock::now() < deadline) {
            int raw = 0;
            if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
                status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
                return status_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        status_ = -1;
        return -1;
    }

private:
    pid_t pid_ = -1;
    int status_ = -1;
};

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++count;
    return count;
}

/// A server started by the test, followed across handovers: the pid serving now is the one
/// the last "took over" line names.
class ReloadingServer {
public:
    explicit ReloadingServer(std::vector<std::string> args)
        : ReloadingServer(binary_path(), std::move(args)) {}
    ReloadingServer(const std::string& binary, std::vector<std::string> args, int listener = -1) {
        // Orphans (the old process exits, its successor lives on) come to this process.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        server_ = std::make_unique<ServerProcess>(binary, std::move(args), listener);
        pid_ = server_->pid();
    }
    ~ReloadingServer() { stop(); }

    int port() const { return server_->port(); }
    pid_t pid() const { return pid_; }
    std::string output() { return server_->output(); }

    /// Sends `signal` to the serving process and waits until a new one says it took over.
    /// False (with the output in `why`) when none did within the time.
    bool hand_over(int signal, std::string& why, int timeout_ms = 15000) {
        std::size_t before = count_of(output(), "took over from pid");
        ::kill(pid_, signal);
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (Clock::now() < deadline) {
            std::string text = output();
            if (count_of(text, "took over from pid") > before) {
                std::smatch match;
                std::string last = text.substr(text.rfind("c10k: pid "));
                if (std::regex_search(last, match, std::regex("c10k: pid (\\d+) took over"))) {
                    old_pids_.push_back(pid_);
                    pid_ = static_cast<pid_t>(std::stoi(match[1]));
                    return true;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        why = output();
        return false;
    }

    /// Waits until the output holds `what` (a refused handover's message).
    bool wait_for(const std::string& what, std::size_t occurrences, int timeout_ms = 15000) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (Clock::now() < deadline) {
            if (count_of(output(), what) >= occurrences) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    bool alive(pid_t pid) const { return ::kill(pid, 0) == 0; }

    /// Stops the serving process (SIGTERM) and reaps every process of the server this test
    /// caused. The exit status of the last one, or -1.
    int stop() {
        if (stopped_) return last_status_;
        stopped_ = true;
        // The old processes first: until one has exited it is its successor's parent, and its
        // SIGCHLD handler, not this test, would reap the successor.
        for (pid_t old : old_pids_) wait_gone(old);
        if (pid_ != server_->pid()) {
            ::kill(pid_, SIGTERM);
            int raw = 0;
            auto deadline = Clock::now() + std::chrono::seconds(20);
            last_status_ = -1;
            while (Clock::now() < deadline) {
                if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
                    last_status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (last_status_ == -1) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
            }
        } else {
            last_status_ = server_->stop(SIGTERM);
        }
        // The old processes ended on their own after their drain; reap what is left of them.
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        return last_status_;
    }

private:
    /// Waits (bounded) until `pid`, an old process that drains, is gone and reaped by whoever
    /// is its parent now (this test, the subreaper, once its own parent left).
    void wait_gone(pid_t pid) {
        auto deadline = Clock::now() + std::chrono::seconds(30);
        while (Clock::now() < deadline) {
            if (pid == server_->pid()) {
                if (!server_->running()) return;
            } else {
                pid_t reaped = ::waitpid(pid, nullptr, WNOHANG);
                if (reaped == pid || (reaped < 0 && ::kill(pid, 0) != 0)) return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    std::unique_ptr<ServerProcess> server_;
    std::vector<pid_t> old_pids_;
    pid_t pid_ = -1;
    bool stopped_ = false;
    int last_status_ = -1;
};

std::optional<JsonValue> read_json_file(const std::string& path) {
    return parse_json(read_file(path));
}

class ReloadUnderLoad : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(ReloadUnderLoad, FiveReloadsFailNoRequest) {
    TempDir dir;
    dir.write("index.html", "steady");
    std::vector<std::string> args{"serve", "--root", dir.path(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), GetParam().begin(), GetParam().end());
    ReloadingServer server(args);
    std::string json_path = dir.path() + "/bench.json";
    std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/index.html";
    // A steady rate over keep-alive connections: each handover must leave none of them with a
    // request cut off, and every new connection must find a process that accepts it.
    Background bench({"bench", "-r", "400", "-c", "8", "-d", "5s", "--timeout", "5s", "--json",
                      json_path, "-q", url},
                     dir.path() + "/bench.out");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::vector<pid_t> pids{server.pid()};
    for (int i = 0; i < 5; ++i) {
        std::string why;
        ASSERT_TRUE(server.hand_over(SIGHUP, why)) << "reload " << i << ":\n" << why;
        pids.push_back(server.pid());
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    ASSERT_EQ(bench.wait(60000), 0) << read_file(dir.path() + "/bench.out");
    auto report = read_json_file(json_path);
    ASSERT_TRUE(report.has_value()) << read_file(dir.path() + "/bench.out");
    ASSERT_TRUE((*report)["errors"]["total"].is_number());
    EXPECT_EQ((*report)["errors"]["total"].number, 0) << read_file(dir.path() + "/bench.out");
    EXPECT_GT((*report)["requests"].number, 1000);
    EXPECT_EQ((*report)["status"]["200"].number, (*report)["requests"].number);
    // Each reload made a new process; the ones before it drained and left.
    for (std::size_t i = 1; i < pids.size(); ++i) EXPECT_NE(pids[i], pids[i - 1]);
    EXPECT_EQ(count_of(server.output(), "c10k: stopped"), 5u) << server.output();
    HttpResponse last = fetch(server.port(), "/index.html");
    EXPECT_EQ(last.status, 200);
    EXPECT_EQ(last.body, "steady");
    EXPECT_EQ(server.stop(), 0) << server.output();
}

INSTANTIATE_TEST_SUITE_P(
    Engines, ReloadUnderLoad,
    ::testing::Values(std::vector<std::string>{"--engine", "epoll", "--threads", "2"},
                      std::vector<std::string>{"--engine", "uring", "--threads", "2"},
                      std::vector<std::string>{"--engine", "poll", "--threads", "2"},
                      std::vector<std::string>{"--engine", "thread"},
                      std::vector<std::string>{"--engine", "fork"},
                      std::vector<std::string>{"--engine", "prefork", "--processes", "12"},
                      std::vector<std::string>{"--engine", "epoll", "--processes", "2", "--threads",
                                               "2"}),
    [](const auto& info) { return flag_values_name(info.param); });

TEST(Reload, AnInvalidConfigKeepsTheOldOneServingAndAValidOneTakesEffect) {
    TempDir dir;
    dir.write("old/index.html", "old root");
    dir.write("new/index.html", "new root");
    std::string config = dir.path() + "/c10k.toml";
    auto write_config = [&](const std::string& text) { std::ofstream(config) << text; };
    write_config("[server]\nlisten = [\"127.0.0.1:0\"]\nroot = \"" + dir.path() +
                 "/old\"\nthreads = 2\nadmin_listen = \"127.0.0.1:0\"\n");
    ReloadingServer server({"serve", "--config", config});
    pid_t first = server.pid();
    std::smatch admin;
    std::string started = server.output();
    ASSERT_TRUE(
        std::regex_search(started, admin, std::regex("metrics on http://127.0.0.1:(\\d+)/metrics")))
        << started;
    int admin_port = std::stoi(admin[1]);
    ASSERT_EQ(fetch(server.port(), "/").body, "old root");

    // A mistake: the new process says where, and the old one goes on.
    write_config("[server]\nlisten = [\"127.0.0.1:0\"]\nroot = \"" + dir.path() +
                 "/old\"\nthreads = \"two\"\nadmin_listen = \"127.0.0.1:0\"\n");
    ::kill(first, SIGHUP);
    ASSERT_TRUE(server.wait_for("before taking over; still serving", 1)) << server.output();
    std::string output = server.output();
    EXPECT_NE(output.find("c10k.toml:4:"), std::string::npos) << output;
    EXPECT_NE(output.find("threads"), std::string::npos) << output;
    EXPECT_TRUE(server.alive(first));
    EXPECT_EQ(fetch(server.port(), "/").body, "old root");

    // Fixed, with another root: the reload takes it, on the same port.
    write_config("[server]\nlisten = [\"127.0.0.1:0\"]\nroot = \"" + dir.path() +
                 "/new\"\nthreads = 3\nadmin_listen = \"127.0.0.1:0\"\n");
    std::string why;
    ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
    EXPECT_NE(server.pid(), first);
    EXPECT_EQ(fetch(server.port(), "/").body, "new root");
    // The admin listener moved too (port 0: the same socket), and counts what happened.
    HttpResponse metrics = fetch(admin_port, "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("c10k_handovers_total{kind=\"reload\"} 1\n"), std::string::npos)
        << metrics.body;
    EXPECT_NE(metrics.body.find("c10k_handovers_total{kind=\"upgrade\"} 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("c10k_handovers_failed_total 1\n"), std::string::npos);
    EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST(Reload, ThePidFileNamesTheServingProcess) {
    TempDir dir;
    std::string pid_file = dir.path() + "/c10k.pid";
    ReloadingServer server(
        {"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--pid-file", pid_file});
    EXPECT_EQ(read_file(pid_file), std::to_string(server.pid()) + "\n");
    std::string why;
    ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
    EXPECT_EQ(read_file(pid_file), std::to_string(server.pid()) + "\n");
    // The old process has drained and left without removing its successor's file.
    EXPECT_TRUE(server.wait_for("c10k: stopped", 1)) << server.output();
    EXPECT_EQ(read_file(pid_file), std::to_string(server.pid()) + "\n");
    EXPECT_EQ(server.stop(), 0) << server.output();
    EXPECT_FALSE(std::filesystem::exists(pid_file));
}

/// A copy of the binary in `dir`, replaced as a package upgrade replaces it: a new file
/// renamed over the old name.
void install_binary(const std::string& dir, const std::string& contents_from) {
    std::filesystem::copy_file(contents_from, dir + "/c10k.new",
                               std::filesystem::copy_options::overwrite_existing);
    ::chmod((dir + "/c10k.new").c_str(), 0755);
    std::filesystem::rename(dir + "/c10k.new", dir + "/c10k");
}

TEST(Upgrade, ANewBinaryTakesOverUnderLoadAndABrokenOneLeavesTheOldServing) {
    TempDir dir;
    dir.write("site/index.html", "upgraded");
    std::string bin = dir.path() + "/bin";
    std::filesystem::create_directories(bin);
    install_binary(bin, binary_path());
    ReloadingServer server(bin + "/c10k", {"serve", "--root", dir.path() + "/site", "--listen",
                                           "127.0.0.1:0", "--engine", "epoll", "--threads", "2"});
    pid_t first = server.pid();

    // A broken binary (it exits at once, as one built for another machine would fail): the
    // old process says so and goes on serving.
    dir.write("broken", "#!/bin/sh\necho 'not a c10k' >&2\nexit 3\n");
    install_binary(bin, dir.path() + "/broken");
    ::kill(first, SIGUSR2);
    ASSERT_TRUE(server.wait_for("exited with status 3 before taking over", 1)) << server.output();
    EXPECT_TRUE(server.alive(first));
    EXPECT_EQ(fetch(server.port(), "/index.html").body, "upgraded");

    // A working binary, under load: nothing fails.
    install_binary(bin, binary_path());
    std::string json_path = dir.path() + "/bench.json";
    Background bench({"bench", "-r", "400", "-c", "8", "-d", "3s", "--json", json_path, "-q",
                      "http://127.0.0.1:" + std::to_string(server.port()) + "/index.html"},
                     dir.path() + "/bench.out");
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    std::string why;
    ASSERT_TRUE(server.hand_over(SIGUSR2, why)) << why;
    EXPECT_NE(server.pid(), first);
    EXPECT_NE(server.output().find("(upgrade)"), std::string::npos) << server.output();
    // The new process runs the file now at the path: /proc/PID/exe names it.
    EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(server.pid()) + "/exe"),
              std::filesystem::path(bin + "/c10k"));
    ASSERT_EQ(bench.wait(60000), 0) << read_file(dir.path() + "/bench.out");
    auto report = read_json_file(json_path);
    ASSERT_TRUE(report.has_value());
    ASSERT_TRUE((*report)["errors"]["total"].is_number());
    EXPECT_EQ((*report)["errors"]["total"].number, 0) << read_file(dir.path() + "/bench.out");
    EXPECT_EQ((*report)["status"]["200"].number, (*report)["requests"].number);
    EXPECT_EQ(server.stop(), 0) << server.output();
}

class ReloadPush : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(ReloadPush, SubscribersResumeOnTheNewProcessWithoutLosingAMessage) {
    TempDir dir;
    std::vector<std::string> args{"serve",    "--root",           dir.path(),
                                  "--listen", "127.0.0.1:0",      "--push",
                                  "/live/",   "--publish-listen", "127.0.0.1:0"};
    args.insert(args.end(), GetParam().begin(), GetParam().end());
    ReloadingServer server(args);
    std::smatch match;
    std::string output = server.output();
    ASSERT_TRUE(
        std::regex_search(output, match, std::regex("publishing on http://127.0.0.1:(\\d+)/pub/")))
        << output;
    std::string publish = "http://127.0.0.1:" + match[1].str() + "/pub/score";
    std::string live = "http://127.0.0.1:" + std::to_string(server.port()) + "/live/score";
    std::string json_path = dir.path() + "/push.json";
    // 1,000 SSE subscribers while messages are published at a steady rate; two reloads in
    // the middle. Each stream of the old process ends; its client comes back with
    // Last-Event-ID to the new one, which holds the old one's history.
    Background bench({"bench", "--sse", "1000", live, "--publish", publish, "--publish-rate", "20",
                      "-d", "6s", "--warmup", "1s", "--timeout", "5s", "--json", json_path, "-q"},
                     dir.path() + "/bench.out");
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    std::string why;
    ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
    ASSERT_EQ(bench.wait(90000), 0) << read_file(dir.path() + "/bench.out");
    auto report = read_json_file(json_path);
    ASSERT_TRUE(report.has_value()) << read_file(dir.path() + "/bench.out");
    std::string text = read_file(dir.path() + "/bench.out");
    const JsonValue& push = (*report)["push"];
    ASSERT_TRUE(push["lost"]["total"].is_number()) << text;
    EXPECT_EQ(push["lost"]["total"].number, 0) << text;
    EXPECT_EQ(push["duplicated"].number, 0) << text;
    EXPECT_EQ(push["history_lost"].number, 0) << text;
    // Every subscriber really moved, twice, and messages were published across both moves.
    EXPECT_GE(push["subscribers"]["reconnects"].number, 2000) << text;
    EXPECT_GT(push["publish"]["acknowledged"].number, 60) << text;
    EXPECT_NE(server.output().find("took 1 channel(s) over"), std::string::npos) << server.output();
    EXPECT_EQ(server.stop(), 0) << server.output();
}

// One process holds the channels, or the first of a group (the one that assigns ids), whose
// every process takes them back from the snapshot.
INSTANTIATE_TEST_SUITE_P(
    Shapes, ReloadPush,
    ::testing::Values(std::vector<std::string>{"--engine", "epoll", "--threads", "2"},
                      std::vector<std::string>{"--engine", "epoll", "--threads", "1", "--processes",
                                               "2"}),
    [](const auto& info) { return flag_values_name(info.param); });

TEST(Reload, SseStreamsEndWithAShortReconnectHint) {
    TempDir dir;
    ReloadingServer server({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads",
                            "1", "--push", "/live/", "--publish-listen", "127.0.0.1:0"});
    SseClient client(server.port(), "/live/score");
    ASSERT_TRUE(client.read_head());
    ASSERT_EQ(client.status(), 200);
    SseEvent event;
    EXPECT_FALSE(client.next_event(event, 200));  // nothing published: only the opening
    EXPECT_EQ(client.last_retry(), "2000");       // the usual delay, said at the start
    std::string why;
    ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
    while (client.next_event(event, 5000)) {
    }
    EXPECT_TRUE(client.saw_last_chunk() || client.closed());
    EXPECT_EQ(client.last_retry(), "250");  // come back soon: a new process is there
    EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST(Reload, WebSocketSubscribersAreToldServiceRestart) {
    TempDir dir;
    ReloadingServer server({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads",
                            "1", "--push", "/live/", "--publish-listen", "127.0.0.1:0"});
    WsClient client(server.port());
    WsHandshake request;
    request.path = "/live/score";
    ASSERT_TRUE(client.handshake(request)) << client.answer().status;
    std::string why;
    ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
    auto close = client.read_close(10000);
    ASSERT_TRUE(close.has_value()) << client.last_error();
    EXPECT_EQ(close->code, 1012);  // service restart: connect again now
    EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST(Reload, SocketActivatedListenersArePassedOnToo) {
    TempDir dir;
    dir.write("index.html", "activated");
    // A listening socket of the test's, passed as systemd passes one (LISTEN_FDS). The test
    // keeps its copy, so a successor that did not take it over would leave clients queued
    // there unanswered, on a port nobody accepts.
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener, 128), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    int port = ntohs(address.sin_port);
    {
        ReloadingServer server(binary_path(),
                               {"serve", "--root", dir.path(), "--listen", "127.0.0.1:0",
                                "--engine", "epoll", "--threads", "2"},
                               listener);
        ASSERT_EQ(server.port(), port);
        std::string why;
        ASSERT_TRUE(server.hand_over(SIGHUP, why)) << why;
        for (int i = 0; i < 20; ++i) {
            HttpResponse r = fetch(port, "/index.html");
            ASSERT_EQ(r.status, 200) << server.output();
            ASSERT_EQ(r.body, "activated");
        }
        EXPECT_EQ(server.stop(), 0) << server.output();
    }
    ::close(listener);
}

}  // namespace
}  // namespace c10k::test

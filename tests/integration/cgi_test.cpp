// CGI/1.1 (`c10k serve --cgi PREFIX=DIR`) with the real binary and real programs written here
// (shell and Python scripts): the head and environment a program gets and gives, the body to
// its standard input, large output with the server's memory flat, time limits, crashes,
// clients that leave, the concurrency cap, and paths that must never run anything.

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// A CGI directory with programs, and a server running them.
class Cgi {
public:
    explicit Cgi(std::vector<std::string> extra = {}) {
        root.write("index.html", "files\n");
        std::vector<std::string> args{"serve", "--root", root.path(), "--listen",
                                      "127.0.0.1:0", "--threads", "1", "--cgi",
                                      "/cgi-bin/=" + bin.path()};
        args.insert(args.end(), extra.begin(), extra.end());
        extra_ = std::move(args);
    }
    /// Writes an executable program.
    void program(const std::string& name, const std::string& text, mode_t mode = 0755) {
        std::string path = bin.write(name, text);
        ::chmod(path.c_str(), mode);
    }
    ServerProcess& start() {
        server = std::make_unique<ServerProcess>(extra_);
        return *server;
    }
    int port() const { return server->port(); }

    TempDir root;
    TempDir bin;
    std::unique_ptr<ServerProcess> server;

private:
    std::vector<std::string> extra_;
};

/// Whether process `pid` is gone (reaped: not even a zombie), waiting up to 10 s.
bool gone(pid_t pid) {
    for (int i = 0; i < 1000; ++i) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

/// The number the program wrote to `path` (its PID), waiting up to 10 s for it.
pid_t read_pid(const std::string& path) {
    for (int i = 0; i < 1000; ++i) {
        std::ifstream in(path);
        pid_t pid = 0;
        if (in >> pid && pid > 0) return pid;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
}

HttpResponse get(int port, const std::string& target, const std::string& extra = {}) {
    HttpClient client(port);
    client.send("GET " + target + " HTTP/1.1\r\nHost: test:8080\r\n" + extra + "\r\n");
    HttpResponse response;
    EXPECT_TRUE(client.read_response(response, 10000)) << client.error();
    return response;
}

TEST(Cgi, ProgramGetsTheMetaVariablesAndSetsStatusAndHeaders) {
    Cgi cgi;
    cgi.program("env.sh",
                "#!/bin/sh\n"
                "printf 'Status: 201 Created\\r\\nContent-Type: text/plain\\r\\nX-Tool: env\\r\\n\\r\\n'\n"
                "echo \"SCRIPT_NAME=$SCRIPT_NAME\"\n"
                "echo \"PATH_INFO=$PATH_INFO\"\n"
                "echo \"QUERY_STRING=$QUERY_STRING\"\n"
                "echo \"REQUEST_METHOD=$REQUEST_METHOD\"\n"
                "echo \"SERVER_NAME=$SERVER_NAME SERVER_PORT=$SERVER_PORT\"\n"
                "echo \"GATEWAY_INTERFACE=$GATEWAY_INTERFACE\"\n"
                "echo \"HTTP_X_CUSTOM=$HTTP_X_CUSTOM\"\n"
                "echo \"HTTP_PROXY=${HTTP_PROXY-unset}\"\n"
                "echo \"REMOTE_ADDR=$REMOTE_ADDR\"\n"
                "echo \"PWD=$(pwd)\"\n");
    cgi.start();
    HttpResponse r = get(cgi.port(), "/cgi-bin/env.sh/more/path?a=1&b=2",
                         "X-Custom: yes\r\nProxy: http://attacker.example/\r\n");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.header("X-Tool"), "env");
    EXPECT_EQ(r.header("Content-Type"), "text/plain");
    for (const char* line : {"SCRIPT_NAME=/cgi-bin/env.sh\n", "PATH_INFO=/more/path\n",
                             "QUERY_STRING=a=1&b=2\n", "REQUEST_METHOD=GET\n",
                             "SERVER_NAME=test SERVER_PORT=8080\n", "GATEWAY_INTERFACE=CGI/1.1\n",
                             "HTTP_X_CUSTOM=yes\n", "HTTP_PROXY=unset\n",
                             "REMOTE_ADDR=127.0.0.1\n"}) {
        EXPECT_NE(r.body.find(line), std::string::npos) << line << " in\n" << r.body;
    }
    EXPECT_NE(r.body.find("PWD=" + cgi.bin.path()), std::string::npos) << r.body;
    // Outside the prefix the files are served as before.
    EXPECT_EQ(get(cgi.port(), "/index.html").body, "files\n");
}

TEST(Cgi, RequestBodyReachesStandardInput) {
    Cgi cgi;
    cgi.program("count.sh",
                "#!/bin/sh\n"
                "printf 'Content-Type: text/plain\\n\\n'\n"
                "echo \"length=$CONTENT_LENGTH type=$CONTENT_TYPE read=$(wc -c | tr -d ' ')\"\n");
    cgi.start();
    const std::string body(1 << 20, 'b');
    HttpClient client(cgi.port());
    client.send("POST /cgi-bin/count.sh HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-test\r\n"
                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    client.send(body);
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 10000)) << client.error();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "length=1048576 type=application/x-test read=1048576\n");
    // The connection serves the next request: the body was read to its end.
    client.send("GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_response(r, 10000)) << client.error();
    EXPECT_EQ(r.body, "files\n");
}

TEST(Cgi, LocationWithoutStatusIsARedirectAndLengthIsKept) {
    Cgi cgi;
    cgi.program("go.sh", "#!/bin/sh\nprintf 'Location: https://example.org/next\\n\\n'\n");
    cgi.program("sized.sh",
                "#!/bin/sh\nprintf 'Content-Type: text/plain\\nContent-Length: 5\\n\\nhello'\n");
    cgi.start();
    HttpResponse r = get(cgi.port(), "/cgi-bin/go.sh");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), "https://example.org/next");
    r = get(cgi.port(), "/cgi-bin/sized.sh");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Length"), "5");
    EXPECT_EQ(r.body, "hello");
}

TEST(Cgi, LocalRedirectsAreServedInPlace) {
    // RFC 3875 section 6.2.2: a path in Location, no Status: the server answers as if the
    // client had asked for that path (a file, or another program, with the client's headers);
    // "//host/..." stays a client redirect; a program that redirects to itself is stopped.
    Cgi cgi;
    cgi.program("to_file.sh", "#!/bin/sh\nprintf 'Location: /index.html\\n\\n'\n");
    cgi.program("to_program.sh", "#!/bin/sh\nprintf 'Location: /cgi-bin/show.sh/extra?a=b\\n\\n'\n");
    cgi.program("show.sh",
                "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                "echo \"$REQUEST_METHOD $PATH_INFO $QUERY_STRING $HTTP_X_TRACE\"\n");
    cgi.program("net.sh", "#!/bin/sh\nprintf 'Location: //example.org/x\\n\\n'\n");
    cgi.program("loop.sh", "#!/bin/sh\nprintf 'Location: /cgi-bin/loop.sh\\n\\n'\n");
    cgi.start();
    HttpResponse r = get(cgi.port(), "/cgi-bin/to_file.sh");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "files\n");
    EXPECT_EQ(r.header("Location"), "");
    HttpClient client(cgi.port());
    client.send("POST /cgi-bin/to_program.sh HTTP/1.1\r\nHost: t\r\nX-Trace: abc\r\n"
                "Content-Length: 0\r\n\r\n");
    ASSERT_TRUE(client.read_response(r)) << client.error();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /extra a=b abc\n") << "served as a GET with the client's headers";
    client.send("GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_response(r)) << client.error();
    EXPECT_EQ(r.body, "files\n") << "the connection goes on after a redirected answer";
    r = get(cgi.port(), "/cgi-bin/net.sh");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), "//example.org/x");
    r = get(cgi.port(), "/cgi-bin/loop.sh");
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("local redirects"), std::string::npos) << r.body;
}

TEST(Cgi, AProgramInCReadsStreamsAndCrashes) {
    Cgi cgi;
    std::filesystem::copy_file(C10K_CGI_PROBE, cgi.bin.path() + "/probe");
    cgi.start();
    HttpClient client(cgi.port());
    const std::string body(1'000'000, 'b');
    client.send("POST /cgi-bin/probe?echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 10000)) << client.error();
    EXPECT_EQ(r.body, "read 1000000 bytes\n");
    client.send("GET /cgi-bin/probe?big HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_response(r, 20000)) << client.error();
    EXPECT_EQ(r.header("Content-Length"), "8388608");
    EXPECT_EQ(r.body.size(), 8388608u);
    EXPECT_EQ(r.body.find_first_not_of('x'), std::string::npos);
    client.send("GET /cgi-bin/probe?env HTTP/1.1\r\nHost: t\r\nProxy: http://evil:1/\r\n\r\n");
    ASSERT_TRUE(client.read_response(r)) << client.error();
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body.rfind("CONTENT_LENGTH=(unset) HTTP_PROXY=(unset) SERVER_SOFTWARE=c10k/", 0), 0u)
        << r.body;
    r = get(cgi.port(), "/cgi-bin/probe?crash");
    EXPECT_EQ(r.status, 502);
    EXPECT_NE(r.body.find("killed by signal 6"), std::string::npos) << r.body;
}

TEST(Cgi, NextRequestIsServedWhileTheProgramStillHoldsItsOutputOpen) {
    // The program's body is whole (Content-Length) before its output closes: the client sends
    // its next request on the connection at once, and it must be served once the program ends,
    // though nothing is left to write then (no write to resume parsing after).
    Cgi cgi;
    cgi.program("linger.sh",
                "#!/bin/sh\nprintf 'Content-Type: text/plain\\nContent-Length: 3\\n\\nhi\\n'\n"
                "sleep 0.3\n");
    cgi.start();
    HttpClient client(cgi.port());
    HttpResponse r;
    for (int i = 0; i < 3; ++i) {
        client.send("GET /cgi-bin/linger.sh HTTP/1.1\r\nHost: t\r\n\r\n");
        ASSERT_TRUE(client.read_response(r, 10000)) << i << ": " << client.error();
        EXPECT_EQ(r.body, "hi\n");
    }
    client.send("GET /cgi-bin/linger.sh HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_response(r, 10000)) << client.error();
    EXPECT_EQ(r.body, "hi\n");
    ASSERT_TRUE(client.read_response(r, 10000)) << "pipelined: " << client.error();
    EXPECT_EQ(r.body, "files\n");
}

TEST(Cgi, BrokenProgramsGet502) {
    Cgi cgi;
    cgi.program("crash.sh", "#!/bin/sh\nkill -SEGV $$\n");
    cgi.program("nohead.sh", "#!/bin/sh\necho 'no colon here'\necho\n");
    cgi.program("silent.sh", "#!/bin/sh\nexit 3\n");
    cgi.start();
    for (const char* name : {"crash.sh", "nohead.sh", "silent.sh"}) {
        HttpResponse r = get(cgi.port(), std::string("/cgi-bin/") + name);
        EXPECT_EQ(r.status, 502) << name << ": " << r.body;
    }
    EXPECT_NE(cgi.server->output().find("cgi: /cgi-bin/crash.sh killed by signal 11"),
              std::string::npos)
        << cgi.server->output();
}

TEST(Cgi, ProgramThatNeverEndsIsKilledAtItsTimeLimit) {
    Cgi cgi({"--cgi-timeout", "300ms"});
    cgi.program("hang.sh", "#!/bin/sh\necho $$ > \"$SCRIPT_FILENAME.pid\"\nexec sleep 100\n");
    cgi.start();
    HttpResponse r = get(cgi.port(), "/cgi-bin/hang.sh");
    EXPECT_EQ(r.status, 504);
    EXPECT_NE(r.body.find("--cgi-timeout"), std::string::npos) << r.body;
    pid_t pid = read_pid(cgi.bin.path() + "/hang.sh.pid");
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(gone(pid)) << "the program must be killed and reaped";
}

TEST(Cgi, ClientThatLeavesMidOutputKillsTheProgram) {
    Cgi cgi;
    cgi.program("forever.sh",
                "#!/bin/sh\necho $$ > \"$SCRIPT_FILENAME.pid\"\nprintf 'Content-Type: text/plain\\n\\n'\n"
                "exec yes\n");
    cgi.start();
    {
        HttpClient client(cgi.port());
        client.send("GET /cgi-bin/forever.sh HTTP/1.1\r\nHost: t\r\n\r\n");
        char buffer[4096];
        ASSERT_GT(::recv(client.fd(), buffer, sizeof buffer, 0), 0);
    }  // closed mid-output
    pid_t pid = read_pid(cgi.bin.path() + "/forever.sh.pid");
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(gone(pid)) << "the program must be killed and reaped";
}

TEST(Cgi, ConcurrencyCapAnswers503) {
    Cgi cgi({"--cgi-max-processes", "1", "--cgi-queue-timeout", "0"});
    cgi.program("slow.sh",
                "#!/bin/sh\necho $$ > \"$SCRIPT_FILENAME.pid\"\nprintf 'Content-Type: text/plain\\n\\n'\n"
                "sleep 2\necho done\n");
    cgi.start();
    HttpClient first(cgi.port());
    first.send("GET /cgi-bin/slow.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_GT(read_pid(cgi.bin.path() + "/slow.sh.pid"), 0);
    HttpResponse second = get(cgi.port(), "/cgi-bin/slow.sh");
    EXPECT_EQ(second.status, 503);
    EXPECT_EQ(second.header("Retry-After"), "1");
    HttpResponse r;
    ASSERT_TRUE(first.read_response(r, 10000)) << first.error();
    EXPECT_EQ(r.body, "done\n");
}

TEST(Cgi, RequestsWaitBrieflyForAProcessSlot) {
    // One slot, one place in the queue: of the two requests sent while the first program
    // runs, one waits for it and is served, the other finds the queue full and gets 503 at
    // once (which one depends on the order the loop reads them in).
    Cgi cgi({"--cgi-max-processes", "1", "--cgi-queue-timeout", "30s"});
    cgi.program("slow.sh",
                "#!/bin/sh\necho $$ > \"$SCRIPT_FILENAME.$QUERY_STRING\"\n"
                "printf 'Content-Type: text/plain\\n\\n'\n"
                "while [ ! -e \"$SCRIPT_FILENAME.go\" ]; do sleep 0.05; done\n"
                "echo \"done $QUERY_STRING\"\n");
    cgi.start();
    HttpClient first(cgi.port());
    first.send("GET /cgi-bin/slow.sh?1 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_GT(read_pid(cgi.bin.path() + "/slow.sh.1"), 0);
    HttpClient second(cgi.port());
    HttpClient third(cgi.port());
    second.send("GET /cgi-bin/slow.sh?2 HTTP/1.1\r\nHost: t\r\n\r\n");
    third.send("GET /cgi-bin/slow.sh?3 HTTP/1.1\r\nHost: t\r\n\r\n");
    pollfd fds[2] = {{second.fd(), POLLIN, 0}, {third.fd(), POLLIN, 0}};
    ASSERT_EQ(::poll(fds, 2, 10000), 1) << "exactly one is answered while the first runs";
    bool second_refused = (fds[0].revents & POLLIN) != 0;
    HttpClient& refused = second_refused ? second : third;
    HttpClient& waiting = second_refused ? third : second;
    const std::string waiting_query = second_refused ? "3" : "2";
    HttpResponse r;
    ASSERT_TRUE(refused.read_response(r, 10000)) << refused.error();
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_FALSE(std::filesystem::exists(cgi.bin.path() + "/slow.sh." + waiting_query))
        << "the waiting one has not started";
    std::ofstream(cgi.bin.path() + "/slow.sh.go").put('x');
    ASSERT_TRUE(first.read_response(r, 10000)) << first.error();
    EXPECT_EQ(r.body, "done 1\n");
    ASSERT_TRUE(waiting.read_response(r, 10000)) << waiting.error();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "done " + waiting_query + "\n");
}

TEST(Cgi, AWaitThatOutlivesTheQueueTimeoutGets503) {
    Cgi cgi({"--cgi-max-processes", "1", "--cgi-queue-timeout", "200ms"});
    cgi.program("hold.sh",
                "#!/bin/sh\necho $$ > \"$SCRIPT_FILENAME.pid\"\nprintf 'Content-Type: text/plain\\n\\n'\n"
                "while [ ! -e \"$SCRIPT_FILENAME.go\" ]; do sleep 0.05; done\necho done\n");
    cgi.start();
    HttpClient first(cgi.port());
    first.send("GET /cgi-bin/hold.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_GT(read_pid(cgi.bin.path() + "/hold.sh.pid"), 0);
    HttpResponse second = get(cgi.port(), "/cgi-bin/hold.sh");
    EXPECT_EQ(second.status, 503);
    EXPECT_NE(second.body.find("--cgi-queue-timeout"), std::string::npos) << second.body;
    std::ofstream(cgi.bin.path() + "/hold.sh.go").put('x');
    HttpResponse r;
    ASSERT_TRUE(first.read_response(r, 10000)) << first.error();
    EXPECT_EQ(r.body, "done\n");
}

TEST(Cgi, NothingOutsideTheDirectoryOrHiddenOrNotExecutableRuns) {
    Cgi cgi;
    cgi.program("ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok'\n");
    cgi.program(".hidden.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhidden'\n");
    cgi.program("plain.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nplain'\n", 0644);
    ASSERT_EQ(::symlink("/bin/sh", (cgi.bin.path() + "/shell").c_str()), 0);
    ASSERT_EQ(::symlink((cgi.bin.path() + "/ok.sh").c_str(), (cgi.bin.path() + "/link.sh").c_str()),
              0);
    cgi.start();
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/ok.sh").body, "ok");
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/.hidden.sh").status, 404);
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/plain.sh").status, 403);
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/shell").status, 404) << "a symlink out is never run";
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/link.sh").status, 404) << "symlinks are not followed";
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/%2e%2e/%2e%2e/bin/sh").status, 400);
    EXPECT_EQ(get(cgi.port(), "/cgi-bin/").status, 404);
}

TEST(CgiMemory, HundredMebibytesOfOutputStreamWithFlatMemory) {
    // The program writes faster than the client reads: the server holds about --cgi's buffer
    // and lets the pipe fill, so the program waits instead of the server's memory growing.
    Cgi cgi;
    cgi.program("big.sh",
                "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\n"
                "exec head -c 104857600 /dev/zero\n");
    cgi.start();
    std::uint64_t before = peak_rss_kib(cgi.server->pid());
    HttpClient client(cgi.port());
    client.send("GET /cgi-bin/big.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 60000)) << client.error();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 104857600u);
    std::uint64_t after = peak_rss_kib(cgi.server->pid());
    EXPECT_LT(after, before + 32 * 1024) << "peak RSS went from " << before << " KiB to " << after;
}

/// CGI on every engine: programs' pipes and pidfds are watched through the loop's descriptor
/// watcher, which every engine offers.
class CgiOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(CgiOnEveryEngine, RunsProgramsWithBodiesTimeoutsAndClientsThatLeave) {
    Cgi cgi({"--engine", GetParam(), "--cgi-timeout", "500ms"});
    cgi.program("echo.sh",
                "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                "echo \"got $(wc -c | tr -d ' ')\"\n");
    cgi.program("hang.sh", "#!/bin/sh\necho $$ > \"$SCRIPT_FILENAME.pid\"\nexec sleep 100\n");
    cgi.start();
    HttpClient client(cgi.port());
    const std::string body(300'000, 'e');
    client.send("POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n");
    client.send(body);
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 10000)) << client.error();
    EXPECT_EQ(r.body, "got 300000\n");
    r = get(cgi.port(), "/cgi-bin/hang.sh");
    EXPECT_EQ(r.status, 504);
    pid_t pid = read_pid(cgi.bin.path() + "/hang.sh.pid");
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(gone(pid));
}

std::vector<std::string> engines_here() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, CgiOnEveryEngine, ::testing::ValuesIn(engines_here()),
                         engine_param_name);

TEST(Cgi, BadFlagsSayWhatIsWrong) {
    TempDir dir;
    auto r = run_command({"serve", "-t", "--cgi", "/cgi-bin/"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("expected PREFIX=DIR"), std::string::npos) << r.output;
    r = run_command({"serve", "-t", "--cgi", "/cgi-bin/=" + dir.path() + "/missing"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("is not a directory"), std::string::npos) << r.output;
    r = run_command({"serve", "-t", "--cgi", "cgi-bin=" + dir.path()});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("must start with '/'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test

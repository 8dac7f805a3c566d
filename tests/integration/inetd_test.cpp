// `c10k inetd` end to end: the real binary on 127.0.0.1 runs small shell programs per
// connection; the tests read what the programs write back and what the server logs.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/connect.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto patience = std::chrono::seconds(10);

/// A TCP client of the server, optionally from another loopback address (127.0.0.2).
class Client {
public:
    explicit Client(int port, const char* source = nullptr) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (source != nullptr) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            ::inet_pton(AF_INET, source, &local.sin_addr);
            if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
                ADD_FAILURE() << "bind " << source << ": errno " << errno;
            }
        }
        sockaddr_in server{};
        server.sin_family = AF_INET;
        server.sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
        connected_ =
            connect_through_signals(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0;
        error_ = connected_ ? 0 : errno;
    }
    ~Client() { ::close(fd_); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return connected_; }
    int error() const { return error_; }

    void send(const std::string& text) {
        ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(text.size()));
    }
    /// The program's standard input ends: a line program then exits.
    void finish() { ::shutdown(fd_, SHUT_WR); }

    /// The next line (without its LF); empty when the connection ended or nothing came in time.
    std::string line() {
        auto deadline = Clock::now() + patience;
        for (;;) {
            std::size_t end = buffer_.find('\n');
            if (end != std::string::npos) {
                std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                return line;
            }
            if (ended_ || !fill(deadline)) return {};
        }
    }

    /// True when the server closed the connection with nothing (more) written on it.
    bool closed_without_data() {
        auto deadline = Clock::now() + patience;
        while (!ended_) {
            if (!fill(deadline)) return false;
        }
        return buffer_.empty();
    }

private:
    /// Reads what is there; false at the deadline.
    bool fill(Clock::time_point deadline) {
        pollfd p{fd_, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[4096];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            ended_ = true;
        } else {
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    int error_ = 0;
    bool ended_ = false;
    std::string buffer_;
};

/// Waits (bounded) until the server's output holds `text`; returns whether it did.
bool wait_for_output(ServerProcess& server, const std::string& text) {
    auto deadline = Clock::now() + patience;
    while (Clock::now() < deadline) {
        if (server.output().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

/// How many times `text` occurs in `haystack`.
std::size_t occurrences(const std::string& haystack, const std::string& text) {
    std::size_t count = 0;
    for (std::size_t at = haystack.find(text); at != std::string::npos;
         at = haystack.find(text, at + 1)) {
        ++count;
    }
    return count;
}

/// Writes an executable script `name` into `dir`; returns its path.
std::string write_program(const TempDir& dir, const std::string& name, const std::string& text) {
    std::string path = dir.write(name, text);
    ::chmod(path.c_str(), 0755);
    return path;
}

/// A shell program in `dir`: says its pid on the first line, then echoes lines.
std::string echo_program(const TempDir& dir) {
    return write_program(dir, "echo.sh",
                         "#!/bin/sh\n"
                         "echo \"pid $$\"\n"
                         "while read -r line; do echo \"$line\"; done\n");
}

/// `c10k inetd` on a free port of 127.0.0.1 with `flags`, running `program`. Unless the test
/// says otherwise, the stop ends the programs at once (--shutdown-grace 0), so that a test
/// that leaves clients connected does not wait out the grace at its end.
std::vector<std::string> inetd(std::vector<std::string> flags, std::vector<std::string> program) {
    std::vector<std::string> args{"inetd", "--listen", "127.0.0.1:0"};
    if (std::find(flags.begin(), flags.end(), "--shutdown-grace") == flags.end()) {
        args.insert(args.end(), {"--shutdown-grace", "0"});
    }
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), program.begin(), program.end());
    return args;
}

TEST(Inetd, EchoesLinesThroughAProgramPerConnection) {
    ServerProcess server(inetd({}, {"/bin/cat"}));
    Client client(server.port());
    ASSERT_TRUE(client.connected());
    client.send("hello\nworld\n");
    EXPECT_EQ(client.line(), "hello");
    EXPECT_EQ(client.line(), "world");
    client.finish();
    EXPECT_TRUE(client.closed_without_data());
    EXPECT_TRUE(wait_for_output(server, "status=0")) << server.output();
    EXPECT_NE(server.output().find("START: pid="), std::string::npos) << server.output();
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, TwoClientsAtOnceGetTheirOwnPrograms) {
    TempDir dir;
    ServerProcess server(inetd({}, {echo_program(dir)}));
    Client a(server.port());
    Client b(server.port());
    std::string pid_a = a.line();
    std::string pid_b = b.line();
    ASSERT_EQ(pid_a.rfind("pid ", 0), 0u) << pid_a;
    ASSERT_EQ(pid_b.rfind("pid ", 0), 0u) << pid_b;
    EXPECT_NE(pid_a, pid_b);
    b.send("from b\n");
    a.send("from a\n");
    EXPECT_EQ(a.line(), "from a");
    EXPECT_EQ(b.line(), "from b");
    EXPECT_EQ(server.stop(SIGINT), 0);  // SIGINT stops it as SIGTERM does
}

TEST(Inetd, MaxInstancesClosesTheExtraConnectionUntilASlotFrees) {
    TempDir dir;
    ServerProcess server(inetd({"--max-instances", "2", "--per-source", "0"}, {echo_program(dir)}));
    auto first = std::make_unique<Client>(server.port());
    Client second(server.port());
    ASSERT_NE(first->line(), "");
    ASSERT_NE(second.line(), "");
    Client extra(server.port());
    EXPECT_TRUE(extra.closed_without_data());
    EXPECT_TRUE(wait_for_output(server, "instances limit (2 running")) << server.output();
    // The first program ends: its slot serves the next connection.
    first->finish();
    EXPECT_TRUE(first->closed_without_data());
    first.reset();
    EXPECT_TRUE(wait_for_output(server, "EXIT: pid=")) << server.output();
    Client later(server.port());
    EXPECT_EQ(later.line().rfind("pid ", 0), 0u) << server.output();
    later.send("served\n");
    EXPECT_EQ(later.line(), "served");
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, PerSourceCapsOneAddressAndServesAnother) {
    TempDir dir;
    ServerProcess server(inetd({"--per-source", "1", "--max-instances", "0"}, {echo_program(dir)}));
    Client first(server.port(), "127.0.0.1");
    ASSERT_NE(first.line(), "");
    Client same_address(server.port(), "127.0.0.1");
    EXPECT_TRUE(same_address.closed_without_data());
    EXPECT_TRUE(wait_for_output(server, "per-source limit (1 running from 127.0.0.1"))
        << server.output();
    Client other_address(server.port(), "127.0.0.2");
    EXPECT_EQ(other_address.line().rfind("pid ", 0), 0u) << server.output();
    other_address.send("still served\n");
    EXPECT_EQ(other_address.line(), "still served");
    EXPECT_NE(server.output().find("from=127.0.0.2:"), std::string::npos) << server.output();
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, CpsStopsAcceptingAfterNConnectionsInASecondThenResumes) {
    TempDir dir;
    ServerProcess server(inetd({"--cps", "2:1"}, {echo_program(dir)}));
    // Three connections at once (the kernel completes them before the server accepts): the
    // third is one too many in that second.
    Client a(server.port());
    Client b(server.port());
    Client c(server.port());
    EXPECT_NE(a.line(), "");
    EXPECT_NE(b.line(), "");
    EXPECT_TRUE(c.closed_without_data());
    EXPECT_TRUE(wait_for_output(server, "more than 2 connections in a second")) << server.output();
    // A connection during the pause waits in the backlog and is served when it ends.
    Client later(server.port());
    EXPECT_EQ(later.line().rfind("pid ", 0), 0u) << server.output();
    EXPECT_TRUE(wait_for_output(server, "accepting again")) << server.output();
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, LogsEachExitWithItsStatusOrSignal) {
    TempDir dir;
    std::string program = write_program(dir, "ends.sh",
                                        "#!/bin/sh\n"
                                        "read -r how\n"
                                        "case \"$how\" in\n"
                                        "  status) exit 3 ;;\n"
                                        "  signal) kill -KILL $$ ;;\n"
                                        "esac\n");
    ServerProcess server(inetd({}, {program}));
    {
        Client client(server.port());
        client.send("status\n");
        EXPECT_TRUE(client.closed_without_data());
    }
    EXPECT_TRUE(wait_for_output(server, "status=3 duration=")) << server.output();
    {
        Client client(server.port());
        client.send("signal\n");
        EXPECT_TRUE(client.closed_without_data());
    }
    EXPECT_TRUE(wait_for_output(server, "signal=9 duration=")) << server.output();
    EXPECT_NE(server.output().find("from=127.0.0.1:"), std::string::npos);
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, TimeoutKillsAProgramThatRunsTooLong) {
    ServerProcess server(inetd({"--timeout", "200ms"}, {"/bin/sleep", "60"}));
    Client client(server.port());
    EXPECT_TRUE(client.closed_without_data());
    EXPECT_TRUE(wait_for_output(server, "signal=9 (--timeout)")) << server.output();
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, ProgramStartsWithNoSignalBlockedOrIgnored) {
    // grep itself is the program (a shell would show its own mask of the moment): the server
    // blocks SIGINT and SIGTERM and ignores SIGPIPE, and none of that may reach the program.
    ServerProcess server(inetd({}, {"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
    Client client(server.port());
    EXPECT_EQ(client.line(), "SigBlk:\t0000000000000000");
    EXPECT_EQ(client.line(), "SigIgn:\t0000000000000000");
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, ProgramGetsTheSocketACleanEnvironmentAndItsOwnGroup) {
    TempDir dir;
    std::string program = write_program(dir, "inspect.sh",
                                        "#!/bin/sh\n"
                                        "env | sort\n"
                                        "read -r pid comm state ppid pgrp rest < /proc/$$/stat\n"
                                        "echo \"group $pgrp of $$\"\n"
                                        "ls /proc/self/fd | tr '\\n' ' '\n"
                                        "echo\n"
                                        "echo to-stderr >&2\n");
    ServerProcess server(inetd({"--env", "GREETING=hi"}, {program}));
    Client client(server.port());
    std::vector<std::string> lines;
    for (std::string line = client.line(); !line.empty(); line = client.line()) {
        lines.push_back(line);
    }
    std::string all;
    for (const std::string& line : lines) all += line + "\n";
    EXPECT_NE(all.find("REMOTE_ADDR=127.0.0.1\n"), std::string::npos) << all;
    EXPECT_NE(all.find("REMOTE_PORT="), std::string::npos) << all;
    EXPECT_NE(all.find("TCPREMOTEIP=127.0.0.1\n"), std::string::npos) << all;
    EXPECT_NE(all.find("SERVER_PORT=" + std::to_string(server.port()) + "\n"), std::string::npos)
        << all;
    EXPECT_NE(all.find("GREETING=hi\n"), std::string::npos) << all;
    EXPECT_NE(all.find("PATH="), std::string::npos) << all;
    EXPECT_EQ(all.find("HOME="), std::string::npos) << "the server's environment leaked: " << all;
    // Its own process group, no signal blocked or ignored.
    bool own_group = false;
    for (const std::string& line : lines) {
        std::istringstream words(line);
        std::string word, group, of, pid;
        if (words >> word >> group >> of >> pid && word == "group") own_group = group == pid;
    }
    EXPECT_TRUE(own_group) << all;
    // ls sees the socket as 0, 1 and 2 and its own directory as 3: no descriptor of the
    // server's came along.
    EXPECT_NE(all.find("\n0 1 2 3 \n"), std::string::npos) << all;
    // Standard error goes to the client too, as xinetd does.
    EXPECT_NE(all.find("to-stderr\n"), std::string::npos) << all;
    EXPECT_EQ(server.stop(), 0);
}

/// The pids the programs wrote, one a line.
std::vector<pid_t> read_pids(const std::string& path) {
    std::vector<pid_t> pids;
    std::ifstream in(path);
    pid_t pid;
    while (in >> pid) pids.push_back(pid);
    return pids;
}

TEST(Inetd, SigtermEndsEveryProgramAndLeavesNoChild) {
    TempDir dir;
    std::string pids = dir.path() + "/pids";
    // One program that leaves at SIGTERM, one that ignores it and must be killed.
    std::string program = write_program(dir, "stays.sh",
                                        "#!/bin/sh\n"
                                        "read -r how\n"
                                        "if [ \"$how\" = stubborn ]; then trap '' TERM; fi\n"
                                        "echo $$ >> " +
                                            pids +
                                            "\n"
                                            "echo ready\n"
                                            "while true; do read -r line || sleep 1; done\n");
    ServerProcess server(inetd({"--shutdown-grace", "100ms"}, {program}));
    Client polite(server.port());
    Client stubborn(server.port());
    polite.send("polite\n");
    stubborn.send("stubborn\n");
    ASSERT_EQ(polite.line(), "ready");
    ASSERT_EQ(stubborn.line(), "ready");
    std::vector<pid_t> children = read_pids(pids);
    ASSERT_EQ(children.size(), 2u);
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
    for (pid_t child : children) {
        EXPECT_NE(::kill(child, 0), 0) << "pid " << child << " is still there";
        EXPECT_EQ(errno, ESRCH);
    }
    EXPECT_TRUE(polite.closed_without_data());
    EXPECT_TRUE(stubborn.closed_without_data());
    std::string output = server.output();
    EXPECT_NE(output.find("SIGTERM to 2 programs"), std::string::npos) << output;
    EXPECT_NE(output.find("SIGKILL to 1 program"), std::string::npos) << output;
    EXPECT_EQ(occurrences(output, "EXIT: pid="), 2u) << output;
}

TEST(Inetd, AtTheStopNewConnectionsAreRefusedAndRunningOnesFinish) {
    TempDir dir;
    ServerProcess server(inetd({"--shutdown-grace", "60s"}, {echo_program(dir)}));
    Client running(server.port());
    ASSERT_NE(running.line(), "");
    ::kill(server.pid(), SIGTERM);
    ASSERT_TRUE(wait_for_output(server, "stopping: not accepting")) << server.output();
    Client refused(server.port());
    EXPECT_FALSE(refused.connected());
    EXPECT_EQ(refused.error(), ECONNREFUSED);
    running.send("still here\n");
    EXPECT_EQ(running.line(), "still here");
    running.finish();
    EXPECT_TRUE(running.closed_without_data());
    // The last program ended by itself: the server exits without waiting out the grace.
    EXPECT_TRUE(wait_for_output(server, "c10k: stopped")) << server.output();
    EXPECT_EQ(server.stop(), 0);
}

TEST(Inetd, BadFlagsSayWhatIsWrongAndExitWith2) {
    struct Case {
        std::vector<std::string> args;
        const char* expected;
    };
    for (const Case& c : std::vector<Case>{
             {{"inetd", "--listen", "127.0.0.1:0", "--"}, "no program to run"},
             {{"inetd", "--listen", "127.0.0.1:0"}, "no program to run"},
             {{"inetd", "--", "/bin/cat"}, "--listen: give the address"},
             {{"inetd", "--listen", "nonsense", "--", "/bin/cat"}, "HOST:PORT"},
             {{"inetd", "--listen", "127.0.0.1:0", "--max-instances", "many", "--", "/bin/cat"},
              "--max-instances 'many': not a number"},
             {{"inetd", "--listen", "127.0.0.1:0", "--per-source", "-1", "--", "/bin/cat"},
              "--per-source '-1': not a number"},
             {{"inetd", "--listen", "127.0.0.1:0", "--cps", "ten:5", "--", "/bin/cat"},
              "--cps 'ten': not a number"},
             {{"inetd", "--listen", "127.0.0.1:0", "--cps", "10:soon", "--", "/bin/cat"},
              "--cps: 'soon' is not a duration"},
             {{"inetd", "--listen", "127.0.0.1:0", "--timeout", "long", "--", "/bin/cat"},
              "--timeout"},
             {{"inetd", "--listen", "127.0.0.1:0", "--", "no-such-program-c10k"},
              "not found in PATH"},
             {{"inetd", "--listen", "127.0.0.1:0", "--", "/no/such/file"},
              "no such executable file"},
             {{"inetd", "--listen", "127.0.0.1:0", "--env", "REMOTE_ADDR=x", "--", "/bin/cat"},
              "set by c10k inetd for each connection"},
         }) {
        CommandResult r = run_command(c.args);
        EXPECT_EQ(r.status, 2) << c.expected << ": " << r.output;
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("serving"), std::string::npos) << "started anyway: " << r.output;
    }
}

TEST(Inetd, HelpNamesEveryFlagAndTheProgram) {
    CommandResult r = run_command({"inetd", "--help"});
    EXPECT_EQ(r.status, 0);
    for (const char* flag : {"--listen", "--max-instances", "--per-source", "--cps", "--timeout",
                             "--shutdown-grace", "--env", "PROGRAM"}) {
        EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
    }
    CommandResult top = run_command({"--help"});
    EXPECT_NE(top.output.find("inetd"), std::string::npos) << top.output;
}

}  // namespace
}  // namespace c10k::test

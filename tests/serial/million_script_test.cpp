// bench/million.sh (issue 16, "C1M on one machine") at 50,000 connections, so that the script
// does not rot between the rare runs at a million: it must find the limits sufficient without
// root, spread the server over processes, hold every connection for the hold time and say so in
// its last line. Excluded from the sanitizer runs (Makefile SANITIZE_EXCLUDE): 50,000
// connections under a sanitizer measure nothing and take minutes.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace c10k::test {
namespace {

bool can_bind(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

/// A port P with P+1 and P+2 free too (the script listens on P, publishes on P+1, reads the
/// server's metrics on P+2), below the ephemeral range so that no client connection takes one.
int free_port_triple() {
    int start = 21000 + (::getpid() % 3000) * 3;
    for (int i = 0; i < 3000; ++i) {
        int port = 21000 + (start - 21000 + i * 3) % 9000;
        if (can_bind(port) && can_bind(port + 1) && can_bind(port + 2)) return port;
    }
    return 0;
}

std::string last_line(const std::string& output) {
    std::string text = output;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    auto newline = text.rfind('\n');
    return newline == std::string::npos ? text : text.substr(newline + 1);
}

std::string script_path() {
    return std::string(C10K_SOURCE_DIR) + "/bench/million.sh";
}

TEST(MillionScript, BadOptionsSayWhatIsWrongBeforeStartingAnything) {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    std::vector<Case> cases = {
        {{"--connections", "many"}, "--connections must be a whole number of at least 1"},
        {{"--hold", "0"}, "--hold must be a whole number of at least 1"},
        {{"--connections", "50000", "--processes", "1"}, "use --processes"},
        {{"--sse", "--rate", "10"}, "--rate is for request runs"},
        {{"--frobnicate"}, "unknown option --frobnicate"},
        {{"--sndbuf", "0"}, "--sndbuf must be a size in bytes above 0 (e.g. 65536, 64k or 4m)"},
        {{"--rcvbuf", "8kb"}, "--rcvbuf must be a size in bytes above 0"},
        {{"--message-size", "16384"}, "--message-size is for --sse runs"},
        {{"--sse", "--message-size", "8"}, "--message-size must be a whole number of at least 16"},
        {{"--binary", "/nonexistent/c10k"}, "no c10k binary at /nonexistent/c10k"},
    };
    for (const auto& c : cases) {
        // Should a check ever let a case through, --limits-only (the case's own options coming
        // later win) stops the script before it starts anything.
        std::vector<std::string> args{script_path(), "--connections", "1000", "--limits-only"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        if (c.args[0] != "--binary") {
            args.push_back("--binary");
            args.push_back(binary_path());
        }
        CommandResult run = run_program("/bin/bash", args, 30'000);
        SCOPED_TRACE(c.args[0]);
        EXPECT_EQ(run.status, 2) << run.output;
        EXPECT_NE(run.output.find(c.message), std::string::npos) << run.output;
    }
}

TEST(MillionScript, HoldsFiftyThousandConnectionsWithoutErrors) {
    TempDir out;
    int port = free_port_triple();
    ASSERT_NE(port, 0) << "no three free ports in 21000-29999";
    std::string script = script_path();
    ASSERT_TRUE(std::filesystem::exists(script)) << script;
    // Opening 50,000 connections takes a few seconds; the bound covers a loaded machine.
    CommandResult run =
        run_program("/bin/bash",
                    {script, "--connections", "50000", "--hold", "5", "--binary", binary_path(),
                     "--port", std::to_string(port), "--out", out.path()},
                    240'000);
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(last_line(run.output), "50000 connections held for 5 s, 0 errors") << run.output;
    // The budget table and the raw JSON are part of what the script promises.
    EXPECT_NE(run.output.find("per-connection memory budget"), std::string::npos) << run.output;
    EXPECT_TRUE(std::filesystem::exists(out.path() + "/bench.json")) << run.output;
}

}  // namespace
}  // namespace c10k::test

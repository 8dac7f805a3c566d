// `c10k serve --sndbuf/--rcvbuf` and `c10k bench --sndbuf/--rcvbuf` as a user meets them: bad
// sizes refused with what to write instead (from the command line and from a config file), a
// server with small buffers serving, and a size above the kernel's cap warned about, naming the
// sysctl to raise, with no failure. (What the sizes do to the sockets: unit/engine and
// unit/bench.)

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// One byte more than net.core.rmem_max: a size the kernel caps, whatever the machine's cap.
std::string above_receive_cap() {
    long cap = 0;
    std::ifstream("/proc/sys/net/core/rmem_max") >> cap;
    EXPECT_GT(cap, 0);
    EXPECT_LT(cap, 1L << 30) << "net.core.rmem_max is above the largest size the flags take";
    return std::to_string(cap + 1);
}

TEST(SocketBuffers, BadSizesAreRefusedWithWhatToWriteInstead) {
    struct Case {
        std::vector<std::string> args;
        const char* expected;
    };
    for (const Case& c : std::vector<Case>{
             {{"serve", "--sndbuf", "0"}, "--sndbuf '0': give a size in bytes above 0"},
             {{"serve", "--rcvbuf", "-4096"}, "--rcvbuf '-4096': give a size in bytes above 0"},
             {{"serve", "--rcvbuf", "lots"}, "--rcvbuf 'lots' is not a size"},
             {{"serve", "--sndbuf", "8kb"}, "--sndbuf '8kb' is not a size"},
             {{"serve", "--sndbuf", "2048m"}, "above the 1 GiB"},
             {{"serve", "-t", "--rcvbuf", "0"}, "--rcvbuf '0'"},
             {{"proxy", "--backend", "127.0.0.1:1", "--sndbuf", "none"}, "--sndbuf 'none'"},
             {{"bench", "http://127.0.0.1:1/", "--sndbuf", "0"}, "give a size in bytes above 0"},
             {{"bench", "http://127.0.0.1:1/", "--rcvbuf", "big"}, "'big' is not a size"},
         }) {
        std::vector<std::string> args = c.args;
        if (args[0] != "bench") args.insert(args.end(), {"--listen", "127.0.0.1:0"});
        CommandResult r = run_command(args);
        EXPECT_NE(r.status, 0) << r.output;
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << args[2] << ": " << r.output;
        EXPECT_NE(r.output.find("e.g. 65536, 64k or 4m"), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("serving"), std::string::npos) << "started anyway: " << r.output;
        if (args[0] == "bench") {
            EXPECT_NE(r.output.find(args[2]), std::string::npos) << "no flag named: " << r.output;
        }
    }
}

TEST(SocketBuffers, AConfigFileSizeIsCheckedAndABadOneNamesItsLine) {
    TempDir dir;
    // A size is a string with its suffix or a plain number of bytes, as nginx's sndbuf=16k.
    std::string good = dir.write("good.toml", "[server]\nsndbuf = \"16k\"\nrcvbuf = 65536\n");
    CommandResult ok = run_command({"serve", "-t", "--config", good, "--root", dir.path()});
    EXPECT_EQ(ok.status, 0) << ok.output;
    std::string zero = dir.write("zero.toml", "[server]\nsndbuf = 0\n");
    CommandResult none = run_command({"serve", "-t", "--config", zero, "--root", dir.path()});
    EXPECT_EQ(none.status, 1) << none.output;
    EXPECT_NE(none.output.find(zero + ":2: [server] sndbuf: --sndbuf '0'"), std::string::npos)
        << none.output;
    std::string wrong = dir.write("wrong.toml", "[server]\nsndbuf = true\n");
    CommandResult typed = run_command({"serve", "-t", "--config", wrong, "--root", dir.path()});
    EXPECT_EQ(typed.status, 1) << typed.output;
    EXPECT_NE(typed.output.find("a number of bytes, or a string such as \"64k\""),
              std::string::npos)
        << typed.output;
    std::string bad = dir.write("bad.toml", "[server]\nthreads = 1\nrcvbuf = \"0\"\n");
    CommandResult refused = run_command({"serve", "-t", "--config", bad, "--root", dir.path()});
    EXPECT_EQ(refused.status, 1) << refused.output;
    EXPECT_NE(refused.output.find(bad + ":3: [server] rcvbuf: --rcvbuf '0'"), std::string::npos)
        << refused.output;
}

TEST(SocketBuffers, AServerWithSmallBuffersServesAndWarnsOnlyAboutACappedSize) {
    TempDir root;
    root.write("hello.txt", std::string(100'000, 'x'));  // more than either buffer holds
    {
        ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0",
                              "--threads", "2", "--sndbuf", "16k", "--rcvbuf", "8k"});
        EXPECT_EQ(fetch(server.port(), "/hello.txt").body.size(), 100'000u);
        EXPECT_EQ(server.stop(), 0);
        EXPECT_EQ(server.output().find("rmem_max"), std::string::npos) << server.output();
        EXPECT_EQ(server.output().find("wmem_max"), std::string::npos) << server.output();
    }
    std::string too_big = above_receive_cap();
    ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads",
                          "1", "--rcvbuf", too_big});
    EXPECT_EQ(fetch(server.port(), "/hello.txt").body.size(), 100'000u);
    EXPECT_EQ(server.stop(), 0);
    std::string output = server.output();
    EXPECT_NE(output.find("sysctl -w net.core.rmem_max=" + too_big), std::string::npos) << output;
    EXPECT_EQ(output.find("wmem_max"), std::string::npos) << output;
}

TEST(SocketBuffers, BenchConnectsWithTheSizesAndWarnsAboutACappedOne) {
    TempDir root;
    root.write("index.html", "<p>hello</p>\n");
    ServerProcess server(
        {"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/index.html";
    CommandResult sized = run_command(
        {"bench", url, "-c", "2", "-d", "500ms", "-q", "--sndbuf", "16k", "--rcvbuf", "16k"});
    EXPECT_EQ(sized.status, 0) << sized.output;
    EXPECT_EQ(sized.output.find("warning"), std::string::npos) << sized.output;
    std::string too_big = above_receive_cap();
    CommandResult capped =
        run_command({"bench", url, "-c", "2", "-d", "500ms", "-q", "--rcvbuf", too_big});
    EXPECT_EQ(capped.status, 0) << capped.output;
    EXPECT_NE(capped.output.find("c10k bench: warning: --sndbuf/--rcvbuf: SO_RCVBUF"),
              std::string::npos)
        << capped.output;
    EXPECT_NE(capped.output.find("sysctl -w net.core.rmem_max=" + too_big), std::string::npos)
        << capped.output;
    EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace c10k::test

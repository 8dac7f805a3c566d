// `c10k serve` as a user meets it: the ready line, --help, bad flags, busy ports, bad roots,
// IPv6, several listeners, threads.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

TEST(ServeCli, HelpExplainsEveryFlagWithItsDefault) {
    CommandResult r = run_command({"serve", "--help"});
    EXPECT_EQ(r.status, 0);
    for (const char* flag :
         {"--root", "--listen", "--engine", "--threads", "--max-connections", "--header-timeout",
          "--keepalive-timeout", "--send-timeout", "--access-log", "--max-header-bytes"}) {
        EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
    }
    EXPECT_NE(r.output.find("127.0.0.1:8080"), std::string::npos);
    EXPECT_NE(r.output.find("10s"), std::string::npos);
}

TEST(ServeCli, UnknownFlagFailsWithAMessage) {
    CommandResult r = run_command({"serve", "--no-such-flag"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--no-such-flag"), std::string::npos) << r.output;
}

TEST(ServeCli, BadValuesFailWithMessagesThatSayWhatIsWrong) {
    struct Case {
        std::vector<std::string> args;
        const char* expected;
    };
    TempDir dir;
    for (const Case& c : std::vector<Case>{
             {{"serve", "--listen", "nonsense"}, "HOST:PORT"},
             {{"serve", "--listen", "127.0.0.1:99999"}, "port"},
             {{"serve", "--engine", "bogus"}, "unknown engine 'bogus'"},
             {{"serve", "--header-timeout", "ten"}, "--header-timeout"},
             {{"serve", "--threads", "0"}, "--threads"},
             {{"serve", "--root", dir.path() + "/missing"}, "missing"},
             {{"serve", "--access-log", dir.path() + "/no/such/dir/log"}, "access log"},
         }) {
        std::vector<std::string> args = c.args;
        if (args[1] != "--listen") {
            args.push_back("--listen");
            args.push_back("127.0.0.1:0");
        }
        CommandResult r = run_command(args);
        EXPECT_NE(r.status, 0) << args[1];
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << args[1] << ": " << r.output;
        EXPECT_EQ(r.output.find("serving"), std::string::npos) << "started anyway: " << r.output;
    }
}

TEST(ServeCli, RootThatIsAFileIsRefused) {
    TempDir dir;
    std::string file = dir.write("file.txt", "x");
    CommandResult r = run_command({"serve", "--root", file, "--listen", "127.0.0.1:0"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("file.txt"), std::string::npos) << r.output;
}

TEST(ServeCli, BusyPortIsReportedClearly) {
    ServerProcess first({"serve", "--listen", "127.0.0.1:0", "--threads", "1"});
    std::string address = "127.0.0.1:" + std::to_string(first.port());
    CommandResult r = run_command({"serve", "--listen", address, "--threads", "1"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("cannot listen on " + address), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("in use"), std::string::npos) << r.output;
    EXPECT_EQ(first.stop(), 0);
}

TEST(ServeCli, ServesTheDemoSiteByDefaultAndSaysWhere) {
    ServerProcess server({"serve", "--listen", "127.0.0.1:0", "--threads", "2"});
    EXPECT_NE(server.output().find("http://127.0.0.1:" + std::to_string(server.port()) + "/"),
              std::string::npos);
    HttpResponse r = fetch(server.port(), "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("c10k"), std::string::npos);
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServeCli, ListensOnIpv6AndSeveralAddresses) {
    TempDir dir;
    dir.write("root/x.txt", "x");
    ServerProcess server(
        {"serve", "--root", dir.path() + "/root", "--listen", "127.0.0.1:0", "--threads", "1"});
    // A second listener on IPv6 loopback in another process (the first line names one port).
    ServerProcess v6(
        {"serve", "--root", dir.path() + "/root", "--listen", "[::1]:0", "--threads", "1"});
    EXPECT_NE(v6.output().find("http://[::1]:"), std::string::npos) << v6.output();
    HttpClient client(v6.port(), "::1");
    client.send_get("/x.txt");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "x");
    EXPECT_EQ(v6.stop(), 0);
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServeCli, SigintAlsoStopsCleanly) {
    ServerProcess server({"serve", "--listen", "127.0.0.1:0", "--threads", "2"});
    EXPECT_EQ(fetch(server.port(), "/").status, 200);
    EXPECT_EQ(server.stop(SIGINT), 0);
}

TEST(ServeCli, MaxConnectionsAnswersTheExcessWith503) {
    ServerProcess server(
        {"serve", "--listen", "127.0.0.1:0", "--threads", "1", "--max-connections", "2"});
    HttpClient a(server.port());
    HttpClient b(server.port());
    a.send_get("/");
    b.send_get("/");
    HttpResponse r;
    ASSERT_TRUE(a.read_response(r));
    ASSERT_TRUE(b.read_response(r));
    HttpClient c(server.port());
    ASSERT_TRUE(c.read_response(r));
    EXPECT_EQ(r.status, 503);
    EXPECT_FALSE(r.header("Retry-After").empty());
    EXPECT_TRUE(c.wait_closed());
    a.send_get("/");  // established clients are unaffected
    ASSERT_TRUE(a.read_response(r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace c10k::test

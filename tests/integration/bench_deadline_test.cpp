// `c10k bench --deadline`: 200 responses within the deadline of their intended send count as
// good, slower ones do not, and the p99 of the 200s is reported apart. The server burns a set
// CPU time per request (--synthetic-cost), so that "slower than 1 ms" holds by construction
// and no test asserts how fast anything ran.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/server_process.hpp"

namespace c10k::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

double number(const std::string& json, const std::string& key) {
    std::smatch match;
    std::regex pattern("\"" + key + "\": ([-0-9.]+)");
    if (!std::regex_search(json, match, pattern)) return -1;
    return std::stod(match[1]);
}

TEST(BenchDeadline, CountsOnlyTwoHundredsWithinTheDeadline) {
    TempDir root;
    root.write("index.html", "<p>hello</p>\n");
    ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads",
                          "1", "--synthetic-cost", "/cost"});
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    TempDir out;
    // Each request burns 5 ms: none can complete within 1 ms of its send.
    CommandResult slow =
        run_command({"bench", base + "/cost/5000", "-c", "1", "-d", "500ms", "--deadline", "1ms",
                     "--json", out.path() + "/slow.json", "-q"});
    ASSERT_EQ(slow.status, 0) << slow.output;
    std::string json = slurp(out.path() + "/slow.json");
    EXPECT_GT(number(json, "requests"), 0) << json;
    EXPECT_EQ(number(json, "good"), 0) << json;
    EXPECT_EQ(number(json, "deadline_s"), 0.001) << json;
    EXPECT_GE(number(json, "count"), 1);  // the histograms, ok_latency_us among them
    EXPECT_NE(slow.output.find("Goodput: 0 responses 200 within"), std::string::npos)
        << slow.output;

    // A generous deadline: every 200 is good; the 404s of a missing page never are.
    CommandResult fast =
        run_command({"bench", base + "/index.html", base + "/missing", "-c", "2", "-d", "500ms",
                     "--deadline", "30s", "--json", out.path() + "/fast.json", "-q"});
    ASSERT_EQ(fast.status, 0) << fast.output;
    json = slurp(out.path() + "/fast.json");
    std::smatch ok;
    ASSERT_TRUE(std::regex_search(json, ok, std::regex("\"200\": ([0-9]+)"))) << json;
    EXPECT_EQ(number(json, "good"), std::stod(ok[1])) << json;
    EXPECT_NE(json.find("\"404\""), std::string::npos) << json;
}

TEST(BenchDeadline, WithoutTheFlagTheMemberIsNullAndABadValueIsRefused) {
    TempDir root;
    root.write("index.html", "<p>hello</p>\n");
    ServerProcess server({"serve", "--root", root.path(), "--listen", "127.0.0.1:0"});
    TempDir out;
    CommandResult plain =
        run_command({"bench", "http://127.0.0.1:" + std::to_string(server.port()) + "/index.html",
                     "-c", "1", "-d", "500ms", "--json", out.path() + "/r.json", "-q"});
    ASSERT_EQ(plain.status, 0) << plain.output;
    EXPECT_NE(slurp(out.path() + "/r.json").find("\"deadline\": null"), std::string::npos);
    CommandResult bad = run_command({"bench", "http://127.0.0.1:1/", "--deadline", "soon"});
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--deadline"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace c10k::test

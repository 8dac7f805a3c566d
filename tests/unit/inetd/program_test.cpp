// The programs' environment: what --env sets and passes, the fixed PATH, and the
// per-connection variables that --env may not take over.

#include <gtest/gtest.h>

#include <cstring>

#include "inetd/program.hpp"

namespace c10k::inetd {
namespace {

const char* server_environment(const char* name) {
    if (std::strcmp(name, "LANG") == 0) return "C.UTF-8";
    if (std::strcmp(name, "PATH") == 0) return "/opt/server/bin";
    return nullptr;
}

TEST(FixedEnvironment, OnlyAFixedPathWithoutEnvFlags) {
    std::vector<std::string> out;
    std::string error;
    ASSERT_TRUE(fixed_environment({}, server_environment, out, error));
    EXPECT_EQ(out, std::vector<std::string>{default_path});
}

TEST(FixedEnvironment, SetsAndPassesAsXinetdEnvAndPassenv) {
    std::vector<std::string> out;
    std::string error;
    ASSERT_TRUE(fixed_environment({"GREETING=hi there", "LANG", "UNSET_HERE", "EMPTY="},
                                  server_environment, out, error));
    EXPECT_EQ(out, (std::vector<std::string>{default_path, "GREETING=hi there", "LANG=C.UTF-8",
                                             "EMPTY="}));
}

TEST(FixedEnvironment, PathSetOrPassedReplacesTheFixedOne) {
    std::vector<std::string> out;
    std::string error;
    ASSERT_TRUE(fixed_environment({"PATH"}, server_environment, out, error));
    EXPECT_EQ(out, std::vector<std::string>{"PATH=/opt/server/bin"});
    ASSERT_TRUE(fixed_environment({"PATH=/bin"}, server_environment, out, error));
    EXPECT_EQ(out, std::vector<std::string>{"PATH=/bin"});
}

TEST(FixedEnvironment, RefusesWhatIsNoNameAndThePerConnectionNames) {
    std::vector<std::string> out;
    std::string error;
    EXPECT_FALSE(fixed_environment({"=value"}, server_environment, out, error));
    EXPECT_NE(error.find("expected NAME=VALUE or NAME"), std::string::npos) << error;
    EXPECT_FALSE(fixed_environment({"TWO WORDS=x"}, server_environment, out, error));
    // Every name environment() sets for a connection is refused.
    Peers peers{"127.0.0.1", 5555, "127.0.0.1", 7000};
    for (const std::string& entry : environment(Program{}, peers)) {
        std::string name = entry.substr(0, entry.find('='));
        error.clear();
        EXPECT_FALSE(fixed_environment({name + "=x"}, server_environment, out, error)) << name;
        EXPECT_NE(error.find("set by c10k inetd for each connection"), std::string::npos) << error;
    }
}

TEST(Environment, ConnectionVariablesFollowTheFixedOnes) {
    Program program;
    program.environment = {default_path, "GREETING=hi"};
    Peers peers{"::1", 40000, "::1", 7000};
    std::vector<std::string> env = environment(program, peers);
    EXPECT_EQ(env, (std::vector<std::string>{
                       default_path, "GREETING=hi", "REMOTE_ADDR=::1", "REMOTE_PORT=40000",
                       "SERVER_ADDR=::1", "SERVER_PORT=7000", "PROTO=TCP", "TCPREMOTEIP=::1",
                       "TCPREMOTEPORT=40000", "TCPLOCALIP=::1", "TCPLOCALPORT=7000"}));
}

}  // namespace
}  // namespace c10k::inetd

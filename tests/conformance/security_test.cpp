// Nothing outside the root is ever served: traversal in every spelling, symlinks, dotfiles.

#include "conformance/conformance.hpp"
#include "engine/engine.hpp"

namespace c10k::test {
namespace {

class Security : public EngineTest {
protected:
    void expect_not_served(const std::string& target) {
        HttpClient client(port());
        client.send("GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        HttpResponse r;
        ASSERT_TRUE(client.read_response(r)) << target << ": " << client.error();
        EXPECT_NE(r.status, 200) << target;
        EXPECT_EQ(r.body.find("TOP-SECRET"), std::string::npos) << target;
    }
};

TEST_P(Security, TraversalNeverReachesTheSecretBesideTheRoot) {
    start();
    for (const char* target :
         {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
          "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
          "/sub%2f..%2f..%2fsecret.txt", "/..\\secret.txt", "/.%2e/secret.txt",
          "/%252e%252e/secret.txt", "/a.txt%00/../../secret.txt", "//../secret.txt",
          "/./../secret.txt", "/link-out.txt"}) {
        expect_not_served(target);
    }
}

TEST_P(Security, SymlinkOutOfTheRootIsRefusedEvenWhenFollowingLinks) {
    start({"--follow-symlinks"});
    expect_not_served("/link-out.txt");
    EXPECT_EQ(fetch(port(), "/a.txt").status, 200);
}

TEST_P(Security, DotfilesAreNotServedByDefault) {
    start();
    EXPECT_EQ(fetch(port(), "/.hidden").status, 404);
}

TEST_P(Security, DotfilesCanBeAllowed) {
    start({"--serve-dotfiles"});
    HttpResponse r = fetch(port(), "/.hidden");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "dotfile\n");
}

INSTANTIATE_TEST_SUITE_P(AllEngines, Security, ::testing::ValuesIn(engine::available()),
                         engine_test_name);

}  // namespace
}  // namespace c10k::test

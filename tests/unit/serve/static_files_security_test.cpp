// StaticFiles must never serve anything outside its root: not through "..", not through encoded
// dots or slashes, not through symlinks (followed or not), not after a cached file is swapped.

#include <string>
#include <vector>

#include "serve/static_files.hpp"
#include "test_tree.hpp"

namespace c10k::serve {
namespace {

using testing::body_of;
using testing::get;
using testing::options_for;
using testing::TempTree;

constexpr std::string_view kSecret = "TOP SECRET";

class StaticFilesSecurityTest : public ::testing::TestWithParam<bool> {
protected:
    StaticFilesSecurityTest() {
        tree_.write("index.html", "home");
        tree_.write("real.txt", "real");
        tree_.write("d/x.txt", "x in d");
        tree_.symlink("../secret.txt", "link-out.txt");
        tree_.symlink(tree_.base() + "/secret.txt", "link-absolute.txt");
        tree_.symlink("..", "up");
        tree_.symlink("real.txt", "alias.txt");
        tree_.symlink("d", "d-alias");
        tree_.symlink("../../secret.txt", "d/deep-out.txt");
        tree_.write("idx/other.txt", "other");
        tree_.symlink("../../secret.txt", "idx/index.html");
    }

    StaticOptions options() const {
        StaticOptions result = options_for(tree_);
        result.follow_symlinks = GetParam();
        return result;
    }

    /// Status of a GET, failing the test outright if the secret ever comes back.
    int status_of(StaticFiles& handler, std::string_view target) {
        http::Response response = get(handler, target);
        EXPECT_EQ(body_of(response).find(kSecret), std::string::npos) << target;
        return response.status();
    }

    TempTree tree_;
};

TEST_P(StaticFilesSecurityTest, DotDotIsRejected) {
    StaticFiles handler(options());
    for (std::string_view target :
         {"/../secret.txt", "/d/../../secret.txt", "/./../secret.txt", "/d/./../../secret.txt"}) {
        EXPECT_EQ(status_of(handler, target), 400) << target;
    }
}

TEST_P(StaticFilesSecurityTest, EncodedTraversalIsRejected) {
    StaticFiles handler(options());
    for (std::string_view target :
         {"/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
          "/d%2f..%2f..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/d/%2e%2e/%2e%2e/secret.txt"}) {
        EXPECT_EQ(status_of(handler, target), 400) << target;
    }
}

TEST_P(StaticFilesSecurityTest, DoubleEncodingStaysLiteral) {
    StaticFiles handler(options());
    EXPECT_EQ(status_of(handler, "/%252e%252e/secret.txt"), 404);
    EXPECT_EQ(status_of(handler, "/%252e%252e%252fsecret.txt"), 404);
}

TEST_P(StaticFilesSecurityTest, BackslashesAreNotSeparators) {
    StaticFiles handler(options());
    EXPECT_EQ(status_of(handler, "/..\\secret.txt"), 404);
    EXPECT_EQ(status_of(handler, "/%5c..%5csecret.txt"), 404);
}

TEST_P(StaticFilesSecurityTest, SymlinksPointingOutAreRefused) {
    StaticFiles handler(options());
    for (std::string_view target : {"/link-out.txt", "/link-absolute.txt", "/up/secret.txt",
                                    "/up/root/real.txt", "/d/deep-out.txt", "/idx/"}) {
        EXPECT_EQ(status_of(handler, target), 404) << target;
    }
}

TEST_P(StaticFilesSecurityTest, SymlinksInsideFollowOnlyWhenAllowed) {
    StaticFiles handler(options());
    bool follow = GetParam();
    http::Response alias = get(handler, "/alias.txt");
    EXPECT_EQ(alias.status(), follow ? 200 : 404);
    if (follow) {
        EXPECT_EQ(body_of(alias), "real");
    }
    EXPECT_EQ(status_of(handler, "/d-alias/x.txt"), follow ? 200 : 404);
    // The real files are served either way.
    EXPECT_EQ(status_of(handler, "/real.txt"), 200);
    EXPECT_EQ(status_of(handler, "/d/x.txt"), 200);
}

TEST_P(StaticFilesSecurityTest, CachedFileSwappedForSymlinkIsNotFollowedOut) {
    StaticOptions opts = options();
    opts.cache_validate_ms = 0;
    StaticFiles handler(opts);
    tree_.write("swap.txt", "innocent");
    EXPECT_EQ(status_of(handler, "/swap.txt"), 200);
    ASSERT_EQ(::unlink(tree_.path("swap.txt").c_str()), 0);
    tree_.symlink("../secret.txt", "swap.txt");
    EXPECT_EQ(status_of(handler, "/swap.txt"), 404);
}

TEST_P(StaticFilesSecurityTest, LargeFilesAreCheckedToo) {
    StaticOptions opts = options();
    opts.cache_max_file_bytes = 0;  // every file takes the open-per-request path
    StaticFiles handler(opts);
    EXPECT_EQ(status_of(handler, "/link-out.txt"), 404);
    EXPECT_EQ(status_of(handler, "/up/secret.txt"), 404);
    EXPECT_EQ(status_of(handler, "/%2e%2e/secret.txt"), 400);
    EXPECT_EQ(status_of(handler, "/real.txt"), 200);
}

INSTANTIATE_TEST_SUITE_P(FollowSymlinks, StaticFilesSecurityTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? "follow" : "no_follow";
                         });

}  // namespace
}  // namespace c10k::serve

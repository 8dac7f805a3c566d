// StaticFiles: methods, headers, directories, index.html, dotfiles and odd file types.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <functional>

#include "http/date.hpp"
#include "serve/static_files.hpp"
#include "test_tree.hpp"

namespace c10k::serve {
namespace {

using testing::body_of;
using testing::call;
using testing::get;
using testing::header_of;
using testing::options_for;
using testing::TempTree;

class StaticFilesTest : public ::testing::Test {
protected:
    TempTree tree_;
};

TEST_F(StaticFilesTest, ServesFileWithHeaders) {
    tree_.write("hello.txt", "hello, world\n");
    tree_.set_mtime("hello.txt", 1'700'000'000);
    StaticFiles handler(options_for(tree_));
    http::Response response = get(handler, "/hello.txt");
    EXPECT_EQ(response.status(), 200);
    EXPECT_EQ(body_of(response), "hello, world\n");
    EXPECT_EQ(header_of(response, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(header_of(response, "ETag"), "\"6553f100-d\"");
    EXPECT_EQ(header_of(response, "Last-Modified"), http::format_http_date(1'700'000'000));
    EXPECT_EQ(header_of(response, "Accept-Ranges"), "bytes");
    // The Session owns these.
    for (const char* name : {"Date", "Server", "Content-Length", "Connection"}) {
        EXPECT_EQ(header_of(response, name), "<absent>") << name;
    }
}

TEST_F(StaticFilesTest, NoCacheSendsSmallFilesFromTheFileEveryTime) {
    tree_.write("hello.txt", "hello, world\n");
    StaticOptions options = options_for(tree_);
    options.cache = false;  // --no-cache
    StaticFiles handler(options);
    for (int i = 0; i < 2; ++i) {
        http::Response response = get(handler, "/hello.txt");
        EXPECT_EQ(response.status(), 200);
        // An open file, not bytes in memory; the engine sends it (sendfile or read and write).
        ASSERT_EQ(response.body_kind(), http::Response::BodyKind::file);
        EXPECT_EQ(response.body_length(), 13u);
    }
    EXPECT_EQ(handler.cache_stats().hits, 0u);
    EXPECT_EQ(handler.cache_stats().entries, 0u);
}

TEST_F(StaticFilesTest, QueryStringIsNotPartOfThePath) {
    tree_.write("a.css", "body{}");
    StaticFiles handler(options_for(tree_));
    http::Response response = get(handler, "/a.css?v=3");
    EXPECT_EQ(response.status(), 200);
    EXPECT_EQ(header_of(response, "Content-Type"), "text/css; charset=utf-8");
}

TEST_F(StaticFilesTest, HeadGetsSameStatusHeadersAndLength) {
    tree_.write("page.html", "<p>hi</p>");
    StaticFiles handler(options_for(tree_));
    http::Response get_response = get(handler, "/page.html");
    http::Response head_response = call(handler, http::Method::head, "/page.html");
    EXPECT_EQ(head_response.status(), 200);
    EXPECT_EQ(head_response.header_lines(), get_response.header_lines());
    EXPECT_EQ(head_response.body_length(), 9u);
}

TEST_F(StaticFilesTest, OtherMethodsGet405WithAllow) {
    tree_.write("a.txt", "a");
    StaticFiles handler(options_for(tree_));
    for (http::Method method : {http::Method::post, http::Method::put, http::Method::delete_,
                                http::Method::options, http::Method::patch, http::Method::other}) {
        http::Response response = call(handler, method, "/a.txt");
        EXPECT_EQ(response.status(), 405);
        EXPECT_EQ(header_of(response, "Allow"), "GET, HEAD");
        EXPECT_EQ(header_of(response, "Content-Type"), "text/html; charset=utf-8");
        EXPECT_NE(body_of(response).find("405"), std::string::npos);
    }
}

TEST_F(StaticFilesTest, BadPathsGet400) {
    StaticFiles handler(options_for(tree_));
    for (std::string_view target : {"/a%zz", "/a%00b", "/..", "relative", "/%", "*"}) {
        http::Response response = get(handler, target);
        EXPECT_EQ(response.status(), 400) << target;
        EXPECT_EQ(header_of(response, "Content-Type"), "text/html; charset=utf-8");
    }
}

TEST_F(StaticFilesTest, MissingFileGets404Page) {
    StaticFiles handler(options_for(tree_));
    http::Response response = get(handler, "/nope.html");
    EXPECT_EQ(response.status(), 404);
    EXPECT_EQ(header_of(response, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(body_of(response).find("404 Not Found"), std::string::npos);
    EXPECT_EQ(get(handler, "/nope/deeper.html").status(), 404);
}

TEST_F(StaticFilesTest, FileWithTrailingSlashIs404) {
    tree_.write("a.txt", "a");
    StaticFiles handler(options_for(tree_));
    EXPECT_EQ(get(handler, "/a.txt/").status(), 404);
    EXPECT_EQ(get(handler, "/a.txt/x").status(), 404);
}

TEST_F(StaticFilesTest, DirectoryWithoutSlashRedirects) {
    tree_.mkdir("docs");
    StaticFiles handler(options_for(tree_));
    http::Response response = get(handler, "/docs?lang=en");
    EXPECT_EQ(response.status(), 301);
    EXPECT_EQ(header_of(response, "Location"), "/docs/?lang=en");
    EXPECT_EQ(header_of(response, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_FALSE(body_of(response).empty());
    EXPECT_EQ(header_of(get(handler, "/docs"), "Location"), "/docs/");
}

TEST_F(StaticFilesTest, RedirectLocationIsReencoded) {
    tree_.mkdir("a b");
    tree_.mkdir("x\r\ny");
    StaticFiles handler(options_for(tree_));
    EXPECT_EQ(header_of(get(handler, "/a%20b"), "Location"), "/a%20b/");
    EXPECT_EQ(header_of(get(handler, "/x%0d%0ay"), "Location"), "/x%0D%0Ay/");
    EXPECT_EQ(header_of(get(handler, "/q/../a%20b"), "Location"), "/a%20b/");
}

TEST_F(StaticFilesTest, DirectoryServesIndexHtml) {
    tree_.write("index.html", "<h1>home</h1>");
    tree_.write("docs/index.html", "<h1>docs</h1>");
    StaticFiles handler(options_for(tree_));
    http::Response root = get(handler, "/");
    EXPECT_EQ(root.status(), 200);
    EXPECT_EQ(body_of(root), "<h1>home</h1>");
    EXPECT_EQ(header_of(root, "Content-Type"), "text/html; charset=utf-8");
    http::Response docs = get(handler, "/docs/");
    EXPECT_EQ(docs.status(), 200);
    EXPECT_EQ(body_of(docs), "<h1>docs</h1>");
    EXPECT_EQ(header_of(docs, "Content-Type"), "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, DirectoryWithoutIndexIs404NotAListing) {
    tree_.write("empty/other.txt", "x");
    StaticFiles handler(options_for(tree_));
    http::Response response = get(handler, "/empty/");
    EXPECT_EQ(response.status(), 404);
    EXPECT_EQ(body_of(response).find("other.txt"), std::string::npos);
}

TEST_F(StaticFilesTest, IndexThatIsADirectoryIs404) {
    tree_.mkdir("d/index.html");
    StaticFiles handler(options_for(tree_));
    EXPECT_EQ(get(handler, "/d/").status(), 404);
}

TEST_F(StaticFilesTest, DotfilesHiddenByDefault) {
    tree_.write(".env", "PASSWORD=x");
    tree_.write(".git/config", "[core]");
    tree_.write(".well-known/security.txt", "contact");
    StaticFiles handler(options_for(tree_));
    EXPECT_EQ(get(handler, "/.env").status(), 404);
    EXPECT_EQ(get(handler, "/.git/config").status(), 404);
    EXPECT_EQ(get(handler, "/%2egit/config").status(), 404);
    EXPECT_EQ(get(handler, "/.git/").status(), 404);
    EXPECT_EQ(get(handler, "/.well-known/security.txt").status(), 404);
}

TEST_F(StaticFilesTest, DotfilesServedWhenAllowed) {
    tree_.write(".well-known/security.txt", "contact");
    StaticOptions options = options_for(tree_);
    options.serve_dotfiles = true;
    StaticFiles handler(options);
    http::Response response = get(handler, "/.well-known/security.txt");
    EXPECT_EQ(response.status(), 200);
    EXPECT_EQ(body_of(response), "contact");
}

TEST_F(StaticFilesTest, FifoIsNot404BlockingOrServed) {
    ASSERT_EQ(::mkfifo(tree_.path("pipe").c_str(), 0644), 0);
    StaticFiles handler(options_for(tree_));
    // Opening a fifo for reading without O_NONBLOCK would hang here until a writer appears.
    EXPECT_EQ(get(handler, "/pipe").status(), 404);
}

TEST_F(StaticFilesTest, SocketIs404) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string path = tree_.path("sock");
    ASSERT_LT(path.size(), sizeof address.sun_path);
    std::copy(path.begin(), path.end(), address.sun_path);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    StaticFiles handler(options_for(tree_));
    EXPECT_EQ(get(handler, "/sock").status(), 404);
    ::close(fd);
}

/// Runs `check` without the power to ignore permission bits: in a child that became "nobody"
/// when the tests run as root, in-process otherwise. True when `check` returned true.
bool without_privileges(const TempTree& tree, const std::function<bool()>& check) {
    if (::geteuid() != 0) return check();
    // mkdtemp made the base 0700; "nobody" must be able to reach the root through it.
    if (::chmod(tree.base().c_str(), 0755) != 0) return false;
    pid_t child = ::fork();
    if (child < 0) return false;
    if (child == 0) {
        bool ok = ::setgid(65534) == 0 && ::setuid(65534) == 0 && check();
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(StaticFilesTest, UnreadableFileIs403) {
    tree_.write("locked.txt", "x");
    tree_.write("open.txt", "y");
    ASSERT_EQ(::chmod(tree_.path("locked.txt").c_str(), 0), 0);
    EXPECT_TRUE(without_privileges(tree_, [&] {
        StaticFiles handler(options_for(tree_));
        return get(handler, "/locked.txt").status() == 403 &&
               get(handler, "/open.txt").status() == 200;
    }));
}

TEST_F(StaticFilesTest, ConstructorRejectsUnreadableRoot) {
    ASSERT_EQ(::chmod(tree_.root().c_str(), 0), 0);
    EXPECT_TRUE(without_privileges(tree_, [&] {
        try {
            StaticFiles handler(options_for(tree_));
        } catch (const std::runtime_error& error) {
            return std::string(error.what()).find("is not readable") != std::string::npos;
        }
        return false;
    }));
}

TEST_F(StaticFilesTest, ConstructorRejectsBadRoots) {
    tree_.write("file.txt", "x");
    StaticOptions missing;
    missing.root = tree_.base() + "/does-not-exist";
    EXPECT_THROW(StaticFiles{missing}, std::runtime_error);
    StaticOptions file;
    file.root = tree_.path("file.txt");
    try {
        StaticFiles handler(file);
        ADD_FAILURE() << "a file was accepted as root";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("is not a directory"), std::string::npos);
    }
    StaticOptions empty;
    EXPECT_THROW(StaticFiles{empty}, std::runtime_error);
}

}  // namespace
}  // namespace c10k::serve

// StaticFiles' in-memory cache of small files and the descriptor path for large ones.

#include <chrono>
#include <thread>

#include "serve/static_files.hpp"
#include "test_tree.hpp"

namespace c10k::serve {
namespace {

using testing::body_of;
using testing::get;
using testing::header_of;
using testing::options_for;
using testing::TempTree;

class StaticFilesCacheTest : public ::testing::Test {
protected:
    StaticOptions options(std::int64_t validate_ms) const {
        StaticOptions result = options_for(tree_);
        result.cache_validate_ms = validate_ms;
        return result;
    }

    /// Rewrites a file and moves its mtime, as an editor or deploy would.
    void change(const std::string& relative, const std::string& contents, std::time_t mtime) {
        tree_.write(relative, contents);
        tree_.set_mtime(relative, mtime);
    }

    TempTree tree_;
};

TEST_F(StaticFilesCacheTest, SecondRequestIsAHit) {
    tree_.write("a.txt", "alpha");
    StaticFiles handler(options(60'000));
    http::Response first = get(handler, "/a.txt");
    http::Response second = get(handler, "/a.txt");
    EXPECT_EQ(body_of(second), "alpha");
    EXPECT_EQ(second.header_lines(), first.header_lines());
    EXPECT_EQ(second.body_kind(), http::Response::BodyKind::blob);
    // Both responses share one copy of the bytes.
    EXPECT_EQ(first.blob().get(), second.blob().get());
    EXPECT_EQ(handler.cache_stats().hits, 1u);
    EXPECT_EQ(handler.cache_stats().misses, 1u);
    EXPECT_EQ(handler.cache_stats().entries, 1u);
}

TEST_F(StaticFilesCacheTest, FreshEntryIsServedWithoutLookingAtTheFile) {
    change("a.txt", "old", 1'600'000'000);
    StaticFiles handler(options(3'600'000));
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "old");
    change("a.txt", "new contents", 1'600'000'100);
    // Within the validation interval the cached version stands; nothing was re-checked.
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "old");
    EXPECT_EQ(handler.cache_stats().revalidations, 0u);
}

TEST_F(StaticFilesCacheTest, ChangeIsNoticedWhenValidatingEveryTime) {
    change("a.txt", "old", 1'600'000'000);
    StaticFiles handler(options(0));
    http::Response before = get(handler, "/a.txt");
    EXPECT_EQ(body_of(before), "old");
    change("a.txt", "new contents", 1'600'000'100);
    http::Response after = get(handler, "/a.txt");
    EXPECT_EQ(body_of(after), "new contents");
    EXPECT_NE(header_of(after, "ETag"), header_of(before, "ETag"));
    EXPECT_EQ(handler.cache_stats().invalidations, 1u);
    // Unchanged since: the next request is a validated hit.
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "new contents");
    EXPECT_EQ(handler.cache_stats().hits, 1u);
}

TEST_F(StaticFilesCacheTest, ChangeIsNoticedAfterTheInterval) {
    change("a.txt", "old", 1'600'000'000);
    StaticFiles handler(options(50));
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "old");
    change("a.txt", "newer", 1'600'000'001);
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "newer");
}

TEST_F(StaticFilesCacheTest, SameSizeSameMtimeButNewInodeIsNoticed) {
    change("a.txt", "one", 1'600'000'000);
    StaticFiles handler(options(0));
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "one");
    // A deploy that renames a new file into place keeps size and mtime but changes the inode.
    tree_.write("a.tmp", "two");
    tree_.set_mtime("a.tmp", 1'600'000'000);
    ASSERT_EQ(::rename(tree_.path("a.tmp").c_str(), tree_.path("a.txt").c_str()), 0);
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "two");
}

TEST_F(StaticFilesCacheTest, DeletedFileIs404AfterValidation) {
    tree_.write("a.txt", "alpha");
    StaticFiles handler(options(0));
    EXPECT_EQ(get(handler, "/a.txt").status(), 200);
    ASSERT_EQ(::unlink(tree_.path("a.txt").c_str()), 0);
    EXPECT_EQ(get(handler, "/a.txt").status(), 404);
    EXPECT_EQ(handler.cache_stats().entries, 0u);
}

TEST_F(StaticFilesCacheTest, IndexIsCachedUnderTheDirectoryPath) {
    change("docs/index.html", "v1", 1'600'000'000);
    StaticFiles handler(options(0));
    EXPECT_EQ(body_of(get(handler, "/docs/")), "v1");
    change("docs/index.html", "v2!", 1'600'000'050);
    http::Response response = get(handler, "/docs/");
    EXPECT_EQ(body_of(response), "v2!");
    EXPECT_EQ(header_of(response, "Content-Type"), "text/html; charset=utf-8");
}

TEST_F(StaticFilesCacheTest, EvictsToStayUnderTheTotal) {
    StaticOptions opts = options(60'000);
    opts.cache_max_total_bytes = 4096;
    StaticFiles handler(opts);
    for (int i = 0; i < 8; ++i) {
        std::string name = "f" + std::to_string(i) + ".bin";
        tree_.write(name, std::string(1000, static_cast<char>('a' + i)));
        http::Response response = get(handler, "/" + name);
        EXPECT_EQ(body_of(response), std::string(1000, static_cast<char>('a' + i)));
    }
    EXPECT_LE(handler.cache_stats().bytes, 4096u);
    EXPECT_GT(handler.cache_stats().evictions, 0u);
    EXPECT_LT(handler.cache_stats().entries, 8u);
    // The most recent file is still a hit; the first was evicted and is read again.
    std::uint64_t hits = handler.cache_stats().hits;
    EXPECT_EQ(body_of(get(handler, "/f7.bin")), std::string(1000, 'h'));
    EXPECT_EQ(handler.cache_stats().hits, hits + 1);
    EXPECT_EQ(body_of(get(handler, "/f0.bin")), std::string(1000, 'a'));
    EXPECT_EQ(handler.cache_stats().hits, hits + 1);
}

TEST_F(StaticFilesCacheTest, EntryTooBigForTheTotalDoesNotFlushTheCache) {
    StaticOptions opts = options(60'000);
    opts.cache_max_total_bytes = 1500;
    StaticFiles handler(opts);
    tree_.write("small.txt", "s");
    tree_.write("wide.bin", std::string(1200, 'w'));
    EXPECT_EQ(body_of(get(handler, "/small.txt")), "s");
    // 1200 bytes plus headers and bookkeeping exceed 1500: served, but not cached.
    EXPECT_EQ(body_of(get(handler, "/wide.bin")), std::string(1200, 'w'));
    EXPECT_EQ(handler.cache_stats().entries, 1u);
    EXPECT_EQ(handler.cache_stats().evictions, 0u);
    std::uint64_t hits = handler.cache_stats().hits;
    EXPECT_EQ(body_of(get(handler, "/small.txt")), "s");
    EXPECT_EQ(handler.cache_stats().hits, hits + 1);
}

TEST_F(StaticFilesCacheTest, LargeFileIsSentFromADescriptor) {
    std::string big(200 * 1024, 'x');
    big[12345] = 'Y';
    tree_.write("big.bin", big);
    StaticFiles handler(options(60'000));
    http::Response response = get(handler, "/big.bin");
    EXPECT_EQ(response.status(), 200);
    ASSERT_EQ(response.body_kind(), http::Response::BodyKind::file);
    EXPECT_TRUE(response.file()->fd.valid());
    // Blocking, so that sendfile's short counts speak of the socket only (a non-blocking file
    // makes sendfile stop short on uncached pages, and an edge-triggered engine then stalls).
    EXPECT_EQ(::fcntl(response.file()->fd.get(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(response.file()->size, big.size());
    EXPECT_EQ(response.body_length(), big.size());
    EXPECT_EQ(body_of(response), big);
    EXPECT_EQ(header_of(response, "Content-Type"), "application/octet-stream");
    EXPECT_EQ(handler.cache_stats().entries, 0u);
}

TEST_F(StaticFilesCacheTest, LargeFileChangesShowAtOnce) {
    StaticOptions opts = options(60'000);
    opts.cache_max_file_bytes = 4;
    StaticFiles handler(opts);
    change("a.txt", "first version", 1'600'000'000);
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "first version");
    change("a.txt", "second version", 1'600'000'001);
    EXPECT_EQ(body_of(get(handler, "/a.txt")), "second version");
}

TEST_F(StaticFilesCacheTest, EmptyFileIsServed) {
    tree_.write("empty.txt", "");
    StaticFiles handler(options(60'000));
    http::Response response = get(handler, "/empty.txt");
    EXPECT_EQ(response.status(), 200);
    EXPECT_EQ(response.body_length(), 0u);
    EXPECT_EQ(get(handler, "/empty.txt", {{"Range", "bytes=-5"}}).status(), 200);
    EXPECT_EQ(get(handler, "/empty.txt", {{"Range", "bytes=0-"}}).status(), 416);
}

}  // namespace
}  // namespace c10k::serve

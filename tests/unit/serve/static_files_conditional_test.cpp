// StaticFiles with conditional and Range requests, for cached (small) and descriptor (large)
// files alike.

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

constexpr std::time_t kMtime = 1'700'000'000;
const std::string kContents = "0123456789abcdefghij";  // 20 bytes

/// Parameter: true serves the file from a descriptor (too large for the cache).
class StaticFilesConditionalTest : public ::testing::TestWithParam<bool> {
protected:
    StaticFilesConditionalTest() {
        tree_.write("f.txt", kContents);
        tree_.set_mtime("f.txt", kMtime);
    }

    StaticFiles make_handler() const {
        StaticOptions options = options_for(tree_);
        if (GetParam()) options.cache_max_file_bytes = 10;
        return StaticFiles(options);
    }

    const std::string etag_ = "\"6553f100-14\"";
    const std::string last_modified_ = http::format_http_date(kMtime);
    TempTree tree_;
};

TEST_P(StaticFilesConditionalTest, EtagIsNginxStyle) {
    StaticFiles handler = make_handler();
    http::Response response = get(handler, "/f.txt");
    EXPECT_EQ(header_of(response, "ETag"), etag_);
    EXPECT_EQ(response.body_kind(),
              GetParam() ? http::Response::BodyKind::file : http::Response::BodyKind::blob);
}

TEST_P(StaticFilesConditionalTest, IfNoneMatchGives304) {
    StaticFiles handler = make_handler();
    for (http::Method method : {http::Method::get, http::Method::head}) {
        http::Response response =
            call(handler, method, "/f.txt", {{"If-None-Match", "\"zzz\", " + etag_}});
        EXPECT_EQ(response.status(), 304);
        EXPECT_EQ(header_of(response, "ETag"), etag_);
        EXPECT_EQ(header_of(response, "Last-Modified"), last_modified_);
        EXPECT_EQ(header_of(response, "Content-Type"), "<absent>");
        EXPECT_EQ(response.body_kind(), http::Response::BodyKind::none);
        EXPECT_EQ(response.body_length(), 0u);
    }
    EXPECT_EQ(get(handler, "/f.txt", {{"If-None-Match", "*"}}).status(), 304);
    EXPECT_EQ(get(handler, "/f.txt", {{"If-None-Match", "W/" + etag_}}).status(), 304);
    EXPECT_EQ(get(handler, "/f.txt", {{"If-None-Match", "\"other\""}}).status(), 200);
}

TEST_P(StaticFilesConditionalTest, IfModifiedSince) {
    StaticFiles handler = make_handler();
    EXPECT_EQ(get(handler, "/f.txt", {{"If-Modified-Since", last_modified_}}).status(), 304);
    EXPECT_EQ(get(handler, "/f.txt", {{"If-Modified-Since", http::format_http_date(kMtime + 9)}})
                  .status(),
              304);
    http::Response older =
        get(handler, "/f.txt", {{"If-Modified-Since", http::format_http_date(kMtime - 1)}});
    EXPECT_EQ(older.status(), 200);
    EXPECT_EQ(body_of(older), kContents);
    EXPECT_EQ(get(handler, "/f.txt", {{"If-Modified-Since", "not a date"}}).status(), 200);
}

TEST_P(StaticFilesConditionalTest, IfNoneMatchWinsOverIfModifiedSince) {
    StaticFiles handler = make_handler();
    http::Response response = get(handler, "/f.txt",
                                  {{"If-None-Match", "\"other\""},
                                   {"If-Modified-Since", http::format_http_date(kMtime + 60)}});
    EXPECT_EQ(response.status(), 200);
}

TEST_P(StaticFilesConditionalTest, SatisfiableRangeGives206) {
    StaticFiles handler = make_handler();
    struct Case {
        const char* range;
        const char* content_range;
        std::string body;
    };
    for (const Case& c :
         {Case{"bytes=0-4", "bytes 0-4/20", "01234"}, Case{"bytes=15-", "bytes 15-19/20", "fghij"},
          Case{"bytes=-3", "bytes 17-19/20", "hij"},
          Case{"bytes=18-1000", "bytes 18-19/20", "ij"}}) {
        http::Response response = get(handler, "/f.txt", {{"Range", c.range}});
        EXPECT_EQ(response.status(), 206) << c.range;
        EXPECT_EQ(header_of(response, "Content-Range"), c.content_range) << c.range;
        EXPECT_EQ(header_of(response, "ETag"), etag_);
        EXPECT_EQ(header_of(response, "Content-Type"), "text/plain; charset=utf-8");
        EXPECT_EQ(body_of(response), c.body) << c.range;
    }
}

TEST_P(StaticFilesConditionalTest, UnsatisfiableRangeGives416) {
    StaticFiles handler = make_handler();
    for (const char* range : {"bytes=20-", "bytes=100-200", "bytes=-0"}) {
        http::Response response = get(handler, "/f.txt", {{"Range", range}});
        EXPECT_EQ(response.status(), 416) << range;
        EXPECT_EQ(header_of(response, "Content-Range"), "bytes */20") << range;
        EXPECT_EQ(body_of(response).find(kContents), std::string::npos);
    }
}

TEST_P(StaticFilesConditionalTest, UnusableRangeSendsWholeFile) {
    StaticFiles handler = make_handler();
    for (const char* range : {"bytes=0-1,4-5", "bytes=x-y", "lines=1-2", "bytes=5-2"}) {
        http::Response response = get(handler, "/f.txt", {{"Range", range}});
        EXPECT_EQ(response.status(), 200) << range;
        EXPECT_EQ(header_of(response, "Content-Range"), "<absent>");
        EXPECT_EQ(body_of(response), kContents) << range;
    }
}

TEST_P(StaticFilesConditionalTest, IfRangeDecidesBetweenPartAndWhole) {
    StaticFiles handler = make_handler();
    EXPECT_EQ(get(handler, "/f.txt", {{"Range", "bytes=0-1"}, {"If-Range", etag_}}).status(), 206);
    EXPECT_EQ(
        get(handler, "/f.txt", {{"Range", "bytes=0-1"}, {"If-Range", last_modified_}}).status(),
        206);
    http::Response stale =
        get(handler, "/f.txt", {{"Range", "bytes=0-1"}, {"If-Range", "\"old-tag\""}});
    EXPECT_EQ(stale.status(), 200);
    EXPECT_EQ(body_of(stale), kContents);
    EXPECT_EQ(get(handler, "/f.txt",
                  {{"Range", "bytes=0-1"}, {"If-Range", http::format_http_date(kMtime - 5)}})
                  .status(),
              200);
    EXPECT_EQ(get(handler, "/f.txt", {{"Range", "bytes=0-1"}, {"If-Range", "W/" + etag_}}).status(),
              200);
}

TEST_P(StaticFilesConditionalTest, NotModifiedBeatsRange) {
    StaticFiles handler = make_handler();
    EXPECT_EQ(get(handler, "/f.txt", {{"Range", "bytes=0-1"}, {"If-None-Match", etag_}}).status(),
              304);
}

TEST_P(StaticFilesConditionalTest, HeadRangeDescribesTheSlice) {
    StaticFiles handler = make_handler();
    http::Response response = call(handler, http::Method::head, "/f.txt", {{"Range", "bytes=2-5"}});
    EXPECT_EQ(response.status(), 206);
    EXPECT_EQ(response.body_length(), 4u);
    EXPECT_EQ(header_of(response, "Content-Range"), "bytes 2-5/20");
}

INSTANTIATE_TEST_SUITE_P(BodySource, StaticFilesConditionalTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? "descriptor" : "cached";
                         });

}  // namespace
}  // namespace c10k::serve

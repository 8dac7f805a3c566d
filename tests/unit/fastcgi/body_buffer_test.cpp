// BodyBuffer: a chunked body held whole, in memory while small and in an unnamed file past
// that, read back as it was written.

#include "fastcgi/body_buffer.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace c10k::fastcgi {
namespace {

/// A fresh directory under the system's temporary one, removed with its contents.
class Directory {
public:
    Directory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "c10k-body-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~Directory() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string read_all(const BodyBuffer& buffer, std::size_t piece) {
    std::string out;
    std::string part(piece, '\0');
    for (;;) {
        long long n = buffer.read(out.size(), part.data(), part.size());
        EXPECT_GE(n, 0);
        if (n <= 0) return out;
        out.append(part, 0, static_cast<std::size_t>(n));
    }
}

TEST(BodyBuffer, SmallBodyStaysInMemory) {
    Directory dir;
    BodyBuffer buffer(dir.path(), 16);
    EXPECT_EQ(buffer.append("hello ", 6), 0);
    EXPECT_EQ(buffer.append("world", 5), 0);
    EXPECT_FALSE(buffer.spilled());
    EXPECT_EQ(buffer.size(), 11u);
    EXPECT_EQ(read_all(buffer, 4), "hello world");
    char c = 'x';
    EXPECT_EQ(buffer.read(11, &c, 1), 0);  // the end
    EXPECT_EQ(buffer.read(99, &c, 1), 0);
}

TEST(BodyBuffer, LargerBodySpillsWholeToAnUnnamedFile) {
    Directory dir;
    BodyBuffer buffer(dir.path(), 16);
    std::string body;
    for (int i = 0; i < 1000; ++i) {
        std::string part = std::to_string(i) + ",";
        body += part;
        ASSERT_EQ(buffer.append(part.data(), part.size()), 0);
    }
    EXPECT_TRUE(buffer.spilled());
    EXPECT_EQ(buffer.size(), body.size());
    EXPECT_EQ(read_all(buffer, 7), body);                // what was in memory came first
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // no name was ever left
}

TEST(BodyBuffer, AnUnusableDirectoryIsAnErrnoWhenTheBodySpills) {
    Directory dir;
    BodyBuffer buffer(dir.path() + "/missing", 4);
    EXPECT_EQ(buffer.append("abc", 3), 0);  // in memory: no file needed yet
    EXPECT_EQ(buffer.append("defg", 4), ENOENT);
    EXPECT_LT(open_anonymous_file(dir.path() + "/missing"), 0);
}

TEST(BodyBuffer, DefaultDirectoryIsTmpdirWhenAbsolute) {
    const char* saved = std::getenv("TMPDIR");
    std::string restore = saved != nullptr ? saved : "";
    ::setenv("TMPDIR", "/var/tmp", 1);
    EXPECT_EQ(default_temp_directory(), "/var/tmp");
    ::setenv("TMPDIR", "relative", 1);
    EXPECT_EQ(default_temp_directory(), "/tmp");
    ::unsetenv("TMPDIR");
    EXPECT_EQ(default_temp_directory(), "/tmp");
    if (saved != nullptr) ::setenv("TMPDIR", restore.c_str(), 1);
}

}  // namespace
}  // namespace c10k::fastcgi

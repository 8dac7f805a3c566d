// `c10k evict` with the real binary: a file that was just read is resident, and after eviction
// the report counts fewer resident pages; on tmpfs the report says that nothing can be evicted;
// missing paths are errors that name the path.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// A directory beside the binary, in the build tree: on a disk filesystem in an ordinary build,
/// unlike /tmp, which is often tmpfs.
class BuildTreeDir {
public:
    BuildTreeDir() {
        std::string pattern =
            std::filesystem::path(C10K_BINARY).parent_path().string() + "/evict-test-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~BuildTreeDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

bool on_tmpfs(const std::string& path) {
    struct statfs fs {};
    EXPECT_EQ(::statfs(path.c_str(), &fs), 0) << path;
    return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

/// Writes `bytes` to `path`, flushed to the disk (the kernel does not evict dirty pages), then
/// reads it all back so that its pages are in the page cache.
void write_and_read(const std::string& path, std::size_t bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path;
    std::string block(64 * 1024, 'x');
    for (std::size_t written = 0; written < bytes; written += block.size()) {
        ASSERT_EQ(::write(fd, block.data(), block.size()), static_cast<ssize_t>(block.size()));
    }
    ASSERT_EQ(::fsync(fd), 0);
    ::close(fd);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    while (::read(fd, block.data(), block.size()) > 0) {
    }
    ::close(fd);
}

struct Counts {
    unsigned long long pages = 0, before = 0, after = 0;
};

/// The figures of the line the command printed for `path`.
Counts counts_of(const std::string& output, const std::string& path) {
    std::smatch match;
    std::regex line(std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                    R"(: (\d+) of (\d+) pages resident before, (\d+) after)");
    if (!std::regex_search(output, match, line)) {
        ADD_FAILURE() << "no line for " << path << " in:\n" << output;
        return {};
    }
    return {std::stoull(match[2]), std::stoull(match[1]), std::stoull(match[3])};
}

TEST(Evict, AFileJustReadIsResidentAndFewerPagesAreAfterEviction) {
    BuildTreeDir dir;
    std::string file = dir.path() + "/sub/page.bin";
    std::filesystem::create_directories(dir.path() + "/sub");
    write_and_read(file, 1 << 20);

    // The directory is walked: the file under sub/ is found.
    CommandResult run = run_command({"evict", dir.path()});
    ASSERT_EQ(run.status, 0) << run.output;
    Counts counts = counts_of(run.output, file);
    EXPECT_EQ(counts.pages * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE)), 1u << 20);
    EXPECT_GT(counts.before, 0u) << run.output;
    if (on_tmpfs(dir.path())) {
        // The build tree is in memory here: the report must say so rather than claim success.
        EXPECT_NE(run.output.find("on tmpfs"), std::string::npos) << run.output;
        EXPECT_EQ(counts.after, counts.before) << run.output;
    } else {
        EXPECT_LT(counts.after, counts.before) << run.output;
        EXPECT_EQ(run.output.find("on tmpfs"), std::string::npos) << run.output;
    }
    std::string total = "evicted 1 files, " + std::to_string(counts.pages) + " pages: ";
    EXPECT_NE(run.output.find(total), std::string::npos) << run.output;
}

TEST(Evict, OnTmpfsTheReportSaysNothingCanBeEvicted) {
    // /dev/shm is the tmpfs every Linux system mounts for POSIX shared memory.
    ASSERT_TRUE(on_tmpfs("/dev/shm"));
    std::string file = "/dev/shm/c10k-evict-test-" + std::to_string(::getpid());
    write_and_read(file, 64 * 1024);
    CommandResult run = run_command({"evict", file});
    std::filesystem::remove(file);
    ASSERT_EQ(run.status, 0) << run.output;
    Counts counts = counts_of(run.output, file);
    EXPECT_GT(counts.before, 0u) << run.output;
    EXPECT_EQ(counts.after, counts.before) << run.output;
    EXPECT_NE(run.output.find("(on tmpfs: the page cache is the file's only copy"),
              std::string::npos)
        << run.output;
}

TEST(Evict, MissingPathsAreErrorsThatNameThePath) {
    BuildTreeDir dir;
    write_and_read(dir.path() + "/here", 4096);
    CommandResult run = run_command({"evict", dir.path() + "/here", dir.path() + "/absent"});
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_NE(run.output.find(dir.path() + "/absent: No such file or directory"), std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("1 path could not be evicted"), std::string::npos) << run.output;
    // The path that exists was still handled.
    EXPECT_NE(run.output.find(dir.path() + "/here: "), std::string::npos) << run.output;

    CommandResult device = run_command({"evict", "/dev/null"});
    EXPECT_EQ(device.status, 1) << device.output;
    EXPECT_NE(device.output.find("/dev/null: not a regular file or a directory"), std::string::npos)
        << device.output;

    CommandResult none = run_command({"evict"});
    EXPECT_EQ(none.status, 2) << none.output;
    EXPECT_NE(none.output.find("give the files or directories to evict"), std::string::npos)
        << none.output;
}

}  // namespace
}  // namespace c10k::test

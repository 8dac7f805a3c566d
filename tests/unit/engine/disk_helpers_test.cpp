// DiskHelpers and resident_prefix (src/engine/disk_helpers.hpp): a helper reads a range and
// posts its result to the loop's mailbox; a short read (the file ended early) is reported as
// incomplete; destruction waits for every queued read; the page-cache check sees a file that
// was just read as resident and one dropped with POSIX_FADV_DONTNEED as not.

#include "engine/disk_helpers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace c10k::engine {
namespace {

class TempFile {
public:
    explicit TempFile(std::size_t size) {
        char pattern[] = "/tmp/c10k-helpers-XXXXXX";
        fd_ = ::mkstemp(pattern);
        path_ = pattern;
        std::string bytes(size, 'x');
        for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + i % 26);
        EXPECT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(size));
    }
    ~TempFile() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    int fd() const { return fd_; }
    int dup() const { return ::fcntl(fd_, F_DUPFD_CLOEXEC, 0); }

private:
    int fd_ = -1;
    std::string path_;
};

/// Runs the mailbox until `done` tasks ran (each wait bounded; a hang fails the test).
void run_mailbox(core::Mailbox& mailbox, std::size_t done) {
    std::size_t ran = 0;
    while (ran < done) {
        pollfd wait{mailbox.fd(), POLLIN, 0};
        ASSERT_GT(::poll(&wait, 1, 10000), 0) << "no completion came";
        ran += mailbox.run_pending();
    }
}

TEST(DiskHelpers, ReadsARangeAndPostsTheResult) {
    TempFile file(1 << 20);
    core::Mailbox mailbox;
    DiskHelpers helpers(2, mailbox);
    std::vector<DiskReadResult> results;
    helpers.read(file.dup(), 4096, 500000, [&](DiskReadResult r) { results.push_back(r); });
    run_mailbox(mailbox, 1);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].bytes, 500000u);
    EXPECT_TRUE(results[0].complete(500000));
}

TEST(DiskHelpers, AFileThatEndsEarlyIsIncomplete) {
    TempFile file(10000);
    core::Mailbox mailbox;
    DiskHelpers helpers(1, mailbox);
    DiskReadResult result;
    helpers.read(file.dup(), 8000, 5000, [&](DiskReadResult r) { result = r; });
    run_mailbox(mailbox, 1);
    EXPECT_EQ(result.bytes, 2000u);
    EXPECT_FALSE(result.complete(5000));
}

TEST(DiskHelpers, DestructionFinishesEveryQueuedRead) {
    TempFile file(1 << 20);
    core::Mailbox mailbox;
    int completed = 0;
    {
        DiskHelpers helpers(1, mailbox);
        for (int i = 0; i < 20; ++i) {
            helpers.read(file.dup(), 0, 1 << 20, [&](DiskReadResult r) {
                if (r.complete(1 << 20)) ++completed;
            });
        }
    }
    // Every completion was posted before the destructor returned.
    mailbox.run_pending();
    EXPECT_EQ(completed, 20);
}

TEST(ResidentPrefix, SeesCachedAndDroppedPages) {
    const std::size_t size = 4 << 20;
    TempFile file(size);
    // Just written (and read back): in memory.
    std::vector<char> buffer(size);
    ASSERT_EQ(::pread(file.fd(), buffer.data(), size, 0), static_cast<ssize_t>(size));
    EXPECT_EQ(resident_prefix(file.fd(), 0, size), size);
    EXPECT_EQ(resident_prefix(file.fd(), 1000, 5000), 5000u);  // an unaligned range
    // Written back and dropped: the disk would have to be read.
    ASSERT_EQ(::fsync(file.fd()), 0);
    ASSERT_EQ(::posix_fadvise(file.fd(), 0, 0, POSIX_FADV_DONTNEED), 0);
    EXPECT_LT(resident_prefix(file.fd(), 0, size), size);
    EXPECT_EQ(resident_prefix(file.fd(), 0, 0), 0u);
    // Past the end of the file (truncated under a response): not resident, so a helper's
    // short read reports it.
    EXPECT_EQ(resident_prefix(file.fd(), size, 8192), 0u);
}

}  // namespace
}  // namespace c10k::engine

#include "engine/disk_helpers.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace c10k::engine {

namespace {
// A helper reads through this buffer and drops the bytes: what it is for is the page cache.
constexpr std::size_t kHelperBufferBytes = 256 * 1024;
// How much less CPU priority a helper has than its loop. Its copy of each piece costs tens of
// microseconds of CPU, and a helper woken by its disk would otherwise preempt the loop on a
// shared core; the loop serving cached requests is what must not wait (the point of AMPED).
constexpr int kHelperNiceIncrement = 5;

void lower_own_priority() {
    pid_t self = ::gettid();
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(self));
    if (errno != 0) return;
    // Per thread on Linux (the nice value belongs to the task); failure changes nothing.
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(self),
                        std::min(nice + kHelperNiceIncrement, 19));
}

std::uint64_t page_size() {
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return page;
}
}  // namespace

std::uint64_t resident_prefix(int fd, std::uint64_t offset, std::uint64_t length) {
    if (length == 0) return 0;
    std::uint64_t page = page_size();
    std::uint64_t start = offset & ~(page - 1);
    std::uint64_t span = offset + length - start;
    // A mapping that is never touched costs no page faults; PROT_READ on a file opened for
    // reading always works. Pages past the end of the file read as not resident, which sends
    // the range to a helper, whose short read then reports the shrunk file.
    void* map = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
    if (map == MAP_FAILED) return 0;
    std::size_t pages = static_cast<std::size_t>((span + page - 1) / page);
    thread_local std::vector<unsigned char> residency;
    residency.resize(pages);
    std::uint64_t resident = 0;
    if (::mincore(map, span, residency.data()) == 0) {
        std::size_t in_memory = 0;
        while (in_memory < pages && (residency[in_memory] & 1) != 0) ++in_memory;
        std::uint64_t end = start + in_memory * page;
        resident = end > offset ? std::min(end - offset, length) : 0;
    }
    ::munmap(map, span);
    return resident;
}

DiskHelpers::DiskHelpers(int threads, core::Mailbox& mailbox)
    : mailbox_(mailbox), max_threads_(static_cast<std::size_t>(std::max(threads, 1))) {}

DiskHelpers::~DiskHelpers() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
}

void DiskHelpers::read(int fd, std::uint64_t offset, std::uint64_t length, Done done) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back(Job{fd, offset, length, std::move(done)});
    }
    // Threads start with the first reads, so a loop whose files are all cached has none. Only
    // the loop's thread calls read(), so threads_ needs no lock.
    if (threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
    wake_.notify_one();
}

void DiskHelpers::work() {
    lower_own_priority();
    std::vector<char> buffer(kHelperBufferBytes);
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            // At a stop the queue is still emptied: each job's descriptor is closed and its
            // completion posted, so that no connection waits for a read that never happens.
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        DiskReadResult result = read_range(job.fd, job.offset, job.length, buffer);
        ::close(job.fd);
        mailbox_.post([done = std::move(job.done), result] { done(result); });
    }
}

DiskReadResult DiskHelpers::read_range(int fd, std::uint64_t offset, std::uint64_t length,
                                       std::vector<char>& buffer) {
    DiskReadResult result;
    while (result.bytes < length) {
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(length - result.bytes, buffer.size()));
        ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset + result.bytes));
        if (n < 0) {
            if (errno == EINTR) continue;
            result.error = errno;
            break;
        }
        if (n == 0) break;  // the file ends before the range does
        result.bytes += static_cast<std::uint64_t>(n);
    }
    return result;
}

}  // namespace c10k::engine

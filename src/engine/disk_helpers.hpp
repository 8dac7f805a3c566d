#pragma once
// Disk helpers for the event loops (Flash's AMPED: asymmetric multi-process event-driven). A
// file read that would block the loop (its pages are not in the page cache) is handed to a
// small pool of helper threads, which read the range once so the kernel caches it; the loop goes
// on serving other clients meanwhile and, told through its mailbox, sends the range from the
// page cache. One pool per loop, so a completion always comes back to the loop that owns the
// connection, and a loop's shutdown waits only for its own helpers. See docs/AMPED.md.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/mailbox.hpp"

namespace c10k::engine {

/// What a helper found when it read a range.
struct DiskReadResult {
    std::uint64_t bytes = 0;  ///< read (less than asked: the file ended early)
    int error = 0;            ///< errno of a failed read, 0 when none
    /// The whole range was read: the loop may send it. Otherwise the file shrank under us or
    /// could not be read, and the response's framing cannot be kept.
    bool complete(std::uint64_t wanted) const { return error == 0 && bytes == wanted; }
};

/// How many bytes of [offset, offset + length) of `fd`, from `offset` on, are in the page cache
/// now, with mincore(2) on a mapping of the range (as Flash did): exact to the page, and only
/// pages whose data is there count. cachestat(2) (Linux 6.5) would need no mapping, but it
/// counts pages that readahead is still reading in, and sendfile would wait for those. 0 when
/// the first page is not resident, or the range cannot be mapped.
std::uint64_t resident_prefix(int fd, std::uint64_t offset, std::uint64_t length);

class DiskHelpers {
public:
    using Done = std::function<void(DiskReadResult)>;

    /// Up to `threads` helpers, started as reads come; completions are posted to `mailbox`
    /// (the loop's).
    DiskHelpers(int threads, core::Mailbox& mailbox);
    /// Waits for every queued and running read; their completions are posted, not run.
    ~DiskHelpers();
    DiskHelpers(const DiskHelpers&) = delete;
    DiskHelpers& operator=(const DiskHelpers&) = delete;

    /// Reads [offset, offset + length) of `fd` on a helper thread, then posts `done` with the
    /// result to the loop's mailbox. Takes ownership of `fd` (a dup of the response's, so the
    /// helper never shares the loop's non-atomic reference count) and closes it.
    void read(int fd, std::uint64_t offset, std::uint64_t length, Done done);

private:
    struct Job {
        int fd;
        std::uint64_t offset;
        std::uint64_t length;
        Done done;
    };
    void work();
    static DiskReadResult read_range(int fd, std::uint64_t offset, std::uint64_t length,
                                     std::vector<char>& buffer);

    core::Mailbox& mailbox_;
    std::size_t max_threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;   // guarded by mutex_
    bool stopping_ = false;  // guarded by mutex_
    std::vector<std::thread> threads_;  // the loop's thread only
};

}  // namespace c10k::engine

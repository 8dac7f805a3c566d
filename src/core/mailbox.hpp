#pragma once
// Work posted to an event loop from any thread. One eventfd per loop, written only when the
// queue goes from empty to non-empty, so that many posts before the loop runs cost one wake-up
// (libuv's uv_async_send coalesces the same way). The loop watches fd() and calls run_pending().

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "core/unique_fd.hpp"

namespace c10k::core {

class Mailbox {
public:
    using Task = std::function<void()>;

    Mailbox() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    /// Readable when tasks are waiting. Owned by the mailbox.
    int fd() const { return fd_.get(); }
    bool valid() const { return fd_.get() >= 0; }

    /// Safe from any thread. The task runs later on the loop's thread, in posting order.
    void post(Task task) {
        bool wake = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            queue_.push_back(std::move(task));
            wake = !signalled_;
            signalled_ = true;
        }
        if (wake) {
            std::uint64_t one = 1;
            ssize_t ignored = ::write(fd_.get(), &one, sizeof one);
            (void)ignored;  // the counter cannot overflow at one write per batch
        }
    }

    /// On the loop's thread: runs every task posted so far; returns how many ran. Tasks posted
    /// while these run wait for the next call (the eventfd is readable again by then).
    std::size_t run_pending() {
        std::uint64_t count = 0;
        ssize_t ignored = ::read(fd_.get(), &count, sizeof count);
        (void)ignored;  // EAGAIN: a spurious call, nothing to read
        {
            std::lock_guard<std::mutex> lock(mutex_);
            running_.swap(queue_);
            signalled_ = false;
        }
        std::size_t ran = running_.size();
        for (auto& task : running_) task();
        running_.clear();
        return ran;
    }

private:
    unique_fd fd_;
    std::mutex mutex_;
    std::vector<Task> queue_;    // guarded by mutex_
    bool signalled_ = false;     // guarded by mutex_: the eventfd was written since the last run
    std::vector<Task> running_;  // the loop's thread only; kept to reuse its capacity
};

}  // namespace c10k::core

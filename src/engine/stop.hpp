#pragma once
// A stop request that every engine can wait on: an eventfd that becomes readable, once, for
// good. Poll-based loops add it to their poller; blocking engines poll() it beside accept().

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "core/unique_fd.hpp"

namespace c10k::engine {

class StopSource {
public:
    StopSource() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

    /// Safe from any thread (not from a signal handler: use sigwait in a thread instead).
    void request() {
        if (!requested_.exchange(true)) {
            std::uint64_t one = 1;
            ssize_t ignored = ::write(fd_.get(), &one, sizeof one);
            (void)ignored;
        }
    }
    bool requested() const { return requested_.load(std::memory_order_relaxed); }
    /// Readable once stop was requested; never read it, so it stays readable for all waiters.
    int fd() const { return fd_.get(); }

private:
    core::unique_fd fd_;
    std::atomic<bool> requested_{false};
};

}  // namespace c10k::engine

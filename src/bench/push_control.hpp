#pragma once
// What the publisher (a thread of the coordinating process) tells the subscriber loops, which may
// be in forked worker processes: it lives in an anonymous shared mapping made before fork, like
// SharedControl, so lock-free atomics in it work across processes.

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <stdexcept>

namespace c10k::bench {

struct PushControl {
    /// The largest message id the server acknowledged for a publish intended within the
    /// measured interval; 0 when none. Loops drain until their subscribers have seen it.
    std::atomic<std::uint64_t> final_id{0};
    /// Non-zero once the publisher is finished (every answer in, or its time ran out), or at
    /// once when there is no publisher.
    std::atomic<std::uint32_t> publisher_done{0};
    /// Publishes acknowledged so far, for the progress line.
    std::atomic<std::uint64_t> published{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared atomics must be lock-free");

/// A PushControl in its own MAP_SHARED page.
class SharedPushControl {
public:
    SharedPushControl() {
        mapping_ = mmap(nullptr, sizeof(PushControl), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mapping_ == MAP_FAILED) throw std::runtime_error("cannot map shared push control");
        control_ = new (mapping_) PushControl();
    }
    ~SharedPushControl() { munmap(mapping_, sizeof(PushControl)); }
    SharedPushControl(const SharedPushControl&) = delete;
    SharedPushControl& operator=(const SharedPushControl&) = delete;

    PushControl& get() { return *control_; }

private:
    void* mapping_ = nullptr;
    PushControl* control_ = nullptr;
};

}  // namespace c10k::bench

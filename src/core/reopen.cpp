#include "core/reopen.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace c10k::core {

namespace {

// Plain memory the signal handler can read: fixed slots, a path copied in before its descriptor
// is published (release), the descriptor taken back before it is closed.
struct Slot {
    std::atomic<int> fd{-1};
    char path[4096] = {};
};
Slot slots[8];
std::atomic<bool> requested{false};
std::mutex registering;  ///< registrations among themselves; the handler never takes it

void reopen_slots() {
    // open, dup3 and close are async-signal-safe.
    for (Slot& slot : slots) {
        int fd = slot.fd.load(std::memory_order_acquire);
        if (fd < 0) continue;
        int fresh = ::open(slot.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fresh < 0) continue;  // keep writing to the old file rather than lose lines
        ::dup3(fresh, fd, O_CLOEXEC);
        ::close(fresh);
    }
}

void on_sigusr1(int) {
    int saved = errno;
    reopen_slots();
    requested.store(true, std::memory_order_release);
    errno = saved;
}

}  // namespace

void install_reopen_handler() {
    struct sigaction action {};
    action.sa_handler = on_sigusr1;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR1, &action, nullptr);
}

bool reopen_on_signal(int fd, const std::string& path) {
    if (fd < 0 || path.size() >= sizeof(Slot::path)) return false;
    std::lock_guard lock(registering);
    for (Slot& slot : slots) {
        if (slot.fd.load(std::memory_order_acquire) >= 0) continue;
        std::memcpy(slot.path, path.c_str(), path.size() + 1);
        int expected = -1;
        if (slot.fd.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) return true;
    }
    return false;
}

void forget_reopen(int fd) {
    std::lock_guard lock(registering);
    for (Slot& slot : slots) {
        int expected = fd;
        slot.fd.compare_exchange_strong(expected, -1, std::memory_order_acq_rel);
    }
}

void reopen_now() {
    reopen_slots();
}

bool take_reopen_request() {
    return requested.exchange(false, std::memory_order_acq_rel);
}

}  // namespace c10k::core

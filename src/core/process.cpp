#include "core/process.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace c10k::core {

void reset_signals_for_exec() {
    // The system call, not glibc's sigaction: glibc refuses the two realtime signals it keeps
    // for itself (32 and 33), and one ignored by whatever started the server would stay
    // ignored in every program (seen once in CI). An all-zero kernel sigaction is SIG_DFL with
    // no flags and an empty mask, whatever the architecture's layout of the struct.
    const unsigned long defaults[4] = {};
    constexpr unsigned long kSigsetBytes = 8;  // the kernel's sigset: 64 signals
    for (int signal = 1; signal <= 64; ++signal) {
        if (signal != SIGKILL && signal != SIGSTOP) {
            ::syscall(SYS_rt_sigaction, signal, defaults, nullptr, kSigsetBytes);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

Result<unique_fd> open_pidfd(pid_t pid) {
    // pidfd_open's descriptors are always close-on-exec (the kernel sets O_CLOEXEC).
    unique_fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!fd) return last_errno();
    return fd;
}

void kill_group(pid_t pid, int signal) {
    if (pid > 0) ::kill(-pid, signal);
}

int reap(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == pid ? status : -1;
}

}  // namespace c10k::core

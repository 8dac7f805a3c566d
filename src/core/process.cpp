#include "core/process.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace c10k::core {

void reset_signals_for_exec() {
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) {
        if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &defaults, nullptr);
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

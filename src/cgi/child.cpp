#include "cgi/child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace c10k::cgi {

namespace {

/// A pipe, both ends close-on-exec; `nonblocking_end` (0 or 1) is made non-blocking for the
/// server's side.
bool make_pipe(int ends[2], int nonblocking_end) {
    if (::pipe2(ends, O_CLOEXEC) != 0) return false;
    int flags = ::fcntl(ends[nonblocking_end], F_GETFL);
    ::fcntl(ends[nonblocking_end], F_SETFL, flags | O_NONBLOCK);
    return true;
}

/// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void become_program(const Script& script, int in, int out, int err,
                                 char* const* argv, char* const* envp) {
    ::setpgid(0, 0);
    // The server ignores SIGPIPE and blocks signals for its own handling; a program must
    // start with the defaults.
    core::reset_signals_for_exec();
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
    if (::fchdir(script.directory.get()) != 0) ::_exit(127);
    // A "#!" script is run by its interpreter through /dev/fd/N: the descriptor must survive
    // the exec for that.
    ::fcntl(script.file.get(), F_SETFD, 0);
    ::execveat(script.file.get(), "", argv, envp, AT_EMPTY_PATH);
    static const char message[] = "c10k: the CGI program could not be executed\n";
    ssize_t ignored = ::write(2, message, sizeof message - 1);
    (void)ignored;
    ::_exit(127);
}

}  // namespace

core::Result<Child> spawn(const Script& script, const std::vector<std::string>& environment) {
    // Everything the child needs is made before the fork: after it, in a threaded process,
    // only async-signal-safe calls are allowed.
    std::string name = script.relative.substr(script.relative.rfind('/') + 1);
    std::vector<char*> argv{name.data(), nullptr};
    std::vector<char*> envp;
    envp.reserve(environment.size() + 1);
    for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);

    int in[2], out[2], err[2];
    if (!make_pipe(in, 1)) return core::last_errno();
    core::unique_fd in_read(in[0]), in_write(in[1]);
    if (!make_pipe(out, 0)) return core::last_errno();
    core::unique_fd out_read(out[0]), out_write(out[1]);
    if (!make_pipe(err, 0)) return core::last_errno();
    core::unique_fd err_read(err[0]), err_write(err[1]);

    pid_t pid = ::fork();
    if (pid < 0) return core::last_errno();
    if (pid == 0) {
        become_program(script, in_read.get(), out_write.get(), err_write.get(), argv.data(),
                       envp.data());
    }
    // Also here, so that a kill of the group right after this cannot miss a child that has
    // not reached its own setpgid yet.
    ::setpgid(pid, pid);
    Child child;
    child.pid = pid;
    core::Result<core::unique_fd> pidfd = core::open_pidfd(pid);
    if (!pidfd) {
        kill_group(pid);
        ::waitpid(pid, nullptr, 0);
        return core::Errno{pidfd.error()};
    }
    child.pidfd = std::move(pidfd.value());
    child.to_stdin = std::move(in_write);
    child.from_stdout = std::move(out_read);
    child.from_stderr = std::move(err_read);
    return child;
}

}  // namespace c10k::cgi

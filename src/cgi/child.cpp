#include "cgi/child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

/// posix_spawn's attributes and file actions, destroyed with it.
struct SpawnSetup {
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        posix_spawnattr_init(&attributes);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

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

    // posix_spawn, not fork: glibc's clones the server with CLONE_VM | CLONE_VFORK, so the
    // server's page tables are not copied for a child that execs at once (a fork of a server
    // holding a file cache costs more than the program's own start). What the child does
    // before the exec is said with attributes and file actions: a process group of its own;
    // every signal back to its default and none blocked (the server ignores SIGPIPE and
    // blocks its stop signals; a shell script writing to a closed pipe must die of it); the
    // pipes as 0, 1 and 2; its directory as working directory.
    SpawnSetup setup;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setpgroup(&setup.attributes, 0);
    posix_spawnattr_setsigdefault(&setup.attributes, &all);
    posix_spawnattr_setsigmask(&setup.attributes, &none);
    posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                                    POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_adddup2(&setup.actions, in_read.get(), 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), 2);
    // A "#!" script is run by its interpreter through /proc/self/fd/N, so the descriptor must
    // survive the exec: a dup2 onto itself clears its close-on-exec flag.
    posix_spawn_file_actions_adddup2(&setup.actions, script.file.get(), script.file.get());
    posix_spawn_file_actions_addfchdir_np(&setup.actions, script.directory.get());
    // Exactly the file that was checked is run (an O_PATH descriptor, as fexecve does):
    // nothing swapped in under its name since can run instead.
    std::string path = "/proc/self/fd/" + std::to_string(script.file.get());
    pid_t pid = -1;
    if (int error = ::posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attributes,
                                  argv.data(), envp.data());
        error != 0) {
        return core::Errno{error};
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

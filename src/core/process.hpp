#pragma once
// Child processes that run other programs (CGI, inetd): what every such child does between fork
// and exec, and how the parent ends and reaps it. A child watched through a pidfd needs no
// SIGCHLD handler: the pidfd becomes readable when the child exits.

#include <signal.h>
#include <sys/types.h>

#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::core {

/// In a forked child, before exec: every signal back to its default disposition and none
/// blocked. A server ignores SIGPIPE and blocks its stop signals for a signalfd; a program must
/// start with the defaults (a shell script writing to a closed socket should die of it).
/// Async-signal-safe.
void reset_signals_for_exec();

/// A pidfd for the child `pid` (pidfd_open, close-on-exec).
Result<unique_fd> open_pidfd(pid_t pid);

/// `signal` to the whole process group led by `pid`: what the program started dies with it.
void kill_group(pid_t pid, int signal = SIGKILL);

/// Reaps the exited child `pid` without blocking: its wait status, or -1 when it has not
/// exited (or was reaped already).
int reap(pid_t pid);

}  // namespace c10k::core

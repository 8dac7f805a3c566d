#pragma once
// Log files that SIGUSR1 reopens, as nginx's USR1: logrotate renames the file, sends the signal,
// and the server goes on writing to a fresh file of the old name. Each registered descriptor is
// replaced in place (dup3 of a new open onto its number), so every writer that holds the number,
// on any thread, writes to the new file from its next write on, with no lock and no gap.

#include <string>

namespace c10k::core {

/// Installs the SIGUSR1 handler (SA_RESTART, so that no system call of the server's fails with
/// EINTR for it; the waits that return EINTR anyway all retry). Call once, at start.
void install_reopen_handler();

/// Reopens `fd` (open on `path`, for appending) at each SIGUSR1, until forget_reopen(fd). At most
/// 8 at once; false when full. The path is copied.
bool reopen_on_signal(int fd, const std::string& path);
/// Stops reopening `fd`; call before closing it (a reopen would otherwise land on whatever reuses
/// the number).
void forget_reopen(int fd);

/// Reopens every registered file now, in this process (what the handler does).
void reopen_now();

/// True once per SIGUSR1 received here: a process that supervises children passes it on to them,
/// since each process holds its own descriptors.
bool take_reopen_request();

}  // namespace c10k::core

#pragma once
// Child processes for the engines that use them (fork per client, prefork) and for
// `--processes N`, which runs any event engine in N processes, each with its own SO_REUSEPORT
// listeners: the way one machine goes past a per-process descriptor limit.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "engine/engine.hpp"

namespace c10k::engine {

/// A child process with a pidfd, so that its exit can be waited for with poll() beside other
/// descriptors (no SIGCHLD handler, which would race with the signal-watching thread).
struct ChildProcess {
    pid_t pid = -1;
    core::unique_fd pidfd;
};

/// Forks a child that runs `body` and exits with its result (never returns in the child).
/// Returns the child, or an errno when fork or pidfd_open failed.
core::Result<ChildProcess> spawn_child(const std::function<int()>& body);

/// Reaps `child` if it has exited; returns true and its exit status (128+signal when killed).
bool reap_child(ChildProcess& child, int& status);

/// Waits until every child exited or `deadline_ms` (monotonic) passed, then kills those left
/// with SIGKILL and reaps them. Returns true when all exited with status 0 on their own.
bool wait_children(std::vector<ChildProcess>& children, std::int64_t deadline_ms);

/// Runs engine `name` in `processes` child processes. Child 0 serves on `listeners` (opened by
/// the caller, so their ports are concrete); the others bind new SO_REUSEPORT sockets to the
/// same endpoints. Every child shares `stop` (an eventfd survives fork), so a stop request in
/// this process stops them all; they then finish within the grace period. Returns 0 when every
/// child exited 0.
int run_process_group(int processes, const std::string& name, const ServerConfig& config,
                      const HandlerFactory& handlers, ListenerSet& listeners, StopSource& stop);

}  // namespace c10k::engine

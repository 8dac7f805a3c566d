#pragma once
// Child processes for the engines that use them (fork per client, prefork) and for
// `--processes N`, which runs any event engine in N processes, each with its own SO_REUSEPORT
// listeners: the way one machine goes past a per-process descriptor limit.
//
// A process that forks has no thread of its own at the fork (see stop.hpp): its supervising
// loop waits with poll() on the stop descriptor (a signalfd in a server process) and on one
// pidfd per child, and each child inherits its own stop path with the source.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "engine/engine.hpp"

namespace c10k::engine {

/// A child process with a pidfd, so that its exit can be waited for with poll() beside other
/// descriptors (no SIGCHLD handler, and no thread to take it).
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

/// The end of every process that forks: passes the stop on to each child (stop.pass_on) and
/// waits for them for the grace period and a second more. True when all exited 0.
bool stop_children(std::vector<ChildProcess>& children, const StopSource& stop,
                   std::int64_t grace_ms);

/// Keeps `count` children running until `stop`: child `slot` runs body(slot) and exits with
/// its result. A child that exits meanwhile, for whatever reason (a crash, or a SIGTERM sent
/// to that child alone to recycle it), is logged with its status and replaced; one that lived
/// less than a second is replaced only after a second's pause, so that a child that cannot
/// start does not become a fork loop. `what` names a child in the log ("prefork worker").
/// Returns 0 when every child that exited, during the run or at the stop, exited 0.
/// `heartbeat` beats here, in the supervising process (the one systemd watches).
int supervise_children(int count, const std::function<int(int slot)>& body, std::string_view what,
                       std::int64_t grace_ms, StopSource& stop, Heartbeat heartbeat = {});

/// Runs engine `name` in `processes` child processes, supervised as above. Child 0 serves on
/// `listeners` (opened by the caller, so their ports are concrete); the others bind new
/// SO_REUSEPORT sockets to the same endpoints. A stop of this process is passed on to every
/// child; each then finishes within the grace period. `in_child`, when given, runs in each
/// child (a replacement too) with its index before the engine starts: what a process of the
/// group must set up for itself (its role in a machine-local push hub). `at_child_stop`, when
/// given, runs in each child with its index when that child first sees its stop (where the
/// process that holds the push channels passes them to a successor). Returns 0 when every
/// child exited 0.
int run_process_group(int processes, const std::string& name, const ServerConfig& config,
                      const HandlerFactory& handlers, ListenerSet& listeners, StopSource& stop,
                      const std::function<void(int process)>& in_child = {},
                      const std::function<void(int process)>& at_child_stop = {});

/// Makes the engine a process of a group runs, in that process.
using EngineFactory = std::function<std::unique_ptr<Engine>()>;

/// The same for an engine that is not in the registry (the proxy's layer-4 relay, built from
/// its options): `make_engine` is called once here and once in each child.
int run_process_group(int processes, const EngineFactory& make_engine, const ServerConfig& config,
                      const HandlerFactory& handlers, ListenerSet& listeners, StopSource& stop,
                      const std::function<void(int process)>& in_child = {},
                      const std::function<void(int process)>& at_child_stop = {});

}  // namespace c10k::engine

#pragma once
// Reload (SIGHUP) and binary upgrade (SIGUSR2) by handing the listening sockets to a new
// process, as nginx's USR2 and HAProxy's seamless reload do: the running server forks and
// execs a new c10k (the same binary for a reload, the file it was started from for an
// upgrade) with the same command line, so the new one reads the config file again. The new
// process inherits every listening socket, with its accept queue, and never binds them again;
// when it is serving it tells the old one to stop (SIGTERM), and the old one drains. A new
// process that fails (an invalid config, a broken binary) exits, and the old one goes on
// serving as if nothing had happened.
//
// The signal handler does the fork and exec itself, with async-signal-safe calls only
// (_Fork, fcntl, sigprocmask, execve, write): the server has no thread that watches signals
// (engine/stop.hpp says why), and a handler needs none. What it passes is prepared before:
// the command line, the environment, and the sockets registered below.
//
// The environment of the new process says what it inherits:
//   C10K_INHERIT=E:FD:K,...   endpoint index E (as the old process numbered them), descriptor
//                             FD, K 's' for a socket every loop shares (socket activation,
//                             the first socket of an endpoint) or 'l' for a loop's own
//   C10K_HANDOVER=PID:WHAT:STATE:RELOADS:UPGRADES:FAILED
//                             the old process's pid, "reload" or "upgrade", a memfd where the
//                             old server writes its state as it stops (push channels and their
//                             history; -1: none), and the counts of handovers so far
//                             (HandoverCounts, this one included)

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/net.hpp"
#include "core/unique_fd.hpp"

namespace c10k::core {

/// The most listening sockets a handover carries (endpoints x loops x processes).
inline constexpr std::size_t kMaxHandoverSockets = 4096;

/// Installs the SIGHUP and SIGUSR2 handlers in this process, the one that owns the listening
/// sockets: its children ignore both (the handler checks the pid). Reads the command line and
/// the binary's path now, so that the handler only copies. Call once, before serving.
void install_handover();

/// Registers a listening socket to pass on at a handover: `endpoint` is its index in the
/// server's endpoint list, `shared` true when every loop accepts on it. Before serving only
/// (the handler reads the table without a lock: entries are published by a count).
void handover_register(int fd, std::size_t endpoint, bool shared);
/// Forgets every registered socket and refuses later handovers: the server stops, and the
/// descriptors are about to be closed (a handover now would pass closed or reused numbers).
void handover_close();

/// True while a handover this process started is under way and once it is done: the stop
/// that follows is a drain for a successor, so idle keep-alive connections are not cut but
/// closed after their next response (Connection: close), which no client can race. Shared
/// with the children forked after install_handover (a page of shared memory).
bool handover_draining();

/// One socket a predecessor passed on.
struct InheritedSocket {
    std::size_t endpoint = 0;  ///< the predecessor's index
    bool shared = false;
    unique_fd fd;
    Endpoint address;  ///< where it is bound
};

/// What this process took over, when a predecessor started it.
struct Handover {
    pid_t from = 0;    ///< 0: not started by a handover
    std::string what;  ///< "reload" or "upgrade"
    std::vector<InheritedSocket> sockets;
    unique_fd state;  ///< the memfd the old server writes its state to (read_handover_state)
};

/// Reads (and removes from the environment) what a predecessor passed on into `out`. Every
/// descriptor is checked to be a listening TCP socket and made close-on-exec again. False with
/// `error` (naming the entry) when something passed on is not usable.
bool take_handover(Handover& out, std::string& error);

/// Handovers in this server's life, carried from each process to its successor (so that they
/// do not start again at 0 as a new process's own counters do), for /metrics.
struct HandoverCounts {
    std::uint64_t reloads = 0;   ///< successors that took over after SIGHUP
    std::uint64_t upgrades = 0;  ///< successors that took over after SIGUSR2
    std::uint64_t failed = 0;    ///< successors that exited before taking over
};
HandoverCounts handover_counts();

/// The old server, as it stops for a successor: writes `bytes` (what the successor must carry
/// on: push channels) where the successor reads it. Nothing when no handover is under way, and
/// only the first call of a handover writes: the process that holds the channels calls it (the
/// main process, or the first child of a --processes group), and the main process calls it
/// with nothing when no process of it holds any, so that the successor does not wait.
void handover_pass_state(std::string_view bytes);

/// The successor: true once the old server has written its state to `fd` (Handover::state),
/// with the state in `out`; false while it has not (yet).
bool read_handover_state(int fd, std::string& out);

/// Tells the predecessor to stop (it drains); call once serving. Also tells systemd the new
/// main pid (MAINPID, with NotifyAccess=all).
void finish_handover(pid_t from);

}  // namespace c10k::core

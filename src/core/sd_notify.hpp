#pragma once
// The service manager's side of a c10k server: readiness, reload and stop notifications, the
// watchdog, and listening sockets handed over by socket activation. A thin layer over
// libsystemd's sd_notify(3) and sd_listen_fds(3), so that the unit file can say Type=notify and
// systemd knows when the server really accepts connections, not merely that it was exec'd.
//
// Every notify_* call is a no-op that succeeds when $NOTIFY_SOCKET is unset (the server was not
// started by systemd, or by a unit that does not want notifications). Each call sends one
// datagram on a socket opened for it: they are rare (start, reload, stop, a watchdog ping every
// few seconds), never per request. With NotifyAccess=main only the main process may notify, so a
// server that forks workers sends these from the parent.

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/net.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::core {

/// READY=1: every listener is bound and the engine runs, so systemd may start the units ordered
/// after this one and `systemctl start` returns. Also sent again when a reload has finished.
Result<void> notify_ready();

/// RELOADING=1 with MONOTONIC_USEC=<now>: a reload (SIGHUP) has begun. systemd 253+ needs the
/// timestamp to match the notification to the reload it asked for; 252 ignores it. Follow with
/// notify_ready() once the new settings are in force.
Result<void> notify_reloading();

/// STOPPING=1: the server has begun its graceful shutdown, so systemd shows "deactivating" and
/// does not count the time as a hang.
Result<void> notify_stopping();

/// STATUS=<text>: one line for `systemctl status` (connections, what a reload did). Newlines in
/// `text` become spaces, since the protocol is one assignment per line.
Result<void> notify_status(std::string_view text);

/// MAINPID=<pid>: the process systemd should treat as the service's main one (after a reload
/// that re-executes the server in a new process, for example).
Result<void> notify_mainpid(pid_t pid);

/// The watchdog interval systemd set for this process (WatchdogSec= in the unit, passed as
/// WATCHDOG_USEC and WATCHDOG_PID), in milliseconds; 0 when there is no watchdog or it is meant
/// for another process. Ping with notify_watchdog() at half this interval or more often.
std::uint64_t watchdog_interval_ms();

/// WATCHDOG=1: the server's loops are still turning. Send it from the place that proves that
/// (a loop's timer), not from a thread of its own, or a stuck server would go on pinging.
Result<void> notify_watchdog();

/// A listening socket inherited from systemd (socket activation), with the address it is bound
/// to, so that the server can log and report it like a listener it opened itself.
struct InheritedListener {
    unique_fd fd;
    Endpoint endpoint;
};

/// The listening sockets systemd passed (LISTEN_FDS/LISTEN_PID, starting at descriptor 3), owned
/// by the result and close-on-exec; empty when none were passed or they are meant for another
/// process. The variables are removed from the environment so that processes the server starts
/// do not take the descriptors for theirs. Fails with ENOTSOCK when a passed descriptor is not a
/// listening stream socket (a .socket unit with ListenDatagram=, say) and with EAFNOSUPPORT when
/// it is not IPv4 or IPv6 (ListenStream=/run/x.sock): the server should refuse to start rather
/// than serve part of what the unit asked.
Result<std::vector<InheritedListener>> listen_fds();

}  // namespace c10k::core

#pragma once
// `c10k inetd`: a small epoll loop of its own, since no HTTP is spoken. It watches the
// listeners, the stop descriptor and one pidfd per running program (no SIGCHLD handler: a
// pidfd becomes readable when its program exits, and the program is reaped then), and wakes
// for the nearest deadline: a program's --timeout, the end of a --cps pause, the stop's grace.

#include <cstdint>
#include <vector>

#include "core/unique_fd.hpp"
#include "inetd/program.hpp"

namespace c10k::inetd {

/// The limits, named after xinetd's attributes; 0 turns a limit off.
struct Options {
    Program program;
    std::uint32_t max_instances = 50;   ///< xinetd `instances`: programs running at once
    std::uint32_t per_source = 10;      ///< xinetd `per_source`: at once per client address
    std::uint32_t cps = 50;             ///< xinetd `cps`: connections per second...
    std::int64_t cps_wait_ms = 10'000;  ///< ...and how long accepting stops beyond it
    std::int64_t timeout_ms = 0;        ///< a program running longer gets SIGKILL (group)
    /// At the stop, how long running programs may take to end by themselves before their
    /// process groups get SIGTERM (and SIGKILL kill_after_term_ms later).
    std::int64_t shutdown_grace_ms = 10'000;
    std::int64_t kill_after_term_ms = 2'000;
};

/// Serves until `stop_fd` becomes readable, then stops accepting, lets the programs end (see
/// Options::shutdown_grace_ms) and returns once every one of them was reaped: 0, or 1 when
/// the loop itself failed. `listeners` are listening, non-blocking and close-on-exec.
int serve(const Options& options, std::vector<core::unique_fd> listeners, int stop_fd);

}  // namespace c10k::inetd

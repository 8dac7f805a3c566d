#pragma once
// A CGI program's process: started in a process group of its own (so that a timeout or a
// client that leaves kills whatever it started too), with pipes for its standard input, output
// and error, and a pidfd whose readability says it exited (no SIGCHLD handler: the loop that
// runs it watches the pidfd like any descriptor).

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgi/script.hpp"
#include "core/process.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::cgi {

struct Child {
    pid_t pid = -1;
    core::unique_fd pidfd;
    core::unique_fd to_stdin;     ///< the program's standard input (non-blocking)
    core::unique_fd from_stdout;  ///< its standard output (non-blocking)
    core::unique_fd from_stderr;  ///< its standard error (non-blocking)
};

/// Runs `script` (its descriptor, through execveat: exactly the file that was checked) with
/// `environment` ("NAME=value"), its directory as working directory, and the default
/// disposition for every signal. Returns an errno when a pipe, fork or pidfd_open failed.
core::Result<Child> spawn(const Script& script, const std::vector<std::string>& environment);

// SIGKILL to the program's whole process group, and the non-blocking reap: shared with
// every layer that runs programs (core/process.hpp).
using core::kill_group;
using core::reap;

}  // namespace c10k::cgi

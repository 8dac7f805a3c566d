#pragma once
// Starting and stopping the servers under test: c10k's own engines (`c10k serve` from this very
// binary) and the anchors nginx, h2o and lighttpd, for which compare writes its own configs.
// Every server is pinned to CPU 0 (where the machine has two or more) so that its CPU time is
// not mixed with the load generator's, and is stopped by the PID compare started, never by name.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compare/matrix.hpp"

namespace c10k::compare {

/// Where and how to start a server for one cell.
struct LaunchOptions {
    std::string c10k_binary;   ///< the c10k executable (compare's own, via /proc/self/exe)
    std::string root;          ///< document root holding SIZE.txt for every size
    std::string work_dir;      ///< configs and logs go here
    int cpu = 0;               ///< CPU to pin to; -1 leaves the scheduler free
    /// Connections the cell will open: per-connection engines get a cap above it (and prefork
    /// that many workers) so that they are given the chance to hold them.
    std::uint32_t connections = 0;
};

/// A server process that compare started. The destructor stops it.
class ServerProcess {
public:
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    /// Starts `spec` on a free port of 127.0.0.1. Throws std::runtime_error when the process
    /// cannot be started at all (missing binary, config not writable).
    static std::unique_ptr<ServerProcess> start(const ServerSpec& spec,
                                                const LaunchOptions& options);

    pid_t pid() const { return pid_; }
    int port() const { return port_; }
    const std::string& log_path() const { return log_path_; }

    /// Waits until GET `path` is answered with 200, up to `timeout_ms`. On failure `error`
    /// says whether the process exited (and how) or never answered.
    bool wait_ready(const std::string& path, int timeout_ms, std::string& error);
    /// True when the process has exited; `how` then says "exit status N" or "killed by SIGX".
    bool exited(std::string& how);
    /// SIGTERM, a bounded wait, then SIGKILL to every process of its tree that is still there.
    void stop();
    /// The last `lines` lines of the server's own output, for failure reasons.
    std::string log_tail(std::size_t lines = 3) const;

private:
    ServerProcess() = default;

    pid_t pid_ = -1;
    int port_ = 0;
    bool reaped_ = false;
    std::string exit_how_;
    std::string log_path_;
};

/// Whether the anchor's binary is on this machine.
bool anchor_installed(const std::string& name);
/// The anchor's version line ("nginx/1.22.1"), or empty.
std::string anchor_version(const std::string& name);

/// Starts `argv` with stdout and stderr to `log_path`, pinned to `cpu` (-1: not pinned), at
/// `nice` (0: as compare runs). Returns the PID; throws std::runtime_error if fork fails.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path, int cpu,
                    int nice = 0);

/// A port on 127.0.0.1 that was free a moment ago (bound with port 0 and released).
int pick_free_port();

/// Makes compare the reaper of orphans of the servers it starts (a fork engine's children
/// whose parent died), so that none of them outlives the run unnoticed.
void become_subreaper();
/// Reaps every exited child that is not waited for elsewhere (orphans re-parented to us).
void reap_orphans();

}  // namespace c10k::compare

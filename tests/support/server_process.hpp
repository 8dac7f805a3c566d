#pragma once
// Starts the real `c10k` binary as a child process for end-to-end tests, finds the port it
// listens on from its ready line, and stops it by PID.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace c10k::test {

/// Path of the c10k binary under test (from the build).
std::string binary_path();

class ServerProcess {
public:
    /// Runs `c10k ARGS...` with stdout and stderr captured, and waits (up to 10 s) for the
    /// ready line "c10k: serving ... on http://HOST:PORT/". Throws std::runtime_error with the
    /// captured output if it exits or does not become ready.
    explicit ServerProcess(std::vector<std::string> args);
    /// As above, started as systemd's socket activation starts a service: `listener` (a
    /// listening socket of the test's) becomes descriptor 3 of the server, with LISTEN_FDS=1
    /// and LISTEN_PID set to the server's pid.
    ServerProcess(std::vector<std::string> args, int listener);
    /// As above, running `binary` instead of the build's (a copy that a test replaces, as a
    /// package upgrade does); `listener` -1 for none.
    ServerProcess(const std::string& binary, std::vector<std::string> args, int listener = -1);
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    bool running();

    /// Sends `signal` and waits up to timeout_ms for the exit. Returns the exit status, or
    /// 128+signal if it died of a signal, or -1 if it did not exit in time (it is then killed).
    int stop(int signal = 15, int timeout_ms = 15000);
    /// All output captured so far.
    std::string output();

private:
    void drain_output(int timeout_ms);

    pid_t pid_ = -1;
    int exit_status_ = -1;
    int output_fd_ = -1;
    int port_ = 0;
    std::string output_;
};

/// Runs `c10k ARGS...` to completion (bounded by timeout_ms) and returns its exit status and
/// combined output. For commands that are expected to fail fast (bad flags).
struct CommandResult {
    int status = -1;
    std::string output;
};
CommandResult run_command(std::vector<std::string> args, int timeout_ms = 15000);

/// As run_command, for another program (a script run by /bin/bash, say): argv[0] is `program`.
/// Past timeout_ms it gets SIGTERM, and SIGKILL 10 s later.
CommandResult run_program(const std::string& program, std::vector<std::string> args,
                          int timeout_ms);

/// The peak resident set of `pid` (VmHWM), in KiB; a test failure when there is none.
std::uint64_t peak_rss_kib(pid_t pid);

/// A test name from a parameter of extra flags: the values joined by '_', the flag names left
/// out ({"--engine", "epoll", "--threads", "2"} -> "epoll_2").
std::string flag_values_name(const std::vector<std::string>& flags);

/// A fresh temporary directory, removed with its contents at destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }
    /// Writes `contents` to path()/relative, creating parent directories.
    std::string write(const std::string& relative, const std::string& contents) const;

private:
    std::string path_;
};

}  // namespace c10k::test

#pragma once
// Starts a real redis-server (the Debian package) for tests of the Redis backplane: on
// 127.0.0.1 with a free port, without persistence, in a temporary directory, and stops it by
// PID. Redis cannot pick its own port (`--port 0` means "no TCP"), so a free one is found by
// binding 127.0.0.1:0 first; if another process takes it meanwhile, a new one is tried.

#include <sys/types.h>

#include <string>
#include <vector>

namespace c10k::test {

class RedisServer {
public:
    /// Starts redis-server with `extra_args` after the defaults (--save "" --appendonly no
    /// --daemonize no) and waits until it answers PING. Throws std::runtime_error with its log
    /// when it exits or never answers.
    explicit RedisServer(std::vector<std::string> extra_args = {});
    /// Stops the server if it still runs and removes its directory.
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& directory() const { return directory_; }

    /// Sends `signal` (SIGTERM by default; SIGKILL to simulate a crash) and waits for the exit.
    void stop(int signal = 15);
    /// Starts the server again on the same port after stop(), with the same arguments (a
    /// Redis restart, for tests of reconnection). Throws like the constructor.
    void restart();
    /// What the server wrote to its log so far.
    std::string log() const;

private:
    /// One attempt on a fresh port; false when the server exited (its port was taken).
    bool start_once();

    std::vector<std::string> extra_args_;

    pid_t pid_ = -1;
    int port_ = 0;
    std::string directory_;
};

}  // namespace c10k::test

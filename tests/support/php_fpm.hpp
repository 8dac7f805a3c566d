#pragma once
// A real php-fpm for the FastCGI tests, started by the test on a Unix socket in a temporary
// directory (a static pool of two workers, no php.ini: PHP's defaults) and stopped by PID.
// As root, php-fpm needs -R to run its workers as root; the tests pass it then.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace c10k::test {

/// The php-fpm binary: $C10K_PHP_FPM, else the first php-fpm* in /usr/sbin or /usr/bin; empty
/// when there is none (scripts/install-deps.sh installs it).
std::string php_fpm_binary();

class PhpFpm {
public:
    PhpFpm();
    ~PhpFpm();
    PhpFpm(const PhpFpm&) = delete;
    PhpFpm& operator=(const PhpFpm&) = delete;

    /// Starts it and waits (up to 10 s) for its socket; a test failure when it does not come.
    void start();
    /// Stops it (SIGTERM, then SIGKILL after 10 s) and waits for it; the socket goes.
    void stop();
    const std::string& socket() const { return socket_; }
    /// "unix:<socket>", for --fastcgi.
    std::string address() const { return "unix:" + socket_; }
    /// php-fpm's own log (its workers' stderr and its notices).
    std::string log() const;

private:
    TempDir dir_;
    std::string socket_;
    pid_t pid_ = -1;
};

/// A document root with a PHP page (page.php echoes its query's x, SCRIPT_NAME, PATH_INFO and
/// SCRIPT_FILENAME), php-fpm, and a server (one thread, two connections to php-fpm) sending
/// *.php to it, with `extra` flags.
class PhpSite {
public:
    explicit PhpSite(std::vector<std::string> extra = {});
    int port() const { return server->port(); }

    TempDir root;
    PhpFpm fpm;
    std::unique_ptr<ServerProcess> server;
};

}  // namespace c10k::test

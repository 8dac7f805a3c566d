#pragma once
// Starting the program for one connection, as inetd's `nowait` services are started: the
// socket is its standard input, output and error (as xinetd does: what it writes on standard
// error goes to the client too), it leads a process group of its own, every signal is back to
// its default, and it holds no descriptor of the server's.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "core/net.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::inetd {

/// What runs for every connection.
struct Program {
    /// The file executed: absolute, or relative to the server's working directory.
    std::string path;
    /// argv, argv[0] included (the name as given on the command line).
    std::vector<std::string> argv;
    /// "NAME=value" entries every program gets; the connection's own are added (environment()).
    std::vector<std::string> environment;
};

/// The PATH every program gets unless --env sets or passes one (the one CGI programs get).
inline constexpr const char* default_path = "PATH=/usr/local/bin:/usr/bin:/bin";

/// The part of the environment that is the same for every connection (Program::environment):
/// default_path unless `entries` name PATH, then `entries` (the --env flags): "NAME=VALUE"
/// sets (xinetd `env`), a bare "NAME" passes `lookup(NAME)` on when it is not null (xinetd
/// `passenv`). False, with a sentence in `error`, for an entry that is no NAME, or that names
/// a variable set for each connection (environment()).
bool fixed_environment(const std::vector<std::string>& entries,
                       const std::function<const char*(const char*)>& lookup,
                       std::vector<std::string>& out, std::string& error);

/// The connection's addresses, as the program's environment shows them.
struct Peers {
    std::string remote_address;  ///< "127.0.0.1", "::1" (no brackets, as CGI's REMOTE_ADDR)
    int remote_port = 0;
    std::string local_address;
    int local_port = 0;
};

/// The addresses of a connected socket; false when getpeername or getsockname failed.
bool read_peers(int socket, Peers& out);

/// The program's whole environment for one connection: `program.environment`, then
/// REMOTE_ADDR, REMOTE_PORT, SERVER_ADDR, SERVER_PORT (the CGI names) and PROTO=TCP,
/// TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT (the names of ucspi-tcp's tcpserver,
/// which many small line-based programs already read).
std::vector<std::string> environment(const Program& program, const Peers& peers);

struct Started {
    pid_t pid = -1;
    core::unique_fd pidfd;  ///< readable once the program exited
};

/// Forks and executes `program` with `socket` (a blocking, connected socket) as descriptors
/// 0, 1 and 2. An exec that fails ends the child with status 127, as a shell's does; only a
/// failed fork or pidfd_open is an error here.
core::Result<Started> start(const Program& program, const std::vector<std::string>& environment,
                            int socket);

}  // namespace c10k::inetd

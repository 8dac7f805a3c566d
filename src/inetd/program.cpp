#include "inetd/program.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>

#include "core/process.hpp"

namespace c10k::inetd {

namespace {

/// What environment() sets for each connection; --env may not take these names over.
constexpr const char* per_connection_names[] = {"REMOTE_ADDR",   "REMOTE_PORT", "SERVER_ADDR",
                                                "SERVER_PORT",   "PROTO",       "TCPREMOTEIP",
                                                "TCPREMOTEPORT", "TCPLOCALIP",  "TCPLOCALPORT"};

/// "127.0.0.1" or "::1" and the port of a socket address.
void split(const sockaddr_storage& address, std::string& host, int& port) {
    core::Endpoint endpoint;
    endpoint.address = address;
    endpoint.length = address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    host = core::address_text(address);
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    port = endpoint.port();
}

/// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void become_program(int socket, pid_t parent, const char* path, char* const* argv,
                                 char* const* envp) {
    ::setpgid(0, 0);
    // A server killed outright (SIGKILL, a crash) cannot end its programs at its stop: the
    // kernel sends them SIGTERM instead. It is checked after the call, in case the server died
    // between the fork and it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    core::reset_signals_for_exec();
    for (int target = 0; target <= 2; ++target) {
        if (socket != target && ::dup2(socket, target) < 0) ::_exit(127);
        // dup2 clears close-on-exec on its copy, but a socket that already is 0, 1 or 2 (a
        // server started with a standard descriptor closed) keeps the flag: clear it.
        ::fcntl(target, F_SETFD, 0);
    }
    // Everything of the server's is close-on-exec; this also closes what the server itself
    // inherited without the flag, so that the program holds the connection and nothing else.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execve(path, argv, envp);
    ::_exit(127);
}

}  // namespace

bool fixed_environment(const std::vector<std::string>& entries,
                       const std::function<const char*(const char*)>& lookup,
                       std::vector<std::string>& out, std::string& error) {
    out.clear();
    bool path_given = false;
    for (const std::string& entry : entries) {
        std::size_t equals = entry.find('=');
        std::string name = entry.substr(0, equals);
        if (name.empty() || name.find_first_of(" \t\n") != std::string::npos) {
            error = "'" + entry + "': expected NAME=VALUE or NAME";
            return false;
        }
        for (const char* own : per_connection_names) {
            if (name == own) {
                error = "'" + entry + "': " + name +
                        " is set by c10k inetd for each connection; drop it";
                return false;
            }
        }
        path_given = path_given || name == "PATH";
        if (equals != std::string::npos) {
            out.push_back(entry);
        } else if (const char* value = lookup(name.c_str()); value != nullptr) {
            out.push_back(name + "=" + value);
        }
    }
    if (!path_given) out.insert(out.begin(), default_path);
    return true;
}

bool read_peers(int socket, Peers& out) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
    split(address, out.remote_address, out.remote_port);
    length = sizeof address;
    if (::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
    split(address, out.local_address, out.local_port);
    return true;
}

std::vector<std::string> environment(const Program& program, const Peers& peers) {
    std::vector<std::string> out = program.environment;
    std::string remote_port = std::to_string(peers.remote_port);
    std::string local_port = std::to_string(peers.local_port);
    out.push_back("REMOTE_ADDR=" + peers.remote_address);
    out.push_back("REMOTE_PORT=" + remote_port);
    out.push_back("SERVER_ADDR=" + peers.local_address);
    out.push_back("SERVER_PORT=" + local_port);
    out.push_back("PROTO=TCP");
    out.push_back("TCPREMOTEIP=" + peers.remote_address);
    out.push_back("TCPREMOTEPORT=" + remote_port);
    out.push_back("TCPLOCALIP=" + peers.local_address);
    out.push_back("TCPLOCALPORT=" + local_port);
    return out;
}

core::Result<Started> start(const Program& program, const std::vector<std::string>& environment,
                            int socket) {
    // Everything the child needs is made before the fork.
    std::vector<std::string> argv_copy = program.argv;
    std::vector<char*> argv;
    for (std::string& argument : argv_copy) argv.push_back(argument.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(environment.size() + 1);
    for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
    pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) return core::last_errno();
    if (pid == 0) become_program(socket, parent, program.path.c_str(), argv.data(), envp.data());
    // Also here, so that a kill of the group right after this cannot miss a child that has
    // not reached its own setpgid yet.
    ::setpgid(pid, pid);
    core::Result<core::unique_fd> pidfd = core::open_pidfd(pid);
    if (!pidfd) {
        core::kill_group(pid);
        ::waitpid(pid, nullptr, 0);
        return core::Errno{pidfd.error()};
    }
    Started started;
    started.pid = pid;
    started.pidfd = std::move(pidfd.value());
    return started;
}

}  // namespace c10k::inetd

#include "compare/servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "bench/proc_sampler.hpp"

namespace c10k::compare {

namespace {

using Clock = std::chrono::steady_clock;

/// Above any connection count the plan uses, below the 20,000-descriptor limit of this machine;
/// the same figure bench/servers.sh gives the anchors.
constexpr std::uint32_t kAnchorMaxConnections = 20000;
/// Headroom over N for the per-connection engines' caps: the readiness probe and a reconnect.
constexpr std::uint32_t kCapHeadroom = 64;

std::string find_binary(const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin"}) {
        std::string path = fmt::format("{}/{}", dir, name);
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return {};
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

constexpr const char* kNginxPerlModule = "/usr/lib/nginx/modules/ngx_http_perl_module.so";

/// The overload experiment's `GET /cost/<us>` in nginx's embedded Perl: burns that many
/// microseconds of the worker's CPU time (the clock c10k's --synthetic-cost reads), on the
/// event loop, and answers 200 with the same short body.
const char* const kNginxPerlCost = R"(    location /cost/ {
      perl 'sub {
        my $r = shift;
        my ($us) = $r->uri =~ m{^/cost/(\d+)$};
        $us //= 0;
        my $clock = Time::HiRes::CLOCK_THREAD_CPUTIME_ID();
        my $end = Time::HiRes::clock_gettime($clock) + $us / 1e6;
        1 while Time::HiRes::clock_gettime($clock) < $end;
        $r->send_http_header("text/plain");
        $r->print("burned $us us\n");
        return OK;
      }';
    }
)";

/// nginx as bench/servers.sh runs it: one worker, sendfile, no access log, keep-alive
/// connections never closed by request count, enough worker_connections for 15,000 clients.
/// The "aio threads" variant (the disk experiment) hands file reads to nginx's default thread
/// pool, the counterpart of c10k's disk helpers; the "perl" variant (the overload experiment)
/// adds the CPU-burning location.
std::vector<std::string> nginx_command(const ServerSpec& spec, const LaunchOptions& options,
                                       int port) {
    std::string dir = options.work_dir + "/nginx";
    std::string aio = spec.variant == "aio threads" ? "  aio threads;\n" : "";
    std::string module, http_extra, location;
    if (spec.variant == "perl") {
        if (::access(kNginxPerlModule, R_OK) != 0) {
            throw std::runtime_error(
                "nginx's Perl module is missing (Debian package libnginx-mod-http-perl, which "
                "make test installs)");
        }
        module = fmt::format("load_module {};\n", kNginxPerlModule);
        http_extra = "  perl_require Time/HiRes.pm;\n";
        location = kNginxPerlCost;
    }
    ::mkdir(dir.c_str(), 0755);
    write_file(dir + "/nginx.conf",
               fmt::format("{5}daemon off;\nworker_processes 1;\nerror_log {0}/error.log;\n"
                           "pid {0}/nginx.pid;\nworker_rlimit_nofile {1};\n"
                           "events {{ worker_connections {1}; }}\n"
                           "http {{ access_log off; sendfile on; keepalive_requests 1000000;\n"
                           "  keepalive_timeout 120s;\n{4}{6}"
                           "  types {{ text/plain txt; }}\n"
                           "  server {{ listen 127.0.0.1:{2}; root {3};\n{7}  }} }}\n",
                           dir, kAnchorMaxConnections, port, options.root, aio, module,
                           http_extra, location));
    return {find_binary("nginx"), "-p", dir, "-c", dir + "/nginx.conf"};
}

/// The overload experiment's `GET /cost/<us>` in h2o's mruby: burns that many microseconds on
/// the event loop and answers 200 with the same short body. mruby has no thread CPU clock, so
/// it waits on the wall clock; the server is alone on its CPU, where the two agree.
const char* const kH2oMrubyCost = R"(      /cost:
        mruby.handler: |
          Proc.new do |env|
            us = env["PATH_INFO"].sub("/", "").to_i
            t0 = Time.now
            while (Time.now - t0) * 1000000 < us do end
            [200, {"content-type" => "text/plain"}, ["burned #{us} us\n"]]
          end
)";

/// h2o with one thread: the event loop alone, as bench/servers.sh configures it; the "mruby"
/// variant (the overload experiment) adds the CPU-burning path.
std::vector<std::string> h2o_command(const ServerSpec& spec, const LaunchOptions& options,
                                     int port) {
    std::string path = options.work_dir + "/h2o.conf";
    write_file(path, fmt::format("listen: {{host: 127.0.0.1, port: {}}}\nnum-threads: 1\n"
                                 "max-connections: {}\nhttp1-request-timeout: 120\n"
                                 "hosts:\n  default:\n    paths:\n{}      /:\n"
                                 "        file.dir: {}\n",
                                 port, kAnchorMaxConnections,
                                 spec.variant == "mruby" ? kH2oMrubyCost : "", options.root));
    return {find_binary("h2o"), "-c", path};
}

/// lighttpd in the foreground, with its descriptor and connection limits raised.
std::vector<std::string> lighttpd_command(const LaunchOptions& options, int port) {
    std::string path = options.work_dir + "/lighttpd.conf";
    write_file(path, fmt::format("server.document-root = \"{}\"\nserver.bind = \"127.0.0.1\"\n"
                                 "server.port = {}\nserver.max-keep-alive-requests = 1000000\n"
                                 "server.max-fds = {}\nserver.max-connections = 16000\n"
                                 "server.max-keep-alive-idle = 120\n"
                                 "mimetype.assign = (\".txt\" => \"text/plain\")\n",
                                 options.root, port, kAnchorMaxConnections));
    return {find_binary("lighttpd"), "-D", "-f", path};
}

/// `c10k serve` with one event loop, or with the per-connection engines' caps raised above N
/// (and prefork given one worker per connection, as Apache's MaxClients would have to be).
std::vector<std::string> engine_command(const ServerSpec& spec, const LaunchOptions& options,
                                        int port) {
    std::uint32_t per_connection = options.connections + kCapHeadroom;
    std::uint32_t cap = (spec.name == "thread" || spec.name == "fork") ? per_connection : 0;
    std::vector<std::string> command = {options.c10k_binary, "serve", "--engine", spec.name,
                                        "--threads", "1"};
    // prefork's workers are processes: `c10k serve` takes their number from --processes.
    if (spec.name == "prefork") {
        command.insert(command.end(), {"--processes", std::to_string(per_connection)});
    }
    command.insert(command.end(), {
            "--listen", fmt::format("127.0.0.1:{}", port),
            "--root", options.root,
            "--max-connections", std::to_string(cap),
            // Longer than any gap between two requests of one connection (15,000 connections at
            // 2,000 requests/s send every 7.5 s), so idle closes never count as errors.
            "--keepalive-timeout", "120s",
            "--shutdown-grace", "1s"});
    // An experiment's variant: --overload-target, --no-helpers, --no-cache, --synthetic-cost.
    command.insert(command.end(), spec.flags.begin(), spec.flags.end());
    return command;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("killed by {}", strsignal(WTERMSIG(status)));
    return "stopped";
}

/// One GET over a fresh connection; true on a 200 status line.
bool probe_once(int port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        std::string request = fmt::format(
            "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
            char head[16] = {};
            ssize_t got = ::recv(fd, head, 12, MSG_WAITALL);
            ok = got == 12 && std::memcmp(head, "HTTP/1.", 7) == 0 &&
                 std::memcmp(head + 9, "200", 3) == 0;
        }
    }
    ::close(fd);
    return ok;
}

}  // namespace

pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path, int cpu,
                    int nice) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) throw std::runtime_error("cannot open " + log_path);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(log);
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            ::sched_setaffinity(0, sizeof set, &set);
        }
        if (nice != 0) ::setpriority(PRIO_PROCESS, 0, nice);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(log, 1);
        ::dup2(log, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(log);
    return pid;
}

int pick_free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("cannot find a free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

void reap_orphans() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

bool anchor_installed(const std::string& name) { return !find_binary(name).empty(); }

std::string anchor_version(const std::string& name) {
    std::string binary = find_binary(name);
    if (binary.empty()) return {};
    const char* flag = name == "nginx" ? "-v" : (name == "h2o" ? "--version" : "-v");
    std::string command = fmt::format("{} {} 2>&1", binary, flag);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {};
    char line[256] = {};
    std::string first = std::fgets(line, sizeof line, pipe) ? line : "";
    ::pclose(pipe);
    while (!first.empty() && (first.back() == '\n' || first.back() == '\r')) first.pop_back();
    return first;
}

std::unique_ptr<ServerProcess> ServerProcess::start(const ServerSpec& spec,
                                                    const LaunchOptions& options) {
    int port = pick_free_port();
    std::vector<std::string> argv;
    if (spec.kind == ServerKind::engine) {
        argv = engine_command(spec, options, port);
    } else if (spec.name == "nginx") {
        argv = nginx_command(spec, options, port);
    } else if (spec.name == "h2o") {
        argv = h2o_command(spec, options, port);
    } else if (spec.name == "lighttpd") {
        argv = lighttpd_command(options, port);
    } else {
        throw std::runtime_error("unknown server " + spec.name);
    }
    if (argv.front().empty()) throw std::runtime_error(spec.name + " is not installed");
    std::unique_ptr<ServerProcess> server(new ServerProcess());
    server->port_ = port;
    server->log_path_ = fmt::format("{}/{}.log", options.work_dir, spec.name);
    ::truncate(server->log_path_.c_str(), 0);
    server->pid_ = spawn_process(argv, server->log_path_, options.cpu);
    return server;
}

ServerProcess::~ServerProcess() { stop(); }

bool ServerProcess::exited(std::string& how) {
    if (!reaped_ && pid_ > 0) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            exit_how_ = describe_status(status);
        }
    }
    how = exit_how_;
    return reaped_;
}

bool ServerProcess::wait_ready(const std::string& path, int timeout_ms, std::string& error) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string how;
    while (Clock::now() < deadline) {
        if (exited(how)) {
            error = fmt::format("server exited at start ({}): {}", how, log_tail());
            return false;
        }
        if (probe_once(port_, path)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error = fmt::format("server did not answer GET {} within {} ms: {}", path, timeout_ms,
                        log_tail());
    return false;
}

void ServerProcess::stop() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    std::string how;
    while (Clock::now() < deadline && !exited(how)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped_) {
        for (pid_t pid : bench::process_tree({pid_})) ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        exit_how_ = describe_status(status);
    }
    // Descendants that outlived their parent (a fork engine's children) were re-parented to
    // compare, the subreaper; no load generator runs now, so every descendant of compare left
    // is one this server started.
    pid_t self = ::getpid();
    for (pid_t pid : bench::process_tree({self})) {
        if (pid != self) ::kill(pid, SIGKILL);
    }
    reap_orphans();
}

std::string ServerProcess::log_tail(std::size_t lines) const {
    std::ifstream in(log_path_);
    std::deque<std::string> last;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        last.push_back(line);
        if (last.size() > lines) last.pop_front();
    }
    std::string out;
    for (const auto& kept : last) out += (out.empty() ? "" : " | ") + kept;
    return out.empty() ? "(no output)" : out;
}

}  // namespace c10k::compare

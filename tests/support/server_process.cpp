#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace c10k::test {

namespace {

using Clock = std::chrono::steady_clock;

/// Writes `value` in decimal at `out` (async-signal-safe, for a forked child); returns the end.
char* write_decimal(char* out, long value) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value > 0);
    while (n > 0) *out++ = digits[--n];
    *out = '\0';
    return out;
}

pid_t spawn(const std::vector<std::string>& args, int& output_fd, int listener,
            std::string binary) {
    // Built before the fork: the child only fills in its pid and execs.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    char listen_pid[48] = "LISTEN_PID=";
    if (listener >= 0) env.emplace_back("LISTEN_FDS=1");
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    if (listener >= 0) envp.push_back(listen_pid);
    envp.push_back(nullptr);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, STDIN_FILENO);
        if (listener >= 0) {
            // dup2 clears close-on-exec on the copy; when it is already 3, clear it by hand.
            if (listener == 3) {
                ::fcntl(3, F_SETFD, 0);
            } else {
                ::dup2(listener, 3);
            }
            write_decimal(listen_pid + 11, static_cast<long>(::getpid()));
        }
        std::vector<char*> argv;
        argv.push_back(binary.data());
        std::vector<std::string> copy = args;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execve(binary.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    output_fd = pipe_fds[0];
    ::fcntl(output_fd, F_SETFL, O_NONBLOCK);
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

std::string flag_values_name(const std::vector<std::string>& flags) {
    std::string name;
    for (const auto& part : flags) {
        if (part.rfind("--", 0) == 0) continue;
        name += (name.empty() ? "" : "_") + part;
    }
    return name;
}

std::string binary_path() {
    return C10K_BINARY;
}

ServerProcess::ServerProcess(std::vector<std::string> args) : ServerProcess(std::move(args), -1) {}

ServerProcess::ServerProcess(std::vector<std::string> args, int listener)
    : ServerProcess(binary_path(), std::move(args), listener) {}

ServerProcess::ServerProcess(const std::string& binary, std::vector<std::string> args,
                             int listener) {
    pid_ = spawn(args, output_fd_, listener, binary);
    static const std::regex ready(
        R"((serving|proxying to|relaying to) .* on (http|tcp)://(\[[^\]]+\]|[^ /]+):([0-9]+)/)");
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
        drain_output(100);
        std::smatch match;
        if (std::regex_search(output_, match, ready)) {
            port_ = std::stoi(match[4].str());
            return;
        }
        if (!running()) break;
    }
    std::string captured = output();
    stop(SIGKILL, 2000);
    throw std::runtime_error("c10k did not become ready; output:\n" + captured);
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) stop(SIGKILL, 5000);
    if (output_fd_ >= 0) ::close(output_fd_);
}

void ServerProcess::drain_output(int timeout_ms) {
    if (output_fd_ < 0) return;
    pollfd p{output_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
        if (n <= 0) break;
        output_.append(buffer, static_cast<std::size_t>(n));
    }
}

bool ServerProcess::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    exit_status_ = decode_status(status);
    pid_ = -1;
    return false;
}

int ServerProcess::stop(int signal, int timeout_ms) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, signal);
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
        drain_output(20);
        if (!running()) return exit_status_;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = -1;
    return -1;
}

std::string ServerProcess::output() {
    drain_output(0);
    return output_;
}

CommandResult run_command(std::vector<std::string> args, int timeout_ms) {
    return run_program(binary_path(), std::move(args), timeout_ms);
}

CommandResult run_program(const std::string& program, std::vector<std::string> args,
                          int timeout_ms) {
    CommandResult result;
    int output_fd = -1;
    pid_t pid = spawn(args, output_fd, -1, program);
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    bool exited = false;
    while (Clock::now() < deadline) {
        pollfd p{output_fd, POLLIN, 0};
        ::poll(&p, 1, 20);
        char buffer[4096];
        ssize_t n;
        while ((n = ::read(output_fd, buffer, sizeof buffer)) > 0) {
            result.output.append(buffer, static_cast<std::size_t>(n));
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            result.status = decode_status(status);
            exited = true;
            break;
        }
    }
    if (!exited) {
        // SIGTERM first, so that a script's exit trap stops the processes it started.
        ::kill(pid, SIGTERM);
        auto grace = Clock::now() + std::chrono::seconds(10);
        int status = 0;
        bool reaped = false;
        while (!reaped && Clock::now() < grace) {
            reaped = ::waitpid(pid, &status, WNOHANG) == pid;
            if (!reaped) ::poll(nullptr, 0, 50);
        }
        if (!reaped) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        result.status = -1;
    }
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(output_fd, buffer, sizeof buffer)) > 0) {
        result.output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(output_fd);
    return result;
}

TempDir::TempDir() {
    char pattern[] = "/tmp/c10k-test-XXXXXX";
    char* made = ::mkdtemp(pattern);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& relative, const std::string& contents) const {
    std::filesystem::path full = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream out(full, std::ios::binary);
    out << contents;
    return full.string();
}

std::uint64_t peak_rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
    }
    ADD_FAILURE() << "no VmHWM for " << pid;
    return 0;
}

}  // namespace c10k::test

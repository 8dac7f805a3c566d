#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace c10k::test {

namespace {

// Start-up is bounded by attempts, not asserted: a loaded machine may need many of them.
constexpr int kPingAttempts = 200;
constexpr int kPingPauseMs = 50;
constexpr int kPortAttempts = 5;

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::system_error(errno, std::generic_category(), "finding a free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

/// True when a server on 127.0.0.1:port answers PING.
bool answers_ping(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    bool pong = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
        pollfd ready{fd, POLLIN, 0};
        char reply[16] = {};
        if (::poll(&ready, 1, 5000) == 1 && ::recv(fd, reply, sizeof reply - 1, 0) >= 5) {
            // A server started with --requirepass answers, but refuses PING before AUTH.
            std::string_view answer(reply);
            pong = answer.starts_with("+PONG") || answer.starts_with("-NOAUTH");
        }
    }
    ::close(fd);
    return pong;
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
    char pattern[] = "c10k-redis-XXXXXX";
    std::string templ = (std::filesystem::temp_directory_path() / pattern).string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "making a directory for Redis");
    }
    directory_ = templ;
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
        port_ = free_port();
        if (start_once()) return;
    }
    std::string output = log();
    std::filesystem::remove_all(directory_);
    throw std::runtime_error("redis-server did not start:\n" + output);
}

RedisServer::~RedisServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

void RedisServer::restart() {
    stop();
    if (!start_once()) throw std::runtime_error("redis-server did not start again:\n" + log());
}

bool RedisServer::start_once() {
    std::vector<std::string> args = {
        "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save",  "",
        "--appendonly", "no",     "--daemonize",         "no",     "--dir",     directory_};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string log_path = directory_ + "/redis.log";
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
        int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (log_fd >= 0) {
            ::dup2(log_fd, STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
        }
        ::execvp("redis-server", argv.data());
        ::_exit(127);
    }
    for (int attempt = 0; attempt < kPingAttempts; ++attempt) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        if (answers_ping(port_)) return true;
        ::usleep(kPingPauseMs * 1000);
    }
    stop(SIGKILL);
    return false;
}

void RedisServer::stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

std::string RedisServer::log() const {
    std::ifstream file(directory_ + "/redis.log");
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace c10k::test

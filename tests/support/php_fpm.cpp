#include "support/php_fpm.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace c10k::test {

std::string php_fpm_binary() {
    if (const char* given = std::getenv("C10K_PHP_FPM"); given != nullptr && *given != '\0') {
        return given;
    }
    for (const char* directory : {"/usr/sbin", "/usr/bin", "/usr/local/sbin"}) {
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
            std::string name = entry.path().filename().string();
            if (name.starts_with("php-fpm") && ::access(entry.path().c_str(), X_OK) == 0) {
                return entry.path().string();
            }
        }
    }
    return {};
}

PhpFpm::PhpFpm() : socket_(dir_.path() + "/fpm.sock") {
    dir_.write("fpm.conf",
               "[global]\n"
               "error_log = " +
                   dir_.path() +
                   "/fpm.log\n"
                   "daemonize = no\n"
                   "[www]\n"
                   "listen = " +
                   socket_ +
                   "\n"
                   "pm = static\n"
                   "pm.max_children = 2\n"
                   // The workers' stderr (error_log() in a script) goes to fpm.log.
                   "catch_workers_output = yes\n"
                   // PHP's default of 8 MiB would cut the bodies of the upload tests short.
                   "php_admin_value[post_max_size] = 64M\n");
}

PhpFpm::~PhpFpm() {
    stop();
}

void PhpFpm::start() {
    std::string binary = php_fpm_binary();
    ASSERT_FALSE(binary.empty())
        << "php-fpm is not installed (scripts/install-deps.sh installs it)";
    std::string config = dir_.path() + "/fpm.conf";
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
        std::string out = dir_.path() + "/fpm.out";
        FILE* f = std::freopen(out.c_str(), "a", stdout);
        (void)f;
        ::dup2(STDOUT_FILENO, STDERR_FILENO);
        // -n: no php.ini, PHP's defaults whatever the machine has; -R: allowed as root.
        std::vector<const char*> argv{binary.c_str(), "-n", "-y", config.c_str(), "-F"};
        if (::geteuid() == 0) argv.push_back("-R");
        argv.push_back(nullptr);
        ::execv(binary.c_str(), const_cast<char* const*>(argv.data()));
        ::_exit(127);
    }
    for (int i = 0; i < 1000; ++i) {
        struct stat info {};
        if (::stat(socket_.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) return;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            FAIL() << "php-fpm exited at start:\n" << log();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "php-fpm did not open its socket within 10 s:\n" << log();
}

void PhpFpm::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 1000; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

PhpSite::PhpSite(std::vector<std::string> extra) {
    root.write("index.html", "files\n");
    root.write("page.php",
               "<?php header('X-Page: yes'); header('Content-Type: text/plain');\n"
               "echo 'hello ', $_GET['x'] ?? '', ' ', $_SERVER['SCRIPT_NAME'], ' ',\n"
               "     $_SERVER['PATH_INFO'] ?? '', ' ', $_SERVER['SCRIPT_FILENAME'], \"\\n\";\n");
    fpm.start();
    std::vector<std::string> args{
        "serve",     "--root", root.path(), "--listen",           "127.0.0.1:0",
        "--threads", "1",      "--fastcgi", "/=" + fpm.address(), "--fastcgi-max-connections",
        "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    server = std::make_unique<ServerProcess>(args);
}

std::string PhpFpm::log() const {
    std::string text;
    for (const char* name : {"/fpm.out", "/fpm.log"}) {
        std::ifstream in(dir_.path() + name);
        std::stringstream buffer;
        buffer << in.rdbuf();
        text += buffer.str();
    }
    return text;
}

}  // namespace c10k::test

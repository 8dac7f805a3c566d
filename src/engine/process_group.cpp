#include "engine/process_group.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace c10k::engine {

core::Result<ChildProcess> spawn_child(const std::function<int()>& body) {
    std::fflush(nullptr);  // or the child would write the parent's buffered output again
    pid_t pid = ::fork();
    if (pid < 0) return core::last_errno();
    if (pid == 0) {
        int status = 1;
        try {
            status = body();
        } catch (const std::exception& e) {
            core::log(core::LogLevel::error, "child {}: {}", ::getpid(), e.what());
        }
        std::fflush(nullptr);
        ::_exit(status);  // no atexit handlers or destructors of the parent's objects
    }
    ChildProcess child;
    child.pid = pid;
    child.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!child.pidfd) {
        int error = errno;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return core::Errno{error};
    }
    return child;
}

bool reap_child(ChildProcess& child, int& status) {
    int raw = 0;
    pid_t done = ::waitpid(child.pid, &raw, WNOHANG);
    if (done != child.pid) return false;
    status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + (WIFSIGNALED(raw) ? WTERMSIG(raw) : 0);
    child.pidfd.reset();
    child.pid = -1;
    return true;
}

bool wait_children(std::vector<ChildProcess>& children, std::int64_t deadline_ms) {
    bool all_clean = true;
    std::vector<pollfd> waits;
    for (;;) {
        waits.clear();
        for (auto& child : children) {
            int status = 0;
            if (child.pid < 0) continue;
            if (reap_child(child, status)) {
                if (status != 0) all_clean = false;
                continue;
            }
            waits.push_back(pollfd{child.pidfd.get(), POLLIN, 0});
        }
        if (waits.empty()) break;
        std::int64_t left = deadline_ms - core::monotonic_ms();
        if (left <= 0) {
            for (auto& child : children) {
                if (child.pid < 0) continue;
                ::kill(child.pid, SIGKILL);
                ::waitpid(child.pid, nullptr, 0);
                child.pid = -1;
                child.pidfd.reset();
                all_clean = false;
            }
            break;
        }
        ::poll(waits.data(), waits.size(), static_cast<int>(std::min<std::int64_t>(left, 1000)));
    }
    children.erase(std::remove_if(children.begin(), children.end(),
                                  [](const ChildProcess& c) { return c.pid < 0; }),
                   children.end());
    return all_clean;
}

int run_process_group(int processes, const std::string& name, const ServerConfig& config,
                      const HandlerFactory& handlers, ListenerSet& listeners, StopSource& stop) {
    std::vector<ChildProcess> children;
    for (int i = 0; i < processes; ++i) {
        auto child = spawn_child([&, i]() -> int {
            auto engine = create(name);
            if (!engine) return 2;
            if (i > 0) {
                // This process's copy of the set still offers the sockets opened at start,
                // which child 0 serves. Taking them here (and dropping them) makes every loop
                // of this process bind its own SO_REUSEPORT socket on the same concrete port,
                // so that each process has its own accept queue and the kernel spreads new
                // connections over them. (Engines that share one listener, like thread and
                // fork, keep accepting on the shared socket.)
                auto taken = listeners.for_loop();
                (void)taken;
            }
            return engine->run(config, handlers, listeners, stop);
        });
        if (!child) {
            core::log(core::LogLevel::error, "cannot start server process {}: {}", i,
                      std::strerror(child.error()));
            stop.request();
            break;
        }
        children.push_back(std::move(child.value()));
    }
    // Supervise: a child that dies early is reported (its share of connections then goes to
    // the others only when the kernel stops hashing to its closed listener, i.e. at once).
    bool all_clean = true;
    while (!stop.requested() && !children.empty()) {
        std::vector<pollfd> waits{{stop.fd(), POLLIN, 0}};
        for (auto& child : children) waits.push_back(pollfd{child.pidfd.get(), POLLIN, 0});
        if (::poll(waits.data(), waits.size(), -1) < 0 && errno != EINTR) break;
        for (std::size_t i = 1; i < waits.size(); ++i) {
            if (!(waits[i].revents & POLLIN)) continue;
            ChildProcess& child = children[i - 1];
            pid_t pid = child.pid;
            int status = 0;
            if (reap_child(child, status)) {
                if (status != 0) all_clean = false;
                core::log(core::LogLevel::warn, "server process {} exited with status {}", pid,
                          status);
            }
        }
        children.erase(std::remove_if(children.begin(), children.end(),
                                      [](const ChildProcess& c) { return c.pid < 0; }),
                       children.end());
    }
    // Children saw the same stop; give them their grace period and a second more.
    std::int64_t deadline = core::monotonic_ms() + config.shutdown_grace_ms + 1000;
    if (!wait_children(children, deadline)) all_clean = false;
    return all_clean ? 0 : 1;
}

}  // namespace c10k::engine

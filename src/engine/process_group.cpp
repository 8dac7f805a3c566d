#include "engine/process_group.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/reopen.hpp"

namespace c10k::engine {

namespace {

/// A child that dies this soon after its start is replaced only after this pause, so that a
/// child that cannot start does not become a fork loop.
constexpr std::int64_t kRestartPauseMs = 1000;

}  // namespace

core::Result<ChildProcess> spawn_child(const std::function<int()>& body) {
    std::fflush(nullptr);  // or the child would write the parent's buffered output again
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return core::last_errno();
    if (pid == 0) {
        // No child outlives its supervisor: if the parent dies, even by SIGKILL, the kernel
        // sends this child SIGTERM, which a server process's child takes as its stop (blocked,
        // it cannot kill it). A parent that died before this line is caught by the check.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::kill(::getpid(), SIGTERM);
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

bool stop_children(std::vector<ChildProcess>& children, const StopSource& stop,
                   std::int64_t grace_ms) {
    for (const auto& child : children) stop.pass_on(child.pid);
    return wait_children(children, core::monotonic_ms() + grace_ms + 1000);
}

int supervise_children(int count, const std::function<int(int slot)>& body, std::string_view what,
                       std::int64_t grace_ms, StopSource& stop, Heartbeat heartbeat) {
    struct Slot {
        ChildProcess child;
        std::int64_t started_ms = 0;
        std::int64_t restart_at_ms = 0;  ///< when an empty slot gets its next child
    };
    auto start = [&](int slot) { return spawn_child([&body, slot] { return body(slot); }); };
    std::vector<Slot> slots(static_cast<std::size_t>(std::max(count, 0)));
    for (std::size_t i = 0; i < slots.size(); ++i) {
        auto child = start(static_cast<int>(i));
        if (!child) {
            core::log(core::LogLevel::error, "cannot start {} {}: {}", what, i,
                      std::strerror(child.error()));
            stop.request();
            break;
        }
        slots[i].child = std::move(child.value());
        slots[i].started_ms = core::monotonic_ms();
    }
    bool all_clean = true;
    std::vector<pollfd> waits;
    // stop.requested() covers a request made here (a child that could not start); a signal
    // shows only on the descriptor.
    while (!stop.requested()) {
        heartbeat.tick(core::monotonic_ms());
        waits.clear();
        waits.push_back(pollfd{stop.fd(), POLLIN, 0});
        bool empty_slot = false;
        for (auto& slot : slots) {
            // poll() ignores a negative descriptor: an empty slot waits for its time instead.
            waits.push_back(pollfd{slot.child.pid > 0 ? slot.child.pidfd.get() : -1, POLLIN, 0});
            if (slot.child.pid <= 0) empty_slot = true;
        }
        std::int64_t wait = heartbeat.until_next(core::monotonic_ms());
        if (empty_slot && (wait < 0 || wait > 100)) wait = 100;
        if (::poll(waits.data(), waits.size(), static_cast<int>(wait)) < 0 && errno != EINTR) {
            break;
        }
        if (waits[0].revents & POLLIN) break;
        // SIGUSR1 reopened this process's logs; each child holds its own descriptors.
        if (core::take_reopen_request()) {
            for (auto& slot : slots) {
                if (slot.child.pid > 0) ::kill(slot.child.pid, SIGUSR1);
            }
        }
        std::int64_t now = core::monotonic_ms();
        for (std::size_t i = 0; i < slots.size(); ++i) {
            Slot& slot = slots[i];
            if (slot.child.pid > 0) {
                pid_t pid = slot.child.pid;
                int status = 0;
                if (!reap_child(slot.child, status)) continue;
                if (status != 0) all_clean = false;
                core::log(status == 0 ? core::LogLevel::info : core::LogLevel::warn,
                          "{} {} exited with status {}; starting another", what, pid, status);
                bool early = now - slot.started_ms < kRestartPauseMs;
                slot.restart_at_ms = early ? now + kRestartPauseMs : now;
            }
            if (now < slot.restart_at_ms) continue;
            auto replacement = start(static_cast<int>(i));
            if (!replacement) {
                // Tried again at the next wake-up (at most 100 ms away while a slot is empty).
                slot.restart_at_ms = now;
                continue;
            }
            slot.child = std::move(replacement.value());
            slot.started_ms = now;
        }
    }
    heartbeat.stop_seen();
    std::vector<ChildProcess> children;
    for (auto& slot : slots) {
        if (slot.child.pid > 0) children.push_back(std::move(slot.child));
    }
    if (!stop_children(children, stop, grace_ms)) all_clean = false;
    return all_clean ? 0 : 1;
}

int run_process_group(int processes, const std::string& name, const ServerConfig& config,
                      const HandlerFactory& handlers, ListenerSet& listeners, StopSource& stop,
                      const std::function<void(int process)>& in_child,
                      const std::function<void(int process)>& at_child_stop) {
    return run_process_group(
        processes, [&name] { return create(name); }, config, handlers, listeners, stop, in_child,
        at_child_stop);
}

int run_process_group(int processes, const EngineFactory& make_engine, const ServerConfig& config,
                      const HandlerFactory& handlers, ListenerSet& listeners, StopSource& stop,
                      const std::function<void(int process)>& in_child,
                      const std::function<void(int process)>& at_child_stop) {
    // Every process's sockets are opened here, before any fork, and this process keeps them:
    // a replacement child finds its predecessor's accept queues, and a handover passes them
    // all on. Engines whose workers share one queue share the first set across processes.
    {
        auto probe = make_engine();
        bool per_loop = probe && probe->listens_per_loop();
        listeners.prepare(per_loop ? static_cast<std::size_t>(processes) : 1,
                          per_loop ? static_cast<std::size_t>(std::max(config.threads, 1)) : 1);
    }
    auto serve = [&](int slot) -> int {
        auto engine = make_engine();
        if (!engine) return 2;
        // Child `slot` serves its own sets of sockets (each process its own accept queues, so
        // that the kernel spreads new connections over them) and closes the others' copies.
        // (Engines that share one listener, like thread and fork, all accept on the first.)
        listeners.assign_process(static_cast<std::size_t>(slot));
        if (in_child) in_child(slot);
        // The engine waits on this process's copy of `stop`: the stop this process passes on
        // at the end, or a SIGTERM sent to this child alone. It does not beat: the supervisor
        // does, as the process systemd watches. At its stop it closes its copies of the
        // sockets, so that new clients go to the others (or are refused) at once.
        ServerConfig mine = config;
        mine.heartbeat = {};
        mine.heartbeat.stopping = [&listeners, &at_child_stop, slot] {
            listeners.close_all();
            if (at_child_stop) at_child_stop(slot);
        };
        return engine->run(mine, handlers, listeners, stop);
    };
    // A child that exits is replaced rather than left out: child 0 serves the listeners this
    // process keeps open, whose accept queue would otherwise fill with clients nobody takes.
    return supervise_children(processes, serve, "server process", config.shutdown_grace_ms, stop,
                              config.heartbeat);
}

}  // namespace c10k::engine

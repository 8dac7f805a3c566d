#include "core/sd_notify.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <string>

#include <fmt/core.h>

namespace c10k::core {

namespace {

/// sd_notify's answer as a Result: > 0 sent, 0 nowhere to send (no $NOTIFY_SOCKET), < 0 -errno.
/// The environment is kept (unset_environment = 0): later notifications need it too.
Result<void> send(const std::string& state) {
    int rc = sd_notify(0, state.c_str());
    if (rc < 0) return Errno{-rc};
    return {};
}

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(now.tv_nsec) / 1'000u;
}

}  // namespace

Result<void> notify_ready() {
    return send("READY=1");
}

Result<void> notify_reloading() {
    return send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
}

Result<void> notify_stopping() {
    return send("STOPPING=1");
}

Result<void> notify_status(std::string_view text) {
    std::string state = fmt::format("STATUS={}", text);
    std::replace(state.begin(), state.end(), '\n', ' ');
    return send(state);
}

Result<void> notify_mainpid(pid_t pid) {
    return send(fmt::format("MAINPID={}", pid));
}

std::uint64_t watchdog_interval_ms() {
    std::uint64_t usec = 0;
    // > 0: on for this process; 0: off or WATCHDOG_PID names another process; < 0: malformed
    // variables, which is treated as off rather than as a reason to refuse to start.
    if (sd_watchdog_enabled(0, &usec) <= 0) return 0;
    return std::max<std::uint64_t>(usec / 1000, 1);
}

Result<void> notify_watchdog() {
    return send("WATCHDOG=1");
}

Result<std::vector<InheritedListener>> listen_fds() {
    // unset_environment = 1: a child the server starts must not take these descriptors for its
    // own. sd_listen_fds also marks them close-on-exec.
    int count = sd_listen_fds(1);
    if (count < 0) return Errno{-count};
    std::vector<InheritedListener> listeners;
    listeners.reserve(static_cast<std::size_t>(count));
    // Own every descriptor first, so that all are closed if one of them is refused.
    for (int i = 0; i < count; ++i) {
        listeners.push_back(InheritedListener{unique_fd(SD_LISTEN_FDS_START + i), {}});
    }
    for (auto& listener : listeners) {
        // listening = 1: an accepted connection or a socket never listened on is not a listener.
        int rc = sd_is_socket(listener.fd.get(), AF_UNSPEC, SOCK_STREAM, 1);
        if (rc < 0) return Errno{-rc};
        if (rc == 0) return Errno{ENOTSOCK};
        auto endpoint = local_endpoint(listener.fd.get());
        if (!endpoint) return Errno{endpoint.error()};
        if (endpoint->family() != AF_INET && endpoint->family() != AF_INET6) {
            return Errno{EAFNOSUPPORT};
        }
        listener.endpoint = *endpoint;
    }
    return listeners;
}

}  // namespace c10k::core

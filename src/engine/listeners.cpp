#include "engine/listeners.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

namespace c10k::engine {

ListenerSet::ListenerSet(std::vector<core::unique_fd> inherited,
                         const std::vector<core::Endpoint>& endpoints, int backlog)
    : ListenerSet(endpoints, backlog) {
    std::vector<core::Endpoint> all;
    std::vector<core::unique_fd> first;
    for (auto& fd : inherited) {
        // systemd passes blocking sockets unless the unit says NonBlocking=yes; every engine
        // accepts until EAGAIN, and a blocking accept would stall a loop whose neighbour took
        // the connection first.
        int flags = ::fcntl(fd.get(), F_GETFL);
        if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
            throw std::runtime_error(fmt::format("an inherited listener (descriptor {}): {}",
                                                 fd.get(), std::strerror(errno)));
        }
        auto bound = core::local_endpoint(fd.get());
        if (!bound) {
            throw std::runtime_error(fmt::format("an inherited listener (descriptor {}): {}",
                                                 fd.get(), std::strerror(bound.error())));
        }
        all.push_back(*bound);
        first.push_back(std::move(fd));
    }
    inherited_ = first.size();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        all.push_back(endpoints_[i]);
        first.push_back(std::move(first_[i]));
    }
    endpoints_ = std::move(all);
    first_ = std::move(first);
}

ListenerSet::ListenerSet(const std::vector<core::Endpoint>& endpoints, int backlog)
    : backlog_(backlog) {
    core::ListenOptions options;
    options.backlog = backlog;
    for (const auto& endpoint : endpoints) {
        // SO_REUSEPORT would let this server silently share a port with another process of the
        // same user. A plain bind first tells whether anyone holds the port.
        if (endpoint.port() != 0) {
            core::ListenOptions probe = options;
            probe.reuse_port = false;
            auto held = core::listen_on(endpoint, probe);
            if (!held && held.error() == EADDRINUSE) {
                throw std::runtime_error(fmt::format(
                    "cannot listen on {}: address already in use (another server is using it: "
                    "pick another port)",
                    endpoint.to_string()));
            }
        }
        auto fd = core::listen_on(endpoint, options);
        if (!fd) {
            std::string hint;
            if (fd.error() == EADDRINUSE) hint = " (another server is using it: pick another port)";
            // (also reached when the port was taken between the probe and this bind)
            if (fd.error() == EACCES) hint = " (ports below 1024 need privileges)";
            if (fd.error() == EADDRNOTAVAIL)
                hint = " (no interface on this machine has that address)";
            throw std::runtime_error(fmt::format("cannot listen on {}: {}{}", endpoint.to_string(),
                                                 std::strerror(fd.error()), hint));
        }
        auto bound = core::local_endpoint(fd->get());
        endpoints_.push_back(bound ? *bound : endpoint);
        first_.push_back(std::move(fd.value()));
    }
}

core::Result<std::vector<core::unique_fd>> ListenerSet::for_loop() {
    std::vector<core::unique_fd> result;
    if (!first_taken_) {
        first_taken_ = true;
        for (auto& fd : first_) result.emplace_back(::dup(fd.get()));
        for (auto& fd : result) {
            if (!fd) return core::last_errno();
        }
        return result;
    }
    core::ListenOptions options;
    options.backlog = backlog_;
    std::size_t count = endpoints_.size();
    if (secondary_) count -= std::min(count, first_only_count_);
    for (std::size_t i = 0; i < count; ++i) {
        if (i < inherited_) {
            result.emplace_back(::dup(first_[i].get()));
            if (!result.back()) return core::last_errno();
            continue;
        }
        const auto& endpoint = endpoints_[i];
        auto fd = core::listen_on(endpoint, options);
        if (!fd) return core::Errno{fd.error()};
        result.push_back(std::move(fd.value()));
    }
    return result;
}

std::vector<int> ListenerSet::shared() const {
    std::vector<int> fds;
    for (const auto& fd : first_) fds.push_back(fd.get());
    return fds;
}

}  // namespace c10k::engine

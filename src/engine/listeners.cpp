#include "engine/listeners.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

namespace c10k::engine {

namespace {

/// Binds one more SO_REUSEPORT socket to `endpoint`, throwing with a clear message.
core::unique_fd bind_more(const core::Endpoint& endpoint, const core::ListenOptions& options) {
    auto fd = core::listen_on(endpoint, options);
    if (!fd) {
        throw std::runtime_error(fmt::format("cannot open another listener on {}: {}",
                                             endpoint.to_string(), std::strerror(fd.error())));
    }
    return std::move(fd.value());
}

/// The same address, or for an endpoint that asks for port 0 the same host on any port.
bool same_address(const core::Endpoint& wanted, const core::Endpoint& bound) {
    if (wanted.port() != 0) return wanted.to_string() == bound.to_string();
    std::string text = bound.to_string();
    std::string wanted_text = wanted.to_string();
    // "HOST:PORT" / "[V6]:PORT": compare what comes before the last colon.
    return text.substr(0, text.rfind(':')) == wanted_text.substr(0, wanted_text.rfind(':'));
}

/// The set's own sockets are SO_REUSEPORT and non-blocking whatever the caller passed: every
/// loop binds its own, and every engine accepts until EAGAIN.
core::ListenOptions set_options(const core::ListenOptions& given) {
    core::ListenOptions options = given;
    options.reuse_port = true;
    options.nonblocking = true;
    return options;
}

/// Sets the buffers on a socket that listens already (inherited, or passed on at a handover).
void apply_buffers(int fd, const core::SocketBuffers& buffers) {
    if (auto set = core::apply_socket_buffers(fd, buffers); !set) {
        throw std::runtime_error(fmt::format("setting the socket buffers of listener {}: {}", fd,
                                             std::strerror(set.error())));
    }
}

}  // namespace

ListenerSet::ListenerSet(std::vector<core::unique_fd> inherited,
                         const std::vector<core::Endpoint>& endpoints,
                         const core::ListenOptions& options)
    : ListenerSet(endpoints, options) {
    std::vector<core::Endpoint> all;
    Set first;
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
        apply_buffers(fd.get(), options_.buffers);
        all.push_back(*bound);
        first.push_back(std::move(fd));
    }
    std::vector<bool> shared(first.size(), true);
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        all.push_back(endpoints_[i]);
        first.push_back(std::move(sets_[0][i]));
        shared.push_back(false);
    }
    endpoints_ = std::move(all);
    shared_ = std::move(shared);
    sets_[0] = std::move(first);
    spare_.clear();
    spare_.resize(endpoints_.size());
}

ListenerSet::ListenerSet(std::vector<core::InheritedSocket> handed,
                         const std::vector<core::Endpoint>& endpoints,
                         std::vector<std::string>& messages, const core::ListenOptions& options)
    : options_(set_options(options)) {
    Set first;
    std::vector<core::Endpoint> unbound;
    std::vector<std::size_t> unbound_index;
    spare_.resize(endpoints.size());
    shared_.assign(endpoints.size(), false);
    endpoints_ = endpoints;
    first.resize(endpoints.size());
    std::vector<bool> taken(handed.size(), false);
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        // Exact addresses may have moved in the list; port 0 keeps its place.
        for (std::size_t k = 0; k < handed.size(); ++k) {
            if (taken[k] || !same_address(endpoints[i], handed[k].address)) continue;
            if (endpoints[i].port() == 0 && handed[k].endpoint != i) continue;
            // Every socket of one predecessor endpoint goes to this endpoint.
            std::size_t from = handed[k].endpoint;
            for (std::size_t m = k; m < handed.size(); ++m) {
                if (taken[m] || handed[m].endpoint != from) continue;
                taken[m] = true;
                apply_buffers(handed[m].fd.get(), options_.buffers);
                if (!first[i]) {
                    first[i] = std::move(handed[m].fd);
                    shared_[i] = handed[m].shared;
                    endpoints_[i] = handed[m].address;
                } else if (!shared_[i]) {
                    spare_[i].push_back(std::move(handed[m].fd));
                }
            }
            break;
        }
        if (!first[i]) {
            unbound.push_back(endpoints[i]);
            unbound_index.push_back(i);
        }
    }
    for (std::size_t k = 0; k < handed.size(); ++k) {
        if (taken[k]) continue;
        messages.push_back(fmt::format("no longer listening on {} (not in the configuration)",
                                       handed[k].address.to_string()));
        handed[k].fd.reset();
    }
    if (!unbound.empty()) {
        ListenerSet fresh(unbound, options_);
        for (std::size_t j = 0; j < unbound.size(); ++j) {
            first[unbound_index[j]] = std::move(fresh.sets_[0][j]);
            endpoints_[unbound_index[j]] = fresh.endpoints_[j];
            messages.push_back(
                fmt::format("now listening on {} too", fresh.endpoints_[j].to_string()));
        }
    }
    sets_.push_back(std::move(first));
}

ListenerSet::ListenerSet(const std::vector<core::Endpoint>& endpoints,
                         const core::ListenOptions& given)
    : options_(set_options(given)) {
    const core::ListenOptions& options = options_;
    Set first;
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
        first.push_back(std::move(fd.value()));
    }
    shared_.assign(endpoints_.size(), false);
    spare_.clear();
    spare_.resize(endpoints_.size());
    sets_.push_back(std::move(first));
}

void ListenerSet::register_set(const Set& set) const {
    for (std::size_t i = 0; i < set.size(); ++i) {
        if (set[i]) core::handover_register(set[i].get(), i, shared_[i]);
    }
}

void ListenerSet::open_set(std::size_t process) {
    std::size_t count = endpoints_.size();
    if (process > 0) count -= std::min(count, first_only_count_);
    Set set;
    for (std::size_t i = 0; i < count; ++i) {
        if (shared_[i]) {
            set.emplace_back();
        } else if (!spare_[i].empty()) {
            set.push_back(std::move(spare_[i].front()));
            spare_[i].erase(spare_[i].begin());
        } else {
            set.push_back(bind_more(endpoints_[i], options_));
        }
    }
    register_set(set);
    sets_.push_back(std::move(set));
}

void ListenerSet::prepare(std::size_t processes, std::size_t loops) {
    if (loops_per_process_ != 0) return;
    register_set(sets_[0]);
    loops_per_process_ = std::max<std::size_t>(loops, 1);
    std::size_t total = std::max<std::size_t>(processes, 1) * loops_per_process_;
    while (sets_.size() < total) open_set(sets_.size() / loops_per_process_);
    // What a predecessor with more loops passed beyond these: no loop here would accept it.
    for (auto& spares : spare_) spares.clear();
}

void ListenerSet::assign_process(std::size_t process) {
    if (loops_per_process_ == 0) return;
    next_ = process * loops_per_process_;
    if (sets_.size() <= 1) return;  // one queue shared by every process (shared())
    for (std::size_t k = 0; k < sets_.size(); ++k) {
        if (k / loops_per_process_ == process) continue;
        // The first set's shared sockets stay: every loop of every process dups them.
        for (std::size_t i = 0; i < sets_[k].size(); ++i) {
            if (k != 0 || !shared_[i]) sets_[k][i].reset();
        }
    }
}

core::Result<std::vector<core::unique_fd>> ListenerSet::for_loop() {
    if (next_ >= sets_.size()) {
        try {
            open_set(loops_per_process_ == 0 ? 0 : next_ / loops_per_process_);
        } catch (const std::runtime_error&) {
            return core::last_errno();
        }
        next_ = sets_.size() - 1;
    }
    const Set& set = sets_[next_++];
    std::vector<core::unique_fd> result;
    for (std::size_t i = 0; i < set.size(); ++i) {
        result.emplace_back(::dup(shared_[i] ? sets_[0][i].get() : set[i].get()));
        if (!result.back()) return core::last_errno();
    }
    return result;
}

std::vector<int> ListenerSet::shared() const {
    std::vector<int> fds;
    for (const auto& fd : sets_[0]) fds.push_back(fd.get());
    return fds;
}

void ListenerSet::close_all() {
    core::handover_close();
    sets_.clear();
    sets_.emplace_back();  // shared() and for_loop stay callable, with nothing in them
    for (auto& spares : spare_) spares.clear();
}

}  // namespace c10k::engine

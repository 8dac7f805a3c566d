#include "bench/layout.hpp"

#include <netinet/in.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>

#include <fmt/core.h>

namespace c10k::bench {
namespace {

bool is_ipv4_loopback(const core::Endpoint& endpoint) {
    if (endpoint.family() != AF_INET) return false;
    const auto& address = reinterpret_cast<const sockaddr_in&>(endpoint.address);
    return (ntohl(address.sin_addr.s_addr) >> 24) == 127;
}

std::uint64_t divide_up(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

}  // namespace

LoopPlan plan_loops(const BenchOptions& options, const std::vector<Target>& targets,
                    std::uint64_t fd_limit, std::uint32_t port_budget) {
    LoopPlan plan;
    std::uint64_t total = std::uint64_t{options.connections} + options.idle;
    std::uint64_t capacity = fd_limit > 2 * reserved_descriptors ? fd_limit - reserved_descriptors
                                                                 : fd_limit / 2;
    capacity = std::max<std::uint64_t>(capacity, 1);
    std::uint64_t processes = options.processes != 0 ? options.processes
                                                     : std::max<std::uint64_t>(1, divide_up(total, capacity));
    if (divide_up(total, processes) > capacity) {
        plan.warnings.push_back(fmt::format(
            "{} processes cannot hold {} connections at {} descriptors each; some will fail",
            processes, total, capacity));
    }
    std::uint64_t per_process = std::max<std::uint64_t>(1, divide_up(options.threads, processes));
    std::uint64_t loops = processes * per_process;
    plan.layout.processes = static_cast<std::uint32_t>(processes);
    plan.layout.threads = static_cast<std::uint32_t>(loops);
    plan.loops_per_process = static_cast<std::uint32_t>(per_process);
    plan.loops.resize(loops);

    // Connections per destination decide whether one source address has enough ports.
    std::vector<std::uint64_t> per_target(targets.size(), 0);
    for (std::uint64_t i = 0; i < options.connections; ++i) per_target[i % targets.size()]++;
    for (std::uint64_t i = 0; i < options.idle; ++i) per_target[i % targets.size()]++;
    std::vector<bool> spread(targets.size(), false);
    std::uint32_t sources = 1;
    for (std::size_t t = 0; t < targets.size(); ++t) {
        if (per_target[t] <= port_budget) continue;
        if (is_ipv4_loopback(targets[t].endpoint)) {
            spread[t] = true;
            sources = std::max<std::uint32_t>(
                sources, static_cast<std::uint32_t>(divide_up(per_target[t], port_budget)));
        } else {
            plan.warnings.push_back(fmt::format(
                "{} connections to {} exceed the {} ephemeral ports of one source address; extra "
                "source addresses are only used for 127.0.0.0/8 destinations",
                per_target[t], targets[t].url, port_budget));
        }
    }
    plan.layout.source_addresses = sources;

    std::vector<std::uint64_t> ordinal(targets.size(), 0);
    auto assign = [&](std::uint64_t global, std::uint64_t deal, bool idle) {
        ConnectionSpec spec;
        spec.global_index = static_cast<std::uint32_t>(global);
        spec.target = static_cast<std::uint32_t>(global % targets.size());
        spec.idle = idle;
        std::uint64_t k = ordinal[spec.target]++;
        // 127.0.0.1, 127.0.0.2, ...: each takes a contiguous block of port_budget connections.
        if (spread[spec.target]) spec.source = static_cast<std::uint32_t>(0x7f000001 + k / port_budget);
        plan.loops[deal % loops].push_back(spec);
    };
    for (std::uint64_t i = 0; i < options.connections; ++i) assign(i, i, false);
    for (std::uint64_t i = 0; i < options.idle; ++i) assign(i, options.connections + i, true);
    return plan;
}

std::uint64_t raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? 1'000'000 : limit.rlim_cur;
}

std::uint32_t ephemeral_port_budget() {
    std::ifstream file("/proc/sys/net/ipv4/ip_local_port_range");
    std::uint32_t low = 32768, high = 60999;
    file >> low >> high;
    std::uint32_t ports = high >= low ? high - low + 1 : 28232;
    // Only a quarter of the range: connect() searches for a free port by walking the range from
    // a random offset, even ports first (odd ones are kept for bind). Once the even half is
    // nearly full every connect walks thousands of ports (measured: 100,000 connects over 4
    // source addresses took 110 s of kernel time). At a quarter, a connect probes a few ports.
    return std::max<std::uint32_t>(ports / 4, 1000);
}

}  // namespace c10k::bench

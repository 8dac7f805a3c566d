#pragma once
// How a run is spread out: which loop (thread) in which worker process owns which connection,
// and which source address each connection binds. Pure computation, so that the scale rules
// (descriptor limit, ephemeral ports) can be tested without opening 100,000 sockets.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/client_loop.hpp"
#include "bench/options.hpp"
#include "bench/runner.hpp"
#include "bench/target.hpp"

namespace c10k::bench {

struct LoopPlan {
    RunLayout layout;
    /// One entry per loop, process by process: loops [p * per_process, (p + 1) * per_process)
    /// belong to process p.
    std::vector<std::vector<ConnectionSpec>> loops;
    std::uint32_t loops_per_process = 1;
    std::vector<std::string> warnings;
};

/// Descriptors a loop process keeps for itself (epoll, pipes, stdio, /proc files).
inline constexpr std::uint64_t reserved_descriptors = 64;

/// Spreads connections over processes and loops. `fd_limit` is what one process may open;
/// `port_budget` how many connections one source address may make to one destination.
/// Connections are dealt round-robin so that each loop's share of the schedule is as evenly
/// spaced as the whole.
LoopPlan plan_loops(const BenchOptions& options, const std::vector<Target>& targets,
                    std::uint64_t fd_limit, std::uint32_t port_budget);

/// Raises the soft RLIMIT_NOFILE to the hard one and returns it.
std::uint64_t raise_descriptor_limit();

/// Connections to one destination that one source address can make cheaply: a quarter of
/// ip_local_port_range (see layout.cpp for why not all of it).
std::uint32_t ephemeral_port_budget();

}  // namespace c10k::bench

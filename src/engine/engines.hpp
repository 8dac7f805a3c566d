#pragma once
// Constructors of the engines, one per engine file; the registry (registry.cpp) lists them.

#include <memory>
#include <string>

#include "engine/engine.hpp"

namespace c10k::engine {

std::unique_ptr<Engine> make_epoll_engine();
std::unique_ptr<Engine> make_epoll_lt_engine();
std::unique_ptr<Engine> make_poll_engine();
std::unique_ptr<Engine> make_select_engine();
std::unique_ptr<Engine> make_sigio_engine();
std::unique_ptr<Engine> make_uring_engine();
std::unique_ptr<Engine> make_thread_engine();
std::unique_ptr<Engine> make_fork_engine();
std::unique_ptr<Engine> make_prefork_engine();
std::unique_ptr<Engine> make_staged_engine();

/// How many loops the thread engine numbers (LoopContext::loop_index) under `config`: its
/// acceptor's loop 0 and one per connection thread up to its cap. Handlers that keep per-loop
/// state in something process-wide (the push Registry) are sized with it before the engine runs.
std::size_t thread_engine_loops(const ServerConfig& config);

/// Empty when io_uring works here with everything the uring engine uses, else a sentence
/// saying why not. Setting C10K_URING_DISABLE=1 in the environment makes it fail as if
/// io_uring_setup returned EPERM (a test hook: that is what a sandbox or
/// kernel.io_uring_disabled=2 does).
std::string uring_unavailable_reason();

}  // namespace c10k::engine

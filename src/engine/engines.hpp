#pragma once
// Constructors of the engines, one per engine file; the registry (registry.cpp) lists them.

#include <memory>

#include "engine/engine.hpp"

namespace c10k::engine {

std::unique_ptr<Engine> make_epoll_engine();
std::unique_ptr<Engine> make_epoll_lt_engine();

}  // namespace c10k::engine

#pragma once

#include <memory>

#include "engine/poller.hpp"

namespace c10k::engine {

/// epoll(7), edge-triggered (EPOLLET, the default engine) or level-triggered (for comparison).
std::unique_ptr<Poller> make_epoll_poller(bool edge_triggered);

}  // namespace c10k::engine

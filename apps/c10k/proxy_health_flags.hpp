#pragma once
// `c10k proxy`'s health flags: active checks (--health-*) and passive ejection (--eject-*,
// --max-ejected). They belong to a pool's flag block, so that they become per-pool config keys
// when pools do.

#include <CLI/CLI.hpp>

#include "proxy/pool.hpp"

namespace c10k::app {

struct ProxyFlags;

void add_health_flags(CLI::App& command, ProxyFlags& flags);

/// Checks the health flags into `pool`. Throws std::runtime_error naming the flag at fault and
/// what it takes.
void parse_health(const ProxyFlags& flags, proxy::PoolSpec& pool);

}  // namespace c10k::app

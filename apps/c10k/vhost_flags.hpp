#pragma once
// `c10k serve --config FILE` with [[host]] tables (virtual hosts and their locations): the hosts
// the file describes (config/hosts.hpp) turned into a serve::HostRouter in front of the static
// handler, each distinct root opened once at start.

#include <string>

#include "config/hosts.hpp"
#include "engine/engine.hpp"
#include "push_flags.hpp"
#include "serve/static_files.hpp"

namespace c10k::app {

/// With `hosts`, the [[host]] tables of the config file `config_path` as its loading checked
/// them (AppliedConfig::hosts, config_keys.hpp), wraps `handlers` (the server's static handler,
/// serving `options.root`; push and WebSocket wrap the result afterwards) in a HostRouter:
/// each host and location with a root of its own gets a StaticFiles with `options` but that
/// root (one per distinct directory, its descriptor opened here and shared by every loop's
/// handler); a host without a root, and a location with push = true, go on to `handlers`.
/// Without hosts (no file, or a file without them), `handlers` stays as it is.
///
/// Push channels are served ahead of the router for every host (the push handler wraps it),
/// so a push location must lie under one of `push`'s prefixes, or contain one, to mean
/// anything: one that does not, or one while push is off, is refused.
///
/// Throws std::runtime_error with every problem, one per line, each "FILE:LINE: [host] root:
/// ..." (a root that cannot be opened) or "FILE:LINE: [host.location] push: ...", FILE being
/// `config_path`.
void enable_virtual_hosts(const std::string& config_path, const config::HostsConfig& hosts,
                          const serve::StaticOptions& options, const PushFlags& push,
                          engine::HandlerFactory& handlers);

}  // namespace c10k::app

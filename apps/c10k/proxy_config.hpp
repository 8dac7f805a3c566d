#pragma once
// `c10k proxy --config FILE`: the proxy's config file. [server] holds what `serve` has there
// (listeners, engine, timeouts, logs); [proxy] is the default pool, its keys the proxy's flags;
// each [[pool]] is a named pool with the same keys; each [[route]] sends the requests it
// matches to a pool, first match wins:
//
//     [proxy]
//     backend = ["127.0.0.1:9001", "127.0.0.1:9002"]
//
//     [[pool]]
//     name = "cgi"
//     backend = ["127.0.0.1:9101"]
//     balance = "least-outstanding"
//
//     [[route]]
//     path_prefix = "/cgi-bin/"
//     pool = "cgi"

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/keys.hpp"
#include "config/load.hpp"
#include "proxy_flags.hpp"

namespace c10k::app {

/// Every key `c10k proxy --config` accepts: [server] from the serve options the proxy has,
/// [proxy] from its pool flags, [[pool]] (name + the pool flags) and [[route]].
config::KeyTable proxy_key_table(const CLI::App& proxy);

/// The [[pool]] and [[route]] tables of a file (AppliedConfig::elements), turned into flags
/// and route conditions. Throws std::runtime_error with every problem, "FILE:LINE: ...".
ProxyLayout read_proxy_layout(const std::vector<config::Setting>& elements,
                              const std::string& path);

}  // namespace c10k::app
